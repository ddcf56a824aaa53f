#pragma once
// CircuitBreaker: takes a failing upstream out of service and probes it back.
//
//   closed     every call is allowed; `failure_threshold` failures in a row open it
//   open       no call is allowed (callers serve from the local tier) for `open_for`
//   half_open  after open_for, exactly one probe call is allowed; its success closes the
//              breaker, its failure opens it again for another open_for
// Only upstream faults count (retryable errors: refused, reset, 5xx, timeouts); a miss or a
// bad request is an answer, not a fault. Times are steady-clock nanoseconds passed in by
// the caller, so tests drive it without sleeping.
// Thread-safe.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string_view>

namespace forge::cache {

struct CircuitBreakerOptions {
  // Five faults in a row: one request's retries (3 attempts) alone do not open it, two
  // requests failing all their attempts do.
  std::uint32_t failure_threshold = 5;
  // Long enough that a down upstream costs one probe per 5 s, short enough that a restarted
  // one is back in use within seconds.
  std::chrono::milliseconds open_for{5'000};
};

enum class BreakerState : std::uint8_t { closed, open, half_open };
std::string_view to_string(BreakerState state);  // "closed" / "open" / "half_open"

class CircuitBreaker {
 public:
  explicit CircuitBreaker(CircuitBreakerOptions options = {}) : m_options(options) {}

  // Whether a call may go to the upstream now. In half_open, true for one caller only
  // until that caller reports its outcome.
  bool allow(std::int64_t now_ns);
  void record_success();
  void record_failure(std::int64_t now_ns);

  BreakerState state() const;
  std::uint64_t times_opened() const;

 private:
  const CircuitBreakerOptions m_options;
  mutable std::mutex m_mutex;
  BreakerState m_state = BreakerState::closed;  // guarded by m_mutex
  std::uint32_t m_failures = 0;                 // guarded by m_mutex
  std::int64_t m_opened_at = 0;                 // guarded by m_mutex
  bool m_probe_out = false;                     // guarded by m_mutex
  std::uint64_t m_times_opened = 0;             // guarded by m_mutex
};

// Steady-clock nanoseconds (never jumps with the wall clock) for the breaker and the queue's
// retry times.
std::int64_t steady_now_ns();

}  // namespace forge::cache
