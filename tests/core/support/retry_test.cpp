#include "forge/core/support/retry.h"

#include <cerrno>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace forge::support {
namespace {

TEST(RetryTest, RetryableErrorsAreRetriedUntilSuccess) {
  int calls = 0;
  std::vector<std::chrono::milliseconds> slept;
  auto result = retry(
      RetryPolicy{},
      [&]() -> Result<int> {
        if (++calls < 3) return fail(Error::from_errno(EAGAIN, "read"));
        return 42;
      },
      [&](auto delay) { slept.push_back(delay); });
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, 42);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(slept.size(), 2u);
}

TEST(RetryTest, NonRetryableErrorsReturnAtOnce) {
  int calls = 0;
  auto result = retry(
      RetryPolicy{},
      [&]() -> Result<void> {
        ++calls;
        return fail(Error::from_errno(ENOENT, "open", "/x"));
      },
      [](auto) { FAIL() << "must not sleep"; });
  ASSERT_FALSE(result);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(result.error().code(), ENOENT);
  EXPECT_EQ(result.error().context().retry_count, 0u);
}

TEST(RetryTest, AttemptsAreBoundedAndCountedInTheError) {
  RetryPolicy policy;
  policy.max_attempts = 4;
  int calls = 0;
  auto result = retry(
      policy,
      [&]() -> Result<void> {
        ++calls;
        return fail(Error(ErrorCategory::network, "connection reset"));
      },
      [](auto) {});
  ASSERT_FALSE(result);
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(result.error().context().retry_count, 3u);
}

TEST(RetryTest, InvalidPoliciesAreConfigurationErrors) {
  RetryPolicy policy;
  policy.multiplier = 0.5;
  ASSERT_FALSE(validate(policy));
  EXPECT_EQ(validate(policy).error().category(), ErrorCategory::configuration);
  policy = RetryPolicy{};
  policy.jitter = 2;
  EXPECT_FALSE(validate(policy));
  EXPECT_TRUE(validate(RetryPolicy{}));
}

// Feature: platform-native-io-hardening, Property 10: Exponential Backoff Retry
RC_GTEST_PROP(RetryProperty, Property10_DelaysNeverDecreaseAndStayUnderTheCap, ()) {
  RetryPolicy policy;
  policy.max_attempts = *rc::gen::inRange<std::uint32_t>(1, 30);
  policy.initial_delay = std::chrono::milliseconds(*rc::gen::inRange(0, 2000));
  policy.max_delay = policy.initial_delay + std::chrono::milliseconds(*rc::gen::inRange(0, 60000));
  policy.multiplier = 1.0 + *rc::gen::inRange(0, 400) / 100.0;
  policy.jitter = *rc::gen::inRange(0, 101) / 100.0;
  std::vector<std::chrono::milliseconds> delays;
  int calls = 0;
  auto result = retry(
      policy,
      [&]() -> Result<void> {
        ++calls;
        return fail(Error(ErrorCategory::timeout, "slow upstream"));
      },
      [&](auto delay) { delays.push_back(delay); });
  RC_ASSERT(!result.has_value());
  RC_ASSERT(calls == static_cast<int>(policy.max_attempts));
  RC_ASSERT(delays.size() == policy.max_attempts - 1);
  for (std::size_t i = 1; i < delays.size(); ++i) RC_ASSERT(delays[i] >= delays[i - 1]);
  for (auto delay : delays) RC_ASSERT(delay <= policy.max_delay);
}

}  // namespace
}  // namespace forge::support
