#include "forge/cache/circuit_breaker.h"

#include <gtest/gtest.h>

namespace forge::cache {
namespace {

constexpr std::int64_t k_ms = 1'000'000;

CircuitBreaker breaker() {
  return CircuitBreaker(
      CircuitBreakerOptions{.failure_threshold = 3, .open_for = std::chrono::milliseconds(100)});
}

TEST(CircuitBreakerTest, OpensAfterThresholdFailuresInARow) {
  auto b = breaker();
  b.record_failure(0);
  b.record_failure(0);
  EXPECT_TRUE(b.allow(0));
  b.record_failure(0);
  EXPECT_EQ(b.state(), BreakerState::open);
  EXPECT_FALSE(b.allow(50 * k_ms));
  EXPECT_EQ(b.times_opened(), 1u);
}

TEST(CircuitBreakerTest, ASuccessResetsTheFailureCount) {
  auto b = breaker();
  b.record_failure(0);
  b.record_failure(0);
  b.record_success();
  b.record_failure(0);
  b.record_failure(0);
  EXPECT_EQ(b.state(), BreakerState::closed);
}

TEST(CircuitBreakerTest, LetsExactlyOneProbeThroughAfterOpenFor) {
  auto b = breaker();
  for (int i = 0; i < 3; ++i) b.record_failure(0);
  EXPECT_TRUE(b.allow(100 * k_ms));
  EXPECT_EQ(b.state(), BreakerState::half_open);
  EXPECT_FALSE(b.allow(100 * k_ms));
  EXPECT_FALSE(b.allow(150 * k_ms));
}

TEST(CircuitBreakerTest, ASuccessfulProbeClosesIt) {
  auto b = breaker();
  for (int i = 0; i < 3; ++i) b.record_failure(0);
  ASSERT_TRUE(b.allow(100 * k_ms));
  b.record_success();
  EXPECT_EQ(b.state(), BreakerState::closed);
  EXPECT_TRUE(b.allow(100 * k_ms));
}

TEST(CircuitBreakerTest, AFailedProbeOpensItForAnotherPeriod) {
  auto b = breaker();
  for (int i = 0; i < 3; ++i) b.record_failure(0);
  ASSERT_TRUE(b.allow(100 * k_ms));
  b.record_failure(100 * k_ms);
  EXPECT_EQ(b.state(), BreakerState::open);
  EXPECT_FALSE(b.allow(150 * k_ms));
  EXPECT_TRUE(b.allow(200 * k_ms));
  EXPECT_EQ(b.times_opened(), 2u);
}

}  // namespace
}  // namespace forge::cache
