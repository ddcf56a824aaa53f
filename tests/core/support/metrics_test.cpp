#include "forge/core/support/metrics.h"

#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace forge::support {
namespace {

TEST(MetricsTest, StandardSeriesArePreRegistered) {
  const auto json = Metrics::global().to_json();
  for (const char* name :
       {"operations_total", "errors_total", "cache_hits_total", "cache_misses_total"}) {
    EXPECT_TRUE(json["counters"].contains(name)) << name;
  }
  EXPECT_TRUE(json["gauges"].contains("files_watched"));
  EXPECT_TRUE(json.contains("cache_hit_rate"));
}

TEST(MetricsTest, CountersFromManyThreadsAddUp) {
  Metrics metrics;
  Counter& counter = metrics.counter("test_total");
  Histogram& histogram = metrics.histogram("test_latency");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        counter.add();
        histogram.record(std::chrono::microseconds(i % 100));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.value(), 40000u);
  EXPECT_EQ(histogram.count(), 40000u);
}

RC_GTEST_PROP(MetricsProperty, PercentilesAreWithinOneBucketOfTheTruth,
              (const std::vector<std::uint32_t>& samples)) {
  RC_PRE(!samples.empty());
  Histogram histogram;
  std::vector<std::uint64_t> sorted;
  for (auto sample : samples) {
    histogram.record(std::chrono::nanoseconds(sample));
    sorted.push_back(sample);
  }
  std::sort(sorted.begin(), sorted.end());
  for (double q : {0.5, 0.99}) {
    const auto rank = static_cast<std::size_t>(std::max(1.0, q * sorted.size() + 0.5));
    const std::uint64_t truth = sorted[std::min(rank, sorted.size()) - 1];
    const auto estimate = static_cast<std::uint64_t>(histogram.percentile(q).count());
    RC_ASSERT(estimate >= truth);                  // an upper bound ...
    RC_ASSERT(estimate <= truth + truth / 4 + 4);  // ... within one bucket (25%)
  }
}

TEST(MetricsTest, PrometheusExpositionGroupsLabelledSeries) {
  Metrics metrics;
  metrics.counter("http_requests_total{endpoint=\"cas\"}", "HTTP requests").add(3);
  metrics.counter("http_requests_total{endpoint=\"ac\"}", "HTTP requests").add(2);
  metrics.histogram("http_latency{endpoint=\"cas\"}").record(std::chrono::milliseconds(2));
  const std::string text = metrics.to_prometheus();
  EXPECT_NE(text.find("# TYPE http_requests_total counter\n"), std::string::npos);
  EXPECT_EQ(text.find("# TYPE http_requests_total counter"),
            text.rfind("# TYPE http_requests_total counter"));
  EXPECT_NE(text.find("http_requests_total{endpoint=\"cas\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("http_latency{endpoint=\"cas\",quantile=\"0.5\"}"), std::string::npos);
  EXPECT_NE(text.find("http_latency_count{endpoint=\"cas\"} 1\n"), std::string::npos);
}

TEST(MetricsTest, CacheHitRateIsHitsOverLookups) {
  Metrics metrics;
  metrics.counter("cache_hits_total").add(3);
  metrics.counter("cache_misses_total").add(1);
  EXPECT_DOUBLE_EQ(metrics.to_json()["cache_hit_rate"].get<double>(), 0.75);
}

}  // namespace
}  // namespace forge::support
