#include "forge/cache/circuit_breaker.h"

namespace forge::cache {

std::string_view to_string(BreakerState state) {
  switch (state) {
    case BreakerState::closed: return "closed";
    case BreakerState::open: return "open";
    case BreakerState::half_open: return "half_open";
    default: return "unknown";
  }
}

bool CircuitBreaker::allow(std::int64_t now_ns) {
  std::lock_guard lock(m_mutex);
  switch (m_state) {
    case BreakerState::closed: return true;
    case BreakerState::open:
      if (now_ns - m_opened_at < std::chrono::nanoseconds(m_options.open_for).count()) {
        return false;
      }
      m_state = BreakerState::half_open;
      m_probe_out = true;
      return true;
    case BreakerState::half_open:
    default:
      if (m_probe_out) return false;
      m_probe_out = true;
      return true;
  }
}

void CircuitBreaker::record_success() {
  std::lock_guard lock(m_mutex);
  m_state = BreakerState::closed;
  m_failures = 0;
  m_probe_out = false;
}

void CircuitBreaker::record_failure(std::int64_t now_ns) {
  std::lock_guard lock(m_mutex);
  ++m_failures;
  if (m_state == BreakerState::half_open ||
      (m_state == BreakerState::closed && m_failures >= m_options.failure_threshold)) {
    m_state = BreakerState::open;
    m_opened_at = now_ns;
    m_probe_out = false;
    ++m_times_opened;
  }
}

BreakerState CircuitBreaker::state() const {
  std::lock_guard lock(m_mutex);
  return m_state;
}

std::uint64_t CircuitBreaker::times_opened() const {
  std::lock_guard lock(m_mutex);
  return m_times_opened;
}

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace forge::cache
