#pragma once
// Upstream: one remote tier behind the local store — another cache server or object
// storage — spoken to one request at a time. One file per kind:
//   upstream_http.cpp  http:// https://  the Bazel HTTP cache protocol (another Forge,
//                      bazel-remote, nginx WebDAV): GET/HEAD/PUT <base>/cas/<sha256>,
//                      <base>/ac/<key> and <base>/raw/<key>; basic auth
//   upstream_s3.cpp    s3://BUCKET/PREFIX  the S3 API (path-style), AWS Signature V4; keys
//                      PREFIX/cas/<sha256>, PREFIX/ac/<key>, PREFIX/raw/<key>
//   upstream_grpc.cpp  grpc://HOST:PORT[/INSTANCE], grpcs://...  any REAPI v2 cache
//                      (FindMissingBlobs, BatchRead/UpdateBlobs, ByteStream, ActionCache)
//                      over HTTP/2; bearer token; TLS with an optional client certificate
// Retries, the circuit breaker, verification and queueing live in UpstreamTier
// (upstream_tier.h); an Upstream makes exactly one attempt per call, bounded by
// UpstreamOptions::request_timeout.
//
// Errors: a refused/reset connection or a 5xx/429 answer is a Network error, a timeout a
// Timeout error (both retryable); 401/403 a Configuration error naming the credentials;
// any other unexpected status a Validation error. A miss (404) is not an error.
// Thread-safe: many threads may call one Upstream at once; at most
// UpstreamOptions::connections requests are in flight (the rest wait, up to
// request_timeout, for a connection).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "forge/cache/blob_digest.h"
#include "forge/core/support/error.h"
#include "forge/core/support/retry_policy.h"

namespace forge::cache {

// The namespaces of an upstream. `raw` holds the action cache's raw keyspace (ccache, Gradle
// and Turborepo entries: opaque values under keys such as "r.<sha256 of the path>"), apart
// from `ac`, whose keys an upstream may require to be action digests (Forge's and
// bazel-remote's /ac/ refuse anything else) and whose values are ActionResults. The path or
// object name of each space is the kind's business; docs/FORMATS.md lists them.
enum class UpstreamSpace : std::uint8_t { cas = 0, ac = 1, raw = 2 };
std::string_view upstream_space_name(UpstreamSpace space);  // "cas" / "ac" / "raw"

// Receives a downloaded body in order, piece by piece; an error aborts the transfer.
using BodySink = std::function<Result<void>(std::span<const std::byte>)>;

// An upload body: `size` bytes read with pread from `fd` (a CAS blob) when fd >= 0,
// otherwise `bytes`. sha256_hex is the body's SHA-256 (S3 signs it).
struct UploadBody {
  int fd = -1;
  std::string_view bytes;
  std::uint64_t size = 0;
  std::string sha256_hex;
};

struct UpstreamOptions {
  // http://HOST[:PORT][/PREFIX], https://..., s3://BUCKET[/PREFIX],
  // grpc://HOST[:PORT][/INSTANCE], grpcs://...
  std::string url;
  // Basic auth for http(s) ("user:password"); also taken from the URL's user info or the
  // FORGE_UPSTREAM_AUTH environment variable (so it need not be on a command line).
  std::string basic_auth;
  // A file holding a bearer token, sent as `authorization: Bearer TOKEN` (grpc(s), and
  // http(s) without basic auth). Default: FORGE_UPSTREAM_TOKEN_FILE, else the token itself
  // from FORGE_UPSTREAM_TOKEN; never the command line.
  std::string bearer_token_file;
  // TLS (https, grpcs): PEM files of the CA bundle that signs the upstream's certificate
  // (default: the system's) and of a client certificate and its key for an upstream that
  // asks for one. Defaults: FORGE_UPSTREAM_CA, FORGE_UPSTREAM_CERT, FORGE_UPSTREAM_KEY.
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string s3_endpoint;  // http(s)://HOST:PORT; default https://s3.REGION.amazonaws.com
  std::string s3_region;    // default AWS_REGION, AWS_DEFAULT_REGION, then us-east-1
  // s3: a blob larger than s3_multipart_threshold goes up as a multipart upload in parts of
  // s3_part_size (the last one smaller), each part held in memory while it is sent: a
  // 4 GiB blob is 256 parts (S3 allows 10,000). S3 refuses parts under 5 MiB but the last.
  std::uint64_t s3_multipart_threshold = std::uint64_t{64} << 20;
  std::uint64_t s3_part_size = std::uint64_t{16} << 20;
  // At most this many requests (and connections) at once: one per upload worker plus
  // room for concurrent read-through misses.
  std::size_t connections = 8;
  std::chrono::milliseconds connect_timeout{5'000};
  // A whole request, body included: 4 GiB at ~15 MB/s still fits in 300 s.
  std::chrono::milliseconds request_timeout{300'000};
  // An answer that stalls below 1 KiB/s for this long is abandoned (a hung upstream is
  // detected long before request_timeout).
  std::chrono::milliseconds stall_timeout{30'000};
};

// Checks the options and the URL; the error names the field and the fix.
Result<void> validate(const UpstreamOptions& options);

// `size`: a cas blob's size when the caller knows it. The REAPI names blobs by hash and
// size, so grpc:// answers a cas get or contains without it as a miss; the other kinds
// ignore it.
inline constexpr std::size_t k_parallel_checks = 8;

class Upstream {
 public:
  virtual ~Upstream() = default;
  // Streams the body stored under key into sink; false when the upstream has no such key.
  virtual Result<bool> get(UpstreamSpace space, std::string_view key, const BodySink& sink,
                           std::optional<std::uint64_t> size) = 0;
  Result<bool> get(UpstreamSpace space, std::string_view key, const BodySink& sink) {
    return get(space, key, sink, std::nullopt);
  }
  // Whether the upstream has key (HEAD).
  virtual Result<bool> contains(UpstreamSpace space, std::string_view key,
                                std::optional<std::uint64_t> size) = 0;
  Result<bool> contains(UpstreamSpace space, std::string_view key) {
    return contains(space, key, std::nullopt);
  }
  // For each CAS blob, whether the upstream has it. Default: contains() for each, up to
  // k_parallel_checks at once (parallel HEADs for http(s):// and s3://; the connection pool
  // still bounds the connections); grpc:// asks FindMissingBlobs once per batch. The first
  // error fails the whole call.
  virtual Result<std::vector<bool>> contains_many(std::span<const BlobDigest> digests);
  virtual Result<void> put(UpstreamSpace space, std::string_view key, const UploadBody& body) = 0;
  // The URL without credentials, for logs and /status.
  virtual std::string describe() const = 0;
  // Connections that exist now / at most (Property 26).
  virtual std::size_t live_connections() const = 0;
};

// The Upstream for options.url's scheme. Configuration error for an unknown scheme, a
// malformed URL or missing S3 credentials.
Result<std::unique_ptr<Upstream>> open_upstream(const UpstreamOptions& options);

}  // namespace forge::cache
