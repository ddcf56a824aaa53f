#pragma once
// RetryPolicy: exponential backoff for retryable errors (Error::is_retryable()).
// The policy is plain data; retry.h runs operations under it.
//
// Delay before retry k (k = 1 for the first retry) is
//   base(k) = min(initial_delay * multiplier^(k-1), max_delay)
// and jitter adds a random fraction in [0, jitter) of the gap to the *next* base delay, so
// the delays stay non-decreasing (Property 10) while still spreading clients apart.
// Plain data, thread-compatible; errors are retry.h's.

#include <chrono>
#include <cstdint>

namespace forge::support {

struct RetryPolicy {
  std::uint32_t max_attempts = 5;  // total attempts including the first; >= 1
  std::chrono::milliseconds initial_delay{100};
  double multiplier = 2.0;  // >= 1.0
  std::chrono::milliseconds max_delay{10'000};
  double jitter = 0.1;  // fraction in [0, 1]
};

}  // namespace forge::support
