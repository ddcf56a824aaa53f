#pragma once
// Digest: the value of one content hash. SHA-256 (32 bytes) is used for everything that
// leaves the process (Bazel, REAPI, sha256sum output); XXH3-128 (16 bytes) is the internal
// change fingerprint of the file index, where speed matters and nothing crosses machines.
//
// Contract: a plain value type (copyable, comparable, hashable), thread-compatible.
// Parsing never throws: bad hex or a wrong length is a Validation error that names both.

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "forge/core/support/error.h"

namespace forge::hash {

enum class Algorithm : std::uint8_t { sha256, xxh3_128 };

// "sha256" or "xxh3".
std::string_view to_string(Algorithm algorithm);
// Accepts "sha256", "xxh3" and "xxh3_128"; anything else is a Validation error.
Result<Algorithm> parse_algorithm(std::string_view name);

// True when `text` is exactly 64 hex digits (either case): the shape of a SHA-256 name in
// the store's layout and in cache URLs.
bool is_hex64(std::string_view text);

class Digest {
 public:
  static constexpr std::size_t k_max_size = 32;

  Digest() = default;  // sha256 of all-zero bytes; valid() is false
  // REQUIRES: raw.size() == size_of(algorithm).
  Digest(Algorithm algorithm, std::span<const std::uint8_t> raw);

  // Lower- or upper-case hex of exactly 2 * size_of(algorithm) characters.
  static Result<Digest> parse(Algorithm algorithm, std::string_view hex);
  static constexpr std::size_t size_of(Algorithm algorithm) {
    return algorithm == Algorithm::sha256 ? 32 : 16;
  }

  Algorithm algorithm() const { return m_algorithm; }
  bool valid() const { return m_valid; }
  std::span<const std::uint8_t> bytes() const { return {m_bytes.data(), size_of(m_algorithm)}; }
  std::string hex() const;  // lower case

  friend bool operator==(const Digest&, const Digest&) = default;
  friend auto operator<=>(const Digest&, const Digest&) = default;

 private:
  Algorithm m_algorithm = Algorithm::sha256;
  bool m_valid = false;
  std::array<std::uint8_t, k_max_size> m_bytes{};
};

Digest sha256_of(std::span<const std::byte> data);
Digest sha256_of(std::string_view data);
Digest xxh3_of(std::span<const std::byte> data);
Digest xxh3_of(std::string_view data);

// SHA-256 of the empty string: e3b0c442...7852b855 (the empty blob of every CAS).
const Digest& empty_sha256();

}  // namespace forge::hash

template <>
struct std::hash<forge::hash::Digest> {
  std::size_t operator()(const forge::hash::Digest& digest) const noexcept {
    // The bytes are already uniformly distributed: the first word is a good hash.
    std::size_t value = 0;
    const auto bytes = digest.bytes();
    for (std::size_t i = 0; i < sizeof value && i < bytes.size(); ++i) {
      value = (value << 8) | bytes[i];
    }
    return value ^ static_cast<std::size_t>(digest.algorithm());
  }
};
