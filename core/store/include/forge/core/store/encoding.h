#pragma once
// Fixed-width little-endian integers for Forge's versioned LMDB values. Every on-disk record
// (scan::FileRecord, cache::BlobRecord, ...) is built from these so that the byte order is
// the same on every host. Header-only; no allocation beyond the caller's string.
// Errors: none; get_le trusts its caller to have checked the size. Pure functions: any thread.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace forge::store {

// Appends the sizeof(T) low-order bytes of value, least significant first.
template <typename T>
requires std::is_integral_v<T>
void put_le(std::string& out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out.push_back(static_cast<char>((static_cast<std::uint64_t>(value) >> (8 * i)) & 0xff));
  }
}

// Reads a T at offset and advances offset. The caller checks bytes.size() first.
template <typename T>
requires std::is_integral_v<T> T get_le(std::string_view bytes, std::size_t& offset) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    value |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  }
  offset += sizeof(T);
  return static_cast<T>(value);
}

// Big-endian u64: keys that must sort numerically under LMDB's byte-wise comparison.
inline void put_be64(std::string& out, std::uint64_t value) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

inline std::uint64_t get_be64(std::string_view bytes, std::size_t offset = 0) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[offset + i]);
  }
  return value;
}

}  // namespace forge::store
