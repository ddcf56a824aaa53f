#pragma once
// CurlClient: one HTTP request at a time per pooled libcurl easy handle, shared by the
// http:// and s3:// upstreams. Internal to forge_cache.
//
// - Each easy handle keeps at most one connection (CURLOPT_MAXCONNECTS 1), so the pool's
//   size bounds the connections to the upstream (Property 26).
// - perform() returns the HTTP status of any answer; transport failures are errors
//   (upstream.h lists the categories). A handle that failed is discarded, never reused.
// - GET bodies of a 2xx answer go to the request's sink; any other answer's first
//   k_error_body_limit bytes are kept for the error message.
// Thread-safe.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "forge/cache/connection_pool.h"
#include "forge/cache/upstream.h"

namespace forge::cache {

struct CurlRequest {
  enum class Method : std::uint8_t { get, head, put };
  Method method = Method::get;
  std::string url;
  std::vector<std::string> headers;
  const UploadBody* body = nullptr;  // put
  const BodySink* sink = nullptr;    // get
  std::string userpwd;               // "user:password" (basic auth, or the SigV4 key pair)
  std::string aws_sigv4;             // e.g. "aws:amz:us-east-1:s3": sign with SigV4
};

struct CurlResponse {
  long status = 0;
  std::string error_body;  // the start of a non-2xx body
};

inline constexpr std::size_t k_error_body_limit = 512;  // enough for an S3 <Error> element

class CurlClient {
 public:
  explicit CurlClient(const UpstreamOptions& options);
  ~CurlClient();
  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;

  Result<CurlResponse> perform(const CurlRequest& request);
  std::size_t live_connections() const { return m_pool.live(); }

 private:
  struct Handle;
  UpstreamOptions m_options;
  ConnectionPool<Handle> m_pool;
};

// The Error for an unexpected status (see upstream.h for the mapping).
Error status_error(const CurlResponse& response, std::string_view operation,
                   std::string_view where);

// Joins a base URL (no trailing slash) and path segments with '/'.
std::string join_url(std::string_view base, std::string_view space, std::string_view key);

}  // namespace forge::cache
