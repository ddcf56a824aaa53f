#pragma once
// Metrics and the access log of the HTTP cache server (see http_server.h, Metrics).
// Internal to forge_bazel_remote.

#include <array>
#include <chrono>
#include <string_view>

#include "forge/core/support/metrics.h"
#include "http_common.h"

namespace forge::bazel_remote {

// Metric series of one endpoint, looked up once: recording a request only touches atomics.
// Threading: record() is thread-safe.
class EndpointSeries {
 public:
  explicit EndpointSeries(std::string_view endpoint);
  void record(std::chrono::steady_clock::duration elapsed, const Outcome& outcome) const;

 private:
  support::Counter* m_requests;
  support::Histogram* m_duration;
  support::Counter* m_bytes_in;
  support::Counter* m_bytes_out;
  std::array<support::Counter*, 6> m_responses;  // 1xx..5xx by class, [0]: other
};

}  // namespace forge::bazel_remote
