#include "forge/core/support/metrics.h"

#include <bit>
#include <set>

#include <fmt/format.h>

namespace forge::support {
namespace {

// "name{a=\"b\"}" -> {"name", "a=\"b\""}
std::pair<std::string_view, std::string_view> split_labels(std::string_view name) {
  const auto brace = name.find('{');
  if (brace == std::string_view::npos || name.back() != '}') return {name, {}};
  return {name.substr(0, brace), name.substr(brace + 1, name.size() - brace - 2)};
}

std::string with_label(std::string_view name, std::string_view suffix, std::string_view extra) {
  const auto [base, labels] = split_labels(name);
  std::string all(labels);
  if (!extra.empty()) all += (all.empty() ? "" : ",") + std::string(extra);
  return all.empty() ? fmt::format("{}{}", base, suffix)
                     : fmt::format("{}{}{{{}}}", base, suffix, all);
}

template <typename Map>
void headers_once(std::string& out, std::set<std::string, std::less<>>& seen, const Map& map,
                  std::string_view name, std::string_view type) {
  const auto base = std::string(split_labels(name).first);
  if (!seen.insert(base).second) return;
  const auto it = map.find(name);
  const std::string help = it != map.end() && !it->second.help.empty() ? it->second.help : base;
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", base, help, base, type);
}

}  // namespace

std::size_t Histogram::bucket_of(std::uint64_t ns) {
  if (ns < 4) return ns < 2 ? 0 : k_sub_buckets;  // 0-1 ns, 2-3 ns
  const unsigned exponent = 63u - static_cast<unsigned>(std::countl_zero(ns));
  const std::uint64_t sub = (ns - (1ull << exponent)) >> (exponent - 2);
  return exponent * k_sub_buckets + static_cast<std::size_t>(sub);
}

std::uint64_t Histogram::bucket_upper_bound(std::size_t bucket) {
  const std::size_t exponent = bucket / k_sub_buckets;
  const std::size_t sub = bucket % k_sub_buckets;
  if (exponent < 2) return (1ull << (exponent + 1)) - 1;
  if (exponent >= 63 && sub == k_sub_buckets - 1) return UINT64_MAX;
  return (1ull << exponent) + ((sub + 1) << (exponent - 2)) - 1;
}

void Histogram::record(std::chrono::nanoseconds duration) {
  const std::uint64_t ns = duration.count() < 0 ? 0 : static_cast<std::uint64_t>(duration.count());
  m_buckets[bucket_of(ns)].fetch_add(1, std::memory_order_relaxed);
  m_count.fetch_add(1, std::memory_order_relaxed);
  m_sum.fetch_add(ns, std::memory_order_relaxed);
}

std::chrono::nanoseconds Histogram::percentile(double q) const {
  const std::uint64_t total = count();
  if (total == 0) return std::chrono::nanoseconds(0);
  const auto rank = static_cast<std::uint64_t>(std::max(1.0, q * static_cast<double>(total) + 0.5));
  std::uint64_t seen = 0;
  for (std::size_t b = 0; b < k_buckets; ++b) {
    seen += m_buckets[b].load(std::memory_order_relaxed);
    if (seen >= rank)
      return std::chrono::nanoseconds(static_cast<std::int64_t>(bucket_upper_bound(b)));
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(bucket_upper_bound(k_buckets - 1)));
}

Metrics& Metrics::global() {
  static Metrics* const k_metrics = [] {
    auto* metrics = new Metrics();  // never destroyed: usable from atexit and crash paths
    metrics->gauge("files_watched", "Paths under an inotify watch");
    metrics->counter("operations_total", "I/O and cache operations completed");
    metrics->counter("errors_total", "Operations that failed");
    metrics->counter("cache_hits_total", "Cache lookups that found an entry");
    metrics->counter("cache_misses_total", "Cache lookups that found nothing");
    return metrics;
  }();
  return *k_metrics;
}

#define FORGE_METRICS_LOOKUP(map, type)                                                            \
  std::lock_guard lock(m_mutex);                                                                   \
  auto it = map.find(name);                                                                        \
  if (it == map.end()) {                                                                           \
    it = map.emplace(std::string(name), Series<type>{std::string(help), std::make_unique<type>()}) \
             .first;                                                                               \
  }                                                                                                \
  return *it->second.value

Counter& Metrics::counter(std::string_view name, std::string_view help) {
  FORGE_METRICS_LOOKUP(m_counters, Counter);
}
Gauge& Metrics::gauge(std::string_view name, std::string_view help) {
  FORGE_METRICS_LOOKUP(m_gauges, Gauge);
}
Histogram& Metrics::histogram(std::string_view name, std::string_view help) {
  FORGE_METRICS_LOOKUP(m_histograms, Histogram);
}
#undef FORGE_METRICS_LOOKUP

nlohmann::json Metrics::to_json() const {
  std::lock_guard lock(m_mutex);
  nlohmann::json out{{"counters", nlohmann::json::object()},
                     {"gauges", nlohmann::json::object()},
                     {"histograms", nlohmann::json::object()}};
  for (const auto& [name, series] : m_counters) out["counters"][name] = series.value->value();
  for (const auto& [name, series] : m_gauges) out["gauges"][name] = series.value->value();
  for (const auto& [name, series] : m_histograms) {
    const Histogram& h = *series.value;
    out["histograms"][name] = {{"count", h.count()},
                               {"sum_us", h.sum().count() / 1000.0},
                               {"p50_us", h.percentile(0.5).count() / 1000.0},
                               {"p99_us", h.percentile(0.99).count() / 1000.0}};
  }
  const auto hits =
      m_counters.count("cache_hits_total") ? m_counters.at("cache_hits_total").value->value() : 0;
  const auto misses = m_counters.count("cache_misses_total")
                          ? m_counters.at("cache_misses_total").value->value()
                          : 0;
  out["cache_hit_rate"] =
      hits + misses == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(hits + misses);
  return out;
}

std::string Metrics::to_prometheus() const {
  std::lock_guard lock(m_mutex);
  std::string out;
  std::set<std::string, std::less<>> seen;
  for (const auto& [name, series] : m_counters) {
    headers_once(out, seen, m_counters, name, "counter");
    out += fmt::format("{} {}\n", name, series.value->value());
  }
  for (const auto& [name, series] : m_gauges) {
    headers_once(out, seen, m_gauges, name, "gauge");
    out += fmt::format("{} {}\n", name, series.value->value());
  }
  for (const auto& [name, series] : m_histograms) {
    headers_once(out, seen, m_histograms, name, "summary");
    const Histogram& h = *series.value;
    for (const double q : {0.5, 0.99}) {
      out += fmt::format("{} {:.9f}\n", with_label(name, "", fmt::format("quantile=\"{}\"", q)),
                         h.percentile(q).count() / 1e9);
    }
    out += fmt::format("{} {:.9f}\n", with_label(name, "_sum", ""), h.sum().count() / 1e9);
    out += fmt::format("{} {}\n", with_label(name, "_count", ""), h.count());
  }
  return out;
}

}  // namespace forge::support
