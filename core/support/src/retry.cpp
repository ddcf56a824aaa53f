#include "forge/core/support/retry.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace forge::support {

std::chrono::milliseconds base_delay(const RetryPolicy& policy, std::uint32_t retry) {
  const double initial = static_cast<double>(policy.initial_delay.count());
  const double cap = static_cast<double>(policy.max_delay.count());
  const double grown = initial * std::pow(std::max(1.0, policy.multiplier),
                                          static_cast<double>(retry > 0 ? retry - 1 : 0));
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::min(grown, cap)));
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, std::uint32_t retry,
                                        double unit) {
  const auto base = base_delay(policy, retry);
  const auto next = base_delay(policy, retry + 1);
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0) * std::clamp(unit, 0.0, 0.999999);
  return base + std::chrono::milliseconds(
                    static_cast<std::int64_t>(jitter * static_cast<double>((next - base).count())));
}

Result<void> validate(const RetryPolicy& policy) {
  auto invalid = [](std::string what, std::string fix) {
    return fail(Error(ErrorCategory::configuration, "invalid retry policy: " + what)
                    .with_suggestion(std::move(fix)));
  };
  if (policy.max_attempts < 1) return invalid("max_attempts is 0", "set max_attempts to 1 or more");
  if (!(policy.multiplier >= 1.0)) {
    return invalid(fmt::format("multiplier {} is below 1", policy.multiplier),
                   "use a multiplier of at least 1.0 (2.0 is usual)");
  }
  if (!(policy.jitter >= 0.0 && policy.jitter <= 1.0)) {
    return invalid(fmt::format("jitter {} is outside [0, 1]", policy.jitter),
                   "use a jitter fraction between 0 and 1 (0.1 is usual)");
  }
  if (policy.initial_delay.count() < 0 || policy.max_delay < policy.initial_delay) {
    return invalid("delays are negative or max_delay < initial_delay",
                   "use 0 <= initial_delay <= max_delay");
  }
  return ok();
}

}  // namespace forge::support
