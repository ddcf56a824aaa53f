#pragma once
// HttpServer: Forge's store over the Bazel HTTP remote cache protocol, on Boost.Beast/Asio.
//
// Routes (an optional instance prefix of any depth is accepted and ignored):
//   GET|HEAD|PUT  [/<instance>]/cas/<64 hex>   blobs by SHA-256
//   GET|HEAD|PUT  [/<instance>]/ac/<64 hex>    action results (keyspace `ac`, validated
//                                              against the CAS), or with ac_uses_raw the
//                                              unvalidated `raw` keyspace (ccache/sccache
//                                              store their own values under /ac/)
//   GET /status (JSON), /metrics (Prometheus text), /healthz ("ok")
// Answers: 200 + Content-Length on a hit, 404 on a miss, 200 on a stored PUT, 400 when a CAS
// body does not hash to its name (nothing stored), 403 for writes in read-only mode,
// 413 when a body exceeds max_body_size, 405/404 for other methods/paths. Error bodies are
// one line of text naming the problem and the fix.
//
// Contract:
// - Bodies stream to a temp file in the store (memory bounded whatever the size); a client
//   that disconnects mid-upload leaves nothing behind. A PUT of a CAS blob the store already
//   holds (Content-Length equal to its size) is drained without touching the disk: Bazel's
//   HTTP client re-uploads every output and never asks first.
// - `ac` PUT bodies must be REAPI ActionResult messages (400 otherwise) unless ac_uses_raw.
// - Keep-alive, chunked or Content-Length bodies, `Expect: 100-continue`.
// - Each request must finish within request_timeout; an idle keep-alive connection is closed
//   after idle_timeout.
// - shutdown(deadline): stops accepting, lets requests in flight finish (uploads included)
//   until the deadline, closes idle connections, then stops. Returns true when everything
//   in flight finished in time.
// - Access log: one structured line per request at info level ("http request": method,
//   target, status, bytes_in, bytes_out, duration_us, remote). Metrics:
//   http_requests_total{endpoint="..."}, http_request_duration{endpoint="..."} (p50/p99),
//   http_responses_total{endpoint="...",code="2xx"} (by class),
//   http_bytes_in_total, http_bytes_out_total. The access log is skipped, fields and all,
//   when the log level is above info.
// Threading: `threads` I/O threads, each running its own event loop; connections are dealt
// round robin and stay on one thread for life. The store is thread-safe. start() returns
// once the socket is listening.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "forge/bazel_remote/auth.h"
#include "forge/cache/action_cache.h"
#include "forge/core/support/error.h"

namespace forge::bazel_remote {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0 picks a free port (see HttpServer::port())
  unsigned threads = 0;    // 0: one per hardware thread
  bool read_only = false;
  bool ac_uses_raw = false;                      // serve /ac/ from the unvalidated raw keyspace
  std::uint64_t max_body_size = 4ull << 30;      // 413 above this
  std::uint64_t max_ac_body_size = 16ull << 20;  // validated ActionResults are read in memory
  std::chrono::seconds request_timeout{300};     // a 4 GiB upload at ~15 MB/s
  std::chrono::seconds idle_timeout{120};        // keep-alive connections without a request
  std::string grpc_address;                      // shown in /status when a gRPC server runs
  // Null: no authentication. Otherwise every route but /healthz asks it (401 with
  // `WWW-Authenticate: Basic` when refused).
  std::shared_ptr<const Authenticator> auth;
  // Both set: HTTPS only (TLS 1.2+), PEM files.
  std::optional<std::filesystem::path> tls_cert_file;
  std::optional<std::filesystem::path> tls_key_file;
};

class HttpServer {
 public:
  // Binds and starts serving. Network error if the address cannot be bound (it names the
  // address and suggests another port); Configuration error for invalid options.
  [[nodiscard]] static Result<std::unique_ptr<HttpServer>> start(
      HttpServerOptions options, std::shared_ptr<cache::ActionCache> cache);

  ~HttpServer();  // shutdown(0s) if still running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::uint16_t port() const;
  // See the contract above. Idempotent.
  bool shutdown(std::chrono::milliseconds deadline);

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace forge::bazel_remote
