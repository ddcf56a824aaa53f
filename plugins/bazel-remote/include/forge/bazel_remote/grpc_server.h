#pragma once
// GrpcServer: Forge's CAS and action cache served over the Remote Execution API v2
// (build.bazel.remote.execution.v2: Capabilities, ActionCache, ContentAddressableStorage)
// and google.bytestream (ByteStream Read/Write/QueryWriteStatus), so that Bazel, Buck2,
// BuildStream, recc, ... can use it with `--remote_cache=grpc://host:port`. There is no
// Execution service: this is a cache.
//
// Contract:
// - Digests are SHA-256 only; a request naming another digest function is INVALID_ARGUMENT.
// - Any instance name is accepted; every instance shares the one CAS, and the action cache
//   unless options.instances is isolated (instances.h).
// - Compression: zstd for ByteStream `compressed-blobs` reads and writes and for
//   BatchUpdateBlobs (the store keeps blobs uncompressed; reads are compressed on the fly).
//   BatchReadBlobs always answers uncompressed, which REAPI allows.
// - The action cache key is the action digest's hash (keyspace `ac`). A stored
//   ActionResult whose referenced blobs are gone is a miss (NOT_FOUND), never a broken hit.
// - Authentication (options.auth, shared with the HTTP front end): credentials come from the
//   `authorization` metadata entry ("Basic ..." or "Bearer ..."; Bazel: --remote_header).
//   Missing or bad credentials are UNAUTHENTICATED. Writes are UpdateActionResult,
//   BatchUpdateBlobs, ByteStream Write and QueryWriteStatus; everything else is a read
//   (GetCapabilities included, so AuthMode::all hides even the capabilities).
// - TLS when tls_cert_file and tls_key_file (PEM) are given; otherwise plaintext.
// - read_only: every write (UpdateActionResult, BatchUpdateBlobs, ByteStream.Write) is
//   PERMISSION_DENIED, and Capabilities says update_enabled = false, except to Bazel before
//   6.0 (RequestMetadata tool_details; see request_metadata.h), which treats that as fatal:
//   it is told true and its uploads are refused, which it reports as warnings.
// - Batches over max_batch_total_size_bytes are INVALID_ARGUMENT ("use ByteStream") up to
//   gRPC's receive limit, max(64 MiB, the batch limit + 1 MiB); only larger messages get
//   gRPC's own RESOURCE_EXHAUSTED.
// - ByteStream writes that end without finish_write (client half-close, cancel, lost
//   connection) stay resumable in memory: QueryWriteStatus reports committed_size and a new
//   Write with write_offset = committed_size continues (an offset below it is accepted and
//   the bytes already held are skipped; above it is INVALID_ARGUMENT). At most max_pending_uploads
//   are kept, each for pending_upload_ttl after its last byte; older ones are dropped (their temp
//   files removed) and a resume after that is INVALID_ARGUMENT (client restarts at 0).
// - Metrics, per method (the RPC's name: "FindMissingBlobs", "Read", ...), in
//   forge::support::Metrics::global():
//     grpc_requests_total{method}, grpc_request_failures_total{method} (status not OK);
//     grpc_request_duration{method}: latency histogram (count, p50, p99), from the handler's
//       start to its status, the whole stream for streaming calls;
//     grpc_bytes_in_total{method}, grpc_bytes_out_total{method}: the blob data for ByteStream
//       Read and Write (as sent: compressed for compressed-blobs), the serialized messages
//       otherwise (GetTree: every response message sent; a failed unary call sends none);
//     grpc_responses_total{method,code}: by status code name ("OK", "NOT_FOUND", ...); a
//       code's series appears the first time the method answers with it.
//   A call is recorded before its status is sent, so a client that has the status sees it.
// - Access log: when the logger is at info or below, one JSON line per call, message
//   "grpc request", fields method, status (code name), bytes_in, bytes_out, duration_us,
//   peer (gRPC's "ipv4:127.0.0.1:port" form), instance_name when the request names one,
//   resource (the digest, resource name or blob count) and, from the client's
//   RequestMetadata header, tool, tool_version, invocation_id, correlated_invocations_id,
//   action_id, action_mnemonic and target. grpc_client_requests_total{tool,version} counts
//   calls per client tool (at most 64 pairs; later ones as tool="other").
// Threading: RPCs run concurrently on gRPC's synchronous-server thread pool; the store is
// thread-safe. start() returns once the port is listening. shutdown() blocks until every
// in-flight RPC has finished (cancelling the ones still running at the deadline).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "forge/bazel_remote/auth.h"
#include "forge/bazel_remote/instances.h"
#include "forge/cache/action_cache.h"
#include "forge/core/support/error.h"

namespace forge::bazel_remote {

struct GrpcServerOptions {
  std::string address = "127.0.0.1:0";  // host:port; port 0 picks a free one (see port())
  bool read_only = false;
  InstanceMode instances = InstanceMode::shared;  // isolated: an action cache per instance name
  // Largest sum of blob sizes in one BatchUpdateBlobs/BatchReadBlobs, and the budget for
  // inlined stdout/stderr/files in GetActionResult. 4 MiB is gRPC's default message limit,
  // which clients keep unless told otherwise; bigger blobs go through ByteStream.
  std::uint64_t max_batch_total_size_bytes = 4ull << 20;
  // Interrupted uploads kept for resumption: each holds an open temp file, so the number is
  // bounded; 10 minutes covers a client's retry backoff with a wide margin.
  std::size_t max_pending_uploads = 1024;
  std::chrono::seconds pending_upload_ttl{600};
  std::shared_ptr<const Authenticator> auth;           // null: no authentication
  std::optional<std::filesystem::path> tls_cert_file;  // both or neither
  std::optional<std::filesystem::path> tls_key_file;
};

class GrpcServer {
 public:
  // Listens on options.address and serves `cache` (and its CAS). A Network error when the
  // address cannot be bound, Configuration for invalid options (including a TLS file that
  // cannot be read, or only one of the two).
  [[nodiscard]] static Result<std::unique_ptr<GrpcServer>> start(
      GrpcServerOptions options, std::shared_ptr<cache::ActionCache> cache);

  ~GrpcServer();  // shutdown(0) if still running
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  int port() const;  // the bound port (the chosen one when the address asked for 0)
  // Stops accepting calls, waits up to `deadline` for in-flight ones, cancels the rest and
  // returns when all have finished. Idempotent; not to be called from two threads at once.
  void shutdown(std::chrono::milliseconds deadline);

 private:
  struct Impl;
  explicit GrpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace forge::bazel_remote
