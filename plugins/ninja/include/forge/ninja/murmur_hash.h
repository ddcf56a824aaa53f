#pragma once
// The command hash of Ninja's build log (v5/v6): 64-bit MurmurHash2 ("MurmurHash64A") with
// Ninja's seed 0xDECAFBADDECAFBAD, over the evaluated command (plus ";rspfile=CONTENT" when
// the edge has a response file). Ninja writes it in lower-case hex without leading zeros.
// Log v7 (Ninja 1.12+) switched to rapidhash; Forge reads those logs but never writes them.
//
// Pure functions; thread-safe; never fail.

#include <cstdint>
#include <string_view>

namespace forge::ninja {

std::uint64_t murmur_hash_64a(std::string_view data);

// The hash Ninja 1.11 stores in .ninja_log for `command`.
inline std::uint64_t command_hash(std::string_view command) {
  return murmur_hash_64a(command);
}

}  // namespace forge::ninja
