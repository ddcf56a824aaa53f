#pragma once
// Byte sizes as people write them: "4096", "512K", "64M", "10G", "1T" (binary multiples; an
// optional trailing "B" or "iB"). Used by command-line flags (--max-size) and config keys
// (cache.max_size) alike, so both accept exactly the same forms.
// Errors: Result (a Validation error naming `what` and the accepted forms). Thread-safe.

#include <cstdint>
#include <string_view>

#include "forge/core/support/error.h"

namespace forge::support {

// `what` names the setting in the error, e.g. "--max-size" or "cache.max_size".
Result<std::uint64_t> parse_byte_size(std::string_view text, std::string_view what);

}  // namespace forge::support
