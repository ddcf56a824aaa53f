#include "forge/core/hash/digest.h"

#include <array>
#include <cassert>
#include <cstdint>
#include <cstring>

#include <fmt/format.h>

#include "forge/core/hash/hasher.h"

namespace forge::hash {
namespace {

// -1 for a byte that is not a hex digit. A table: digests are parsed by the ten thousand
// (one FindMissingBlobs call), and this runs for every character.
constexpr std::array<std::int8_t, 256> k_hex_values = [] {
  std::array<std::int8_t, 256> table{};
  table.fill(-1);
  for (int c = '0'; c <= '9'; ++c) table[c] = static_cast<std::int8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) table[c] = static_cast<std::int8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) table[c] = static_cast<std::int8_t>(c - 'A' + 10);
  return table;
}();

int hex_value(char c) {
  return k_hex_values[static_cast<unsigned char>(c)];
}

}  // namespace

std::string_view to_string(Algorithm algorithm) {
  switch (algorithm) {
    case Algorithm::sha256: return "sha256";
    case Algorithm::xxh3_128: return "xxh3";
    default: return "unknown";
  }
}

bool is_hex64(std::string_view text) {
  if (text.size() != 64) return false;
  for (const char c : text) {
    if (hex_value(c) < 0) return false;
  }
  return true;
}

Result<Algorithm> parse_algorithm(std::string_view name) {
  if (name == "sha256") return Algorithm::sha256;
  if (name == "xxh3" || name == "xxh3_128" || name == "xxh128") return Algorithm::xxh3_128;
  return fail(Error(ErrorCategory::validation, fmt::format("unknown hash algorithm '{}'", name))
                  .with_suggestion("use one of: sha256, xxh3"));
}

Digest::Digest(Algorithm algorithm, std::span<const std::uint8_t> raw)
    : m_algorithm(algorithm), m_valid(true) {
  assert(raw.size() == size_of(algorithm));
  std::memcpy(m_bytes.data(), raw.data(), std::min(raw.size(), m_bytes.size()));
}

Result<Digest> Digest::parse(Algorithm algorithm, std::string_view hex) {
  const std::size_t want = 2 * size_of(algorithm);
  if (hex.size() != want) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("malformed {} digest '{}': {} hex characters, expected {}",
                                  to_string(algorithm), hex.substr(0, 80), hex.size(), want))
                    .with_suggestion(fmt::format("pass the full {}-character hex digest", want)));
  }
  std::array<std::uint8_t, k_max_size> raw{};
  for (std::size_t i = 0; i < want; i += 2) {
    const int high = hex_value(hex[i]);
    const int low = hex_value(hex[i + 1]);
    if (high < 0 || low < 0) {
      const std::size_t bad = high < 0 ? i : i + 1;
      return fail(
          Error(ErrorCategory::validation,
                fmt::format("malformed {} digest '{}': '{}' at offset {} is not a hex digit",
                            to_string(algorithm), hex, hex[bad], bad))
              .with_suggestion("a digest contains only 0-9 and a-f"));
    }
    raw[i / 2] = static_cast<std::uint8_t>(high << 4 | low);
  }
  return Digest(algorithm, std::span<const std::uint8_t>(raw.data(), size_of(algorithm)));
}

std::string Digest::hex() const {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out;
  const auto raw = bytes();
  out.resize(raw.size() * 2);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    out[2 * i] = k_digits[raw[i] >> 4];
    out[2 * i + 1] = k_digits[raw[i] & 0xf];
  }
  return out;
}

Digest sha256_of(std::span<const std::byte> data) {
  MultiHasher hasher(AlgorithmSet::only(Algorithm::sha256));
  hasher.update(data);
  return *hasher.finish().sha256;
}
Digest sha256_of(std::string_view data) {
  return sha256_of(std::as_bytes(std::span(data)));
}

Digest xxh3_of(std::span<const std::byte> data) {
  MultiHasher hasher(AlgorithmSet::only(Algorithm::xxh3_128));
  hasher.update(data);
  return *hasher.finish().xxh3;
}
Digest xxh3_of(std::string_view data) {
  return xxh3_of(std::as_bytes(std::span(data)));
}

const Digest& empty_sha256() {
  static const Digest k_empty = sha256_of(std::string_view{});
  return k_empty;
}

}  // namespace forge::hash
