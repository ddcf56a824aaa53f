#pragma once
// HttpServer: Forge's store over HTTP, on Boost.Beast/Asio: the Bazel HTTP remote cache
// protocol, Turborepo's remote cache API and raw entries for every other client.
//
// Routes (an optional instance prefix of any depth is accepted before /cas/ and /ac/):
//   GET|HEAD|PUT  [/<instance>]/cas/<64 hex>   blobs by SHA-256
//   GET|HEAD|PUT  [/<instance>]/ac/<64 hex>    action results (keyspace `ac`, validated
//                                              against the CAS; per instance when
//                                              options.instances is isolated), or with
//                                              ac_uses_raw the unvalidated `raw` keyspace
//                                              (ccache's layout=bazel keeps its own entries
//                                              under /ac/)
//   GET /status (JSON), /metrics (Prometheus text), /healthz ("ok")
//   GET|HEAD|PUT  /v8/artifacts/<hash>         Turborepo artifacts, per team (?teamId= or
//                                              ?slug=); GET /v8/artifacts/status answers
//                                              {"status":"enabled"}, POST /v8/artifacts/events
//                                              200 (events are not kept); the rest of /v8/ 404
//   GET|HEAD|PUT  <any other path>             a raw entry: an opaque value named by its
//                                              path (ccache's subdirs and flat layouts,
//                                              Gradle's HTTP build cache), when the path is
//                                              under options.raw_prefix; 404 otherwise
// Raw entries and Turborepo artifacts are filed in the `raw` keyspace under a hash of their
// name (see entry_key.h), their values are CAS blobs: the size limit, LRU eviction,
// read-only mode and authentication apply to them as to every blob.
// Answers: 200 + Content-Length on a hit, 404 on a miss, 200 on a stored PUT, 400 when a CAS
// body does not hash to its name (nothing stored), 403 for writes in read-only mode,
// 413 when a body exceeds max_body_size, 405/404 for other methods/paths. Error bodies are
// one line of text naming the problem and the fix (a 404 for a path that is no route says
// where raw entries live, or that they are off).
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
#include <string_view>

#include "forge/bazel_remote/auth.h"
#include "forge/bazel_remote/instances.h"
#include "forge/cache/action_cache.h"
#include "forge/core/support/error.h"

namespace forge::bazel_remote {

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0 picks a free port (see HttpServer::port())
  unsigned threads = 0;    // 0: one per hardware thread
  bool read_only = false;
  bool ac_uses_raw = false;  // serve /ac/ from the unvalidated raw keyspace
  // Raw entries: the paths under this prefix that are not Forge's own routes ("/": all of
  // them); nullopt turns raw entries off (those paths are 404). Must start and end with '/'.
  std::optional<std::string> raw_prefix = std::string("/");
  // isolated: each instance prefix (/<instance>/ac/...) has its own action cache.
  InstanceMode instances = InstanceMode::shared;
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

// A raw entry prefix as written in server.raw_prefix or --raw-prefix: "off" gives nullopt; a
// path of at most 256 characters that starts and ends with '/' (no '?', '#', whitespace or
// NUL) gives itself; anything else is a Validation error naming it and the fix.
Result<std::optional<std::string>> parse_raw_prefix(std::string_view text);

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
