#include "cache_metrics.h"

#include <fmt/format.h>

namespace forge::cache {

namespace {

// Per-keyspace lookups are their own families (cache_keyspace_{hits,misses}_total{keyspace=}),
// never labelled series beside the unlabelled totals, so sum() over a family counts once.
support::Counter& keyspace_counter(std::string_view keyspace, bool hit) {
  return support::Metrics::global().counter(
      fmt::format("{}{{keyspace=\"{}\"}}",
                  hit ? "cache_keyspace_hits_total" : "cache_keyspace_misses_total", keyspace),
      hit ? "Cache lookups that found an entry, by keyspace"
          : "Cache lookups that found nothing, by keyspace");
}

}  // namespace

CacheMetrics::CacheMetrics()
    : hits_total(support::Metrics::global().counter("cache_hits_total")),
      misses_total(support::Metrics::global().counter("cache_misses_total")),
      bytes_in(support::Metrics::global().counter("cache_bytes_in_total", "Bytes stored")),
      bytes_out(support::Metrics::global().counter("cache_bytes_out_total", "Bytes served")),
      evictions(support::Metrics::global().counter("cache_evictions_total", "Blobs evicted")),
      evicted_bytes(support::Metrics::global().counter("cache_evicted_bytes_total",
                                                       "Bytes freed by eviction")),
      corrupt(support::Metrics::global().counter(
          "cache_corrupt_blobs_total", "Blobs whose content did not match on read (quarantined)")),
      size(support::Metrics::global().gauge("cache_size_bytes", "Bytes indexed in the CAS")),
      entries(support::Metrics::global().gauge("cache_entries", "Blobs indexed in the CAS")) {
  for (std::size_t k = 0; k < k_known_keyspaces.size(); ++k) {
    for (int hit = 0; hit < 2; ++hit) {
      by_keyspace[k][hit] = &keyspace_counter(k_known_keyspaces[k], hit != 0);
    }
  }
}

void CacheMetrics::record_lookup(std::string_view keyspace, bool hit) {
  if (keyspace.empty()) return;
  (hit ? hits_total : misses_total).add();
  for (std::size_t k = 0; k < k_known_keyspaces.size(); ++k) {
    if (k_known_keyspaces[k] == keyspace) {
      by_keyspace[k][hit ? 1 : 0]->add();
      return;
    }
  }
  keyspace_counter(keyspace, hit).add();
}

CacheMetrics& metrics() {
  static CacheMetrics* const k_metrics = new CacheMetrics();
  return *k_metrics;
}

}  // namespace forge::cache
