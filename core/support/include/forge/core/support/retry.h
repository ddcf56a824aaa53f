#pragma once
// retry(): runs a Result-returning operation under a RetryPolicy (retry_policy.h).
//
// - Only errors with is_retryable() are retried (Network, Timeout, EAGAIN/EINTR/EBUSY);
//   anything else returns at once.
// - At most policy.max_attempts calls in total; the last error is returned with
//   with_retry_count(retries made).
// - Delays follow backoff_delay(): non-decreasing up to max_delay (Property 10). Jitter is
//   drawn from [0, jitter) of the gap to the *next* base delay, so a jittered delay never
//   exceeds the next un-jittered one and the sequence stays monotonic; at the cap the gap
//   is zero and the delay is exactly max_delay.
// - `sleeper` is called with each delay; tests pass one that records instead of sleeping.
// Blocking (sleeps on the calling thread). Thread-safe if the operation is.

#include <chrono>
#include <functional>
#include <random>
#include <thread>
#include <type_traits>

#include "forge/core/support/error.h"
#include "forge/core/support/retry_policy.h"

namespace forge::support {

using Sleeper = std::function<void(std::chrono::milliseconds)>;

// Base delay before retry `retry` (1 = first retry), capped at max_delay.
std::chrono::milliseconds base_delay(const RetryPolicy& policy, std::uint32_t retry);
// Jittered delay: base_delay(retry) + unit * jitter * (base_delay(retry + 1) - base_delay(retry)),
// with unit in [0, 1).
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, std::uint32_t retry,
                                        double unit);

// Validates the policy (max_attempts >= 1, multiplier >= 1, jitter in [0, 1], delays >= 0).
Result<void> validate(const RetryPolicy& policy);

inline void sleep_for(std::chrono::milliseconds delay) {
  std::this_thread::sleep_for(delay);
}

template <typename F>
auto retry(const RetryPolicy& policy, F&& operation, const Sleeper& sleeper = sleep_for)
    -> std::invoke_result_t<F&> {
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const std::uint32_t attempts = policy.max_attempts == 0 ? 1 : policy.max_attempts;
  for (std::uint32_t attempt = 1;; ++attempt) {
    auto result = operation();
    if (result) return result;
    if (!result.error().is_retryable() || attempt >= attempts) {
      return fail(std::move(result).error().with_retry_count(attempt - 1));
    }
    sleeper(backoff_delay(policy, attempt, unit(random)));
  }
}

}  // namespace forge::support
