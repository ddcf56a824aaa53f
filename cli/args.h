#pragma once
// A small command-line reader shared by the subcommands.
//
// Options are `--name VALUE`, `--name=VALUE` or a bare `--flag`; everything else (and
// everything after `--`) is positional; `-` alone is positional (stdin). Options are
// consumed as they are asked for; finish() then reports any option nobody asked for, so a
// typo is an error that names it, never silently ignored. Not thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "forge/core/support/error.h"

namespace forge::cli {

class Args {
 public:
  explicit Args(std::vector<std::string> tokens);

  // The value of `--name VALUE` / `--name=VALUE` (the last one wins), or nullopt.
  // A `--name` with no value following is an error.
  Result<std::optional<std::string>> option(std::string_view name);
  // Every value of a repeatable option, in order.
  Result<std::vector<std::string>> options(std::string_view name);
  // True if the bare flag `--name` is present.
  bool flag(std::string_view name);
  // Non-option tokens, in order. Call after every option()/flag().
  std::vector<std::string> positional() const;
  // A Validation error naming the first unconsumed option, with the valid ones in the hint.
  Result<void> finish(std::string_view valid_options) const;

 private:
  std::vector<std::string> m_tokens;
  std::vector<bool> m_consumed;
  std::size_t m_end_of_options;  // index of "--" or size()
};

// "4096", "512K", "64M", "10G", "1T" (binary multiples; an optional trailing "B" or "iB").
// `what` names the option in the error, e.g. "--max-size".
Result<std::uint64_t> parse_byte_size(std::string_view text, std::string_view what);

}  // namespace forge::cli
