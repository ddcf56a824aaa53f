#pragma once
// CurlClient: one HTTP request at a time per pooled libcurl easy handle, shared by the
// http:// and s3:// upstreams. Internal to forge_cache.
//
// - Each easy handle keeps at most one connection (CURLOPT_MAXCONNECTS 1), so the pool's
//   size bounds the connections to the upstream (Property 26).
// - perform() returns the HTTP status of any answer; transport failures are errors
//   (upstream.h lists the categories). A handle that failed is discarded, never reused.
// - GET/POST bodies of a 2xx answer go to the request's sink; any other answer's first
//   k_error_body_limit bytes are kept for the error message.
// - keep_headers: the answer's headers and trailers (HTTP/2 trailers come through the same
//   callback), at most k_max_kept_headers of them, for gRPC's grpc-status.
// - TLS: UpstreamOptions' CA bundle and client certificate, on every request.
// Thread-safe.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "forge/cache/connection_pool.h"
#include "forge/cache/upstream.h"

namespace forge::cache {

// A request body produced piece by piece, its length unknown up front: read() fills the
// span and returns how many bytes it wrote (0: the end); restart() rewinds to the first
// byte (libcurl resends a request whose reused connection had died), false if it cannot.
// Fills `into` with the upload body's bytes from `offset` (from memory, or pread from its
// file). A file shorter than the body's size is an error naming `forge cache verify`.
Result<void> read_upload_body(const UploadBody& body, std::uint64_t offset, std::span<char> into);

struct BodySource {
  std::function<Result<std::size_t>(std::span<char>)> read;
  std::function<bool()> restart;
  // The body's size in bytes when known in advance, else -1. Over HTTP/2 a known size lets
  // the last DATA frame carry END_STREAM, so the request is complete the moment its last
  // byte arrives; with -1 libcurl ends the stream with an empty frame afterwards, and a
  // server that answers on the last message races that frame.
  std::int64_t length = -1;
};

struct CurlRequest {
  enum class Method : std::uint8_t { get, head, put, post, del };
  // h2_prior_knowledge: HTTP/2 without TLS from the first byte (gRPC's h2c); h2_tls: HTTP/2
  // negotiated by ALPN over TLS.
  enum class Http : std::uint8_t { any, h2_prior_knowledge, h2_tls };
  Method method = Method::get;
  Http http = Http::any;
  std::string url;
  std::vector<std::string> headers;
  const UploadBody* body = nullptr;    // put
  const BodySource* source = nullptr;  // post, a body of unknown length
  std::string_view post_body;          // post, the whole body (when source is null)
  const BodySink* sink = nullptr;      // get, post
  bool keep_headers = false;
  std::string userpwd;    // "user:password" (basic auth, or the SigV4 key pair)
  std::string aws_sigv4;  // e.g. "aws:amz:us-east-1:s3": sign with SigV4
};

struct CurlResponse {
  long status = 0;
  std::string error_body;  // the start of a non-2xx body
  // keep_headers: (lower-case name, value) of each header and trailer, in order.
  std::vector<std::pair<std::string, std::string>> headers;
};

inline constexpr std::size_t k_error_body_limit = 512;  // enough for an S3 <Error> element
// A gRPC answer has a handful of headers; a server sending thousands gets them ignored.
inline constexpr std::size_t k_max_kept_headers = 64;

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
