#pragma once
// InstanceMode: whether REAPI instance names (gRPC) and HTTP instance prefixes
// (/<instance>/ac/...) share one action cache or each have their own.
//
//   shared    (default) every instance sees every action result: instance names are
//             ignored, as most Bazel caches do.
//   isolated  each instance name has its own action cache; the empty instance (no prefix)
//             is one instance of its own. The CAS stays shared: a blob is named by its
//             content and every upload is checked, so no instance can poison another's.
// Threading: pure functions.

#include <cstdint>
#include <string_view>

#include "forge/core/support/error.h"

namespace forge::bazel_remote {

enum class InstanceMode : std::uint8_t { shared, isolated };

// "shared" or "isolated"; a Validation error naming the value and the choices otherwise.
Result<InstanceMode> parse_instance_mode(std::string_view text);
std::string_view instance_mode_name(InstanceMode mode);

}  // namespace forge::bazel_remote
