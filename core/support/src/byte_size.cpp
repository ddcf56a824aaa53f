#include "forge/core/support/byte_size.h"

#include <charconv>

#include <fmt/format.h>

namespace forge::support {

Result<std::uint64_t> parse_byte_size(std::string_view text, std::string_view what) {
  std::string_view rest = text;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
  rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
  std::uint64_t multiplier = 1;
  if (!rest.empty()) {
    switch (rest.front() | 0x20) {
      case 'k': multiplier = 1ull << 10; break;
      case 'm': multiplier = 1ull << 20; break;
      case 'g': multiplier = 1ull << 30; break;
      case 't': multiplier = 1ull << 40; break;
      case 'b': multiplier = 1; break;
      default: multiplier = 0; break;
    }
    if (multiplier != 0 && (rest.front() | 0x20) != 'b') rest.remove_prefix(1);
    if (rest == "iB" || rest == "ib" || rest == "B" || rest == "b") rest = {};
  }
  if (ec != std::errc() || end == text.data() || multiplier == 0 || !rest.empty() ||
      value > UINT64_MAX / multiplier) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("{} '{}' is not a size", what, text.substr(0, 80)))
                    .with_suggestion("write a byte count with an optional K, M, G or T suffix, "
                                     "e.g. 10G"));
  }
  return value * multiplier;
}

}  // namespace forge::support
