#pragma once
// Per-call metrics and the access log of the gRPC services (see grpc_server.h, Metrics).
// Internal to forge_bazel_remote.
//
// Each RPC handler opens a CallScope on its method's MethodMetrics; when the scope ends
// (the handler returns, before gRPC sends the status) the call is recorded: request count,
// failures, latency, payload bytes and responses by status code, requests by client tool
// (grpc_client_requests_total{tool,version}, from the RequestMetadata header; at most
// k_max_tool_series distinct pairs, later ones counted as tool="other"), plus one access
// line ("grpc request") when the logger is at info or below, with the request's resource
// (digest, resource name or blob count) and the client's tool, version, invocation id,
// correlated invocations id, action id, mnemonic and target when it sent them.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "forge/core/support/metrics.h"

namespace forge::bazel_remote {

inline constexpr std::size_t k_max_tool_series = 64;

// "hash/size", the hash cut to 64 characters.
std::string digest_text(std::string_view hash, std::int64_t size);

// "OK", "NOT_FOUND", ...; "UNKNOWN" for a code outside gRPC's 17.
std::string_view status_code_name(grpc::StatusCode code);

// The series of one method, looked up once: recording a call only touches atomics (a
// status code's counter is registered the first time the method answers with it).
class MethodMetrics {
 public:
  explicit MethodMetrics(std::string_view method);
  MethodMetrics(const MethodMetrics&) = delete;
  MethodMetrics& operator=(const MethodMetrics&) = delete;

  const std::string& method() const { return m_method; }
  void record(grpc::StatusCode code, std::chrono::nanoseconds duration, std::uint64_t bytes_in,
              std::uint64_t bytes_out) const;

 private:
  static constexpr std::size_t k_codes = 17;  // OK .. UNAUTHENTICATED
  support::Counter& responses(grpc::StatusCode code) const;

  std::string m_method;
  support::Counter& m_requests;
  support::Counter& m_failures;
  support::Histogram& m_duration;
  support::Counter& m_bytes_in;
  support::Counter& m_bytes_out;
  mutable std::array<std::atomic<support::Counter*>, k_codes> m_responses{};
};

// One call in flight. Not thread-safe (a handler's own thread uses it).
class CallScope {
 public:
  CallScope(const MethodMetrics& metrics, const grpc::ServerContext& context);
  // A call with one request message: counts its size as bytes in and takes its
  // instance_name if it has one.
  template <typename Request>
  CallScope(const MethodMetrics& metrics, const grpc::ServerContext& context,
            const Request& request)
      : CallScope(metrics, context) {
    add_in(request.ByteSizeLong());
    if constexpr (requires { request.instance_name(); }) set_instance(request.instance_name());
    if (!m_log) return;
    if constexpr (requires { request.action_digest(); }) {
      set_resource(
          digest_text(request.action_digest().hash(), request.action_digest().size_bytes()));
    } else if constexpr (requires { request.root_digest(); }) {
      set_resource(digest_text(request.root_digest().hash(), request.root_digest().size_bytes()));
    } else if constexpr (requires { request.resource_name(); }) {
      set_resource(request.resource_name());
    } else if constexpr (requires { request.blob_digests_size(); }) {
      set_resource(std::to_string(request.blob_digests_size()) + " blobs");
    } else if constexpr (requires { request.requests_size(); }) {
      set_resource(std::to_string(request.requests_size()) + " blobs");
    }
  }
  ~CallScope();  // records the call
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

  void add_in(std::uint64_t bytes) { m_bytes_in += bytes; }
  void add_out(std::uint64_t bytes) { m_bytes_out += bytes; }
  // Kept for the access log only, and only when it is on.
  void set_instance(std::string_view instance) {
    if (m_log) m_instance.assign(instance);
  }
  // What the call is about (a digest "hash/size", a ByteStream resource name); cut to 300
  // characters. Kept for the access log only.
  void set_resource(std::string_view resource) {
    if (m_log) m_resource.assign(resource.substr(0, 300));
  }
  // The call's outcome (UNKNOWN until given, e.g. when the handler throws); returns it.
  grpc::Status finish(grpc::Status status) {
    m_code = status.error_code();
    return status;
  }
  // A unary call: also counts the response message's size as bytes out when it is sent (OK).
  template <typename Response>
  grpc::Status finish(grpc::Status status, const Response& response) {
    if (status.ok()) add_out(response.ByteSizeLong());
    return finish(std::move(status));
  }

 private:
  const MethodMetrics& m_metrics;
  const grpc::ServerContext& m_context;
  std::chrono::steady_clock::time_point m_start;
  bool m_log;  // the access log is on: decided once, at the start
  grpc::StatusCode m_code = grpc::StatusCode::UNKNOWN;
  std::uint64_t m_bytes_in = 0;
  std::uint64_t m_bytes_out = 0;
  std::string m_instance;
  std::string m_resource;
};

}  // namespace forge::bazel_remote
