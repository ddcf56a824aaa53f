#pragma once
// MultiHasher: streaming SHA-256 (OpenSSL EVP on Linux, CNG on Windows; both use the CPU's SHA
// instructions where present) and XXH3-128 (xxHash), either or both in one pass over the data.
//
// Contract: movable, not copyable; not thread-safe (one hasher per stream). finish() may be
// called once; afterwards the hasher is spent and must not be updated. Never fails: the
// only failure OpenSSL or CNG can report here is allocation, which aborts like operator new.

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "forge/core/hash/digest.h"

namespace forge::hash {

struct AlgorithmSet {
  bool sha256 = false;
  bool xxh3 = false;

  static AlgorithmSet only(Algorithm algorithm) {
    return algorithm == Algorithm::sha256 ? AlgorithmSet{true, false} : AlgorithmSet{false, true};
  }
  static AlgorithmSet both() { return {true, true}; }
  bool empty() const { return !sha256 && !xxh3; }
};

struct Digests {
  std::optional<Digest> sha256;
  std::optional<Digest> xxh3;
};

class MultiHasher {
 public:
  explicit MultiHasher(AlgorithmSet algorithms);
  ~MultiHasher();
  MultiHasher(MultiHasher&&) noexcept;
  MultiHasher& operator=(MultiHasher&&) noexcept;
  MultiHasher(const MultiHasher&) = delete;
  MultiHasher& operator=(const MultiHasher&) = delete;

  void update(std::span<const std::byte> data);
  void update(std::string_view data);
  Digests finish();

 private:
  struct State;
  std::unique_ptr<State> m_state;
};

}  // namespace forge::hash
