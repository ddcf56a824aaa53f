#pragma once
// One clock for timestamps that are stored (index records, cursors, LRU times).
//
// Threading: free functions, safe from any thread. Never fails.

#include <chrono>
#include <cstdint>

namespace forge {

// Wall-clock time in nanoseconds since the Unix epoch (system_clock: comparable with file
// mtimes and across processes, unlike steady_clock).
inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace forge
