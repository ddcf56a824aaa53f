#include "call_metrics.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <map>
#include <mutex>
#include <utility>

#include "forge/core/support/log.h"
#include "request_metadata.h"

namespace forge::bazel_remote {
namespace {

constexpr std::array<std::string_view, 17> k_code_names = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

std::size_t code_index(grpc::StatusCode code) {
  const auto index = static_cast<std::size_t>(code);
  return index < k_code_names.size() ? index : static_cast<std::size_t>(grpc::StatusCode::UNKNOWN);
}

// The counter of requests from one client tool and version; a bounded number of pairs.
support::Counter& client_requests(const ClientMetadata& client) {
  static std::mutex mutex;
  static std::map<std::pair<std::string, std::string>, support::Counter*> counters;
  // Label values come from the client: anything outside a safe set becomes '_', so a quote
  // or newline cannot break the exposition format.
  const auto label = [](std::string_view text, std::string_view empty) {
    std::string out(text.empty() ? empty : text.substr(0, 64));
    for (char& c : out) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_' &&
          c != '+') {
        c = '_';
      }
    }
    return out;
  };
  auto key = std::make_pair(label(client.tool_name, "unknown"), label(client.tool_version, ""));
  std::lock_guard lock(mutex);
  if (const auto found = counters.find(key); found != counters.end()) return *found->second;
  if (counters.size() >= k_max_tool_series) key = {"other", ""};
  auto& counter = support::Metrics::global().counter(
      fmt::format("grpc_client_requests_total{{tool=\"{}\",version=\"{}\"}}", key.first,
                  key.second),
      "gRPC calls by the client tool and version in their RequestMetadata header");
  counters.emplace(std::move(key), &counter);
  return counter;
}

}  // namespace

std::string digest_text(std::string_view hash, std::int64_t size) {
  return fmt::format("{}/{}", hash.substr(0, 64), size);
}

std::string_view status_code_name(grpc::StatusCode code) {
  return k_code_names[code_index(code)];
}

MethodMetrics::MethodMetrics(std::string_view method)
    : m_method(method),
      m_requests(support::Metrics::global().counter(
          fmt::format("grpc_requests_total{{method=\"{}\"}}", method), "gRPC calls received")),
      m_failures(support::Metrics::global().counter(
          fmt::format("grpc_request_failures_total{{method=\"{}\"}}", method),
          "gRPC calls that ended with a status other than OK")),
      m_duration(support::Metrics::global().histogram(
          fmt::format("grpc_request_duration{{method=\"{}\"}}", method),
          "gRPC call latency, from the handler's start to its status")),
      m_bytes_in(support::Metrics::global().counter(
          fmt::format("grpc_bytes_in_total{{method=\"{}\"}}", method),
          "gRPC payload bytes received: blob data for ByteStream, request messages otherwise")),
      m_bytes_out(support::Metrics::global().counter(
          fmt::format("grpc_bytes_out_total{{method=\"{}\"}}", method),
          "gRPC payload bytes sent: blob data for ByteStream, response messages otherwise")) {}

support::Counter& MethodMetrics::responses(grpc::StatusCode code) const {
  auto& slot = m_responses[code_index(code)];
  if (auto* counter = slot.load(std::memory_order_acquire)) return *counter;
  // First answer with this code: register the series (racing threads get the same one).
  auto& counter = support::Metrics::global().counter(
      fmt::format("grpc_responses_total{{method=\"{}\",code=\"{}\"}}", m_method,
                  status_code_name(code)),
      "gRPC calls by the status code they ended with");
  slot.store(&counter, std::memory_order_release);
  return counter;
}

void MethodMetrics::record(grpc::StatusCode code, std::chrono::nanoseconds duration,
                           std::uint64_t bytes_in, std::uint64_t bytes_out) const {
  m_requests.add();
  if (code != grpc::StatusCode::OK) m_failures.add();
  m_duration.record(duration);
  m_bytes_in.add(bytes_in);
  m_bytes_out.add(bytes_out);
  responses(code).add();
}

CallScope::CallScope(const MethodMetrics& metrics, const grpc::ServerContext& context)
    : m_metrics(metrics),
      m_context(context),
      m_start(std::chrono::steady_clock::now()),
      m_log(support::log_enabled(spdlog::level::info)) {}

CallScope::~CallScope() {
  const auto duration = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now() - m_start);
  m_metrics.record(m_code, duration, m_bytes_in, m_bytes_out);
  ClientMetadata client;
  try {
    client = client_metadata_of(m_context.client_metadata());
    client_requests(client).add();
  } catch (...) {
    // Best effort, like the access line below: a destructor must not throw.
  }
  if (!m_log) return;
  try {
    nlohmann::json fields{
        {"method", m_metrics.method()},
        {"status", status_code_name(m_code)},
        {"bytes_in", m_bytes_in},
        {"bytes_out", m_bytes_out},
        {"duration_us", std::chrono::duration_cast<std::chrono::microseconds>(duration).count()},
        {"peer", m_context.peer()}};
    if (!m_instance.empty()) fields["instance_name"] = m_instance;
    if (!m_resource.empty()) fields["resource"] = m_resource;
    for (const auto& [name, value] :
         {std::pair<const char*, const std::string*>{"tool", &client.tool_name},
          {"tool_version", &client.tool_version},
          {"invocation_id", &client.invocation_id},
          {"correlated_invocations_id", &client.correlated_invocations_id},
          {"action_id", &client.action_id},
          {"action_mnemonic", &client.action_mnemonic},
          {"target", &client.target_id}}) {
      if (!value->empty()) fields[name] = *value;
    }
    support::log(spdlog::level::info, "grpc request", fields);
  } catch (...) {
    // The access line is best effort: a destructor must not throw (allocation failure).
  }
}

}  // namespace forge::bazel_remote
