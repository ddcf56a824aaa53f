#include "http_metrics.h"

#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace forge::bazel_remote {

EndpointSeries::EndpointSeries(std::string_view endpoint) {
  auto& metrics = support::Metrics::global();
  m_requests = &metrics.counter(fmt::format("http_requests_total{{endpoint=\"{}\"}}", endpoint),
                                "HTTP requests received, by endpoint");
  m_duration = &metrics.histogram(
      fmt::format("http_request_duration{{endpoint=\"{}\"}}", endpoint),
      "HTTP request latency in seconds, from the request head to the last byte answered");
  m_bytes_in = &metrics.counter("http_bytes_in_total", "HTTP request body bytes");
  m_bytes_out = &metrics.counter("http_bytes_out_total", "HTTP response body bytes");
  for (std::size_t c = 0; c < m_responses.size(); ++c) {
    m_responses[c] = &metrics.counter(
        fmt::format("http_responses_total{{endpoint=\"{}\",code=\"{}\"}}", endpoint,
                    c == 0 ? std::string("other") : fmt::format("{}xx", c)),
        "HTTP responses by endpoint and status class");
  }
}

void EndpointSeries::record(std::chrono::steady_clock::duration elapsed,
                            const Outcome& outcome) const {
  m_requests->add();
  m_duration->record(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed));
  m_bytes_in->add(outcome.bytes_in);
  m_bytes_out->add(outcome.bytes_out);
  const auto code = static_cast<unsigned>(outcome.status);
  m_responses[code >= 100 && code < 600 ? code / 100 : 0]->add();
}

}  // namespace forge::bazel_remote
