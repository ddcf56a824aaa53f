#pragma once
// The store's Prometheus metrics (support::Metrics::global()), looked up once. Internal to
// forge_cache. Threading: the counters and gauges are atomic; metrics() is thread-safe.

#include <array>
#include <string_view>

#include "forge/core/support/metrics.h"

namespace forge::cache {

struct CacheMetrics {
  CacheMetrics();
  support::Counter& hits_total;
  support::Counter& misses_total;
  support::Counter& bytes_in;
  support::Counter& bytes_out;
  support::Counter& evictions;
  support::Counter& evicted_bytes;
  support::Counter& corrupt;
  support::Gauge& size;
  support::Gauge& entries;

  // The keyspaces Forge itself uses, looked up once: a lookup is on every cache hit.
  static constexpr std::array<std::string_view, 3> k_known_keyspaces{"cas", "ac", "raw"};
  std::array<std::array<support::Counter*, 2>, 3> by_keyspace{};

  // Counts a hit or miss under `keyspace`; an empty keyspace is an internal read, counted
  // by the caller.
  void record_lookup(std::string_view keyspace, bool hit);
};

CacheMetrics& metrics();

}  // namespace forge::cache
