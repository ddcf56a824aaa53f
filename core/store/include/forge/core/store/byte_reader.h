#pragma once
// A bounds-checked, forward-only reader over one encoded value (the little-endian layouts of
// encoding.h). Decoders of Forge's versioned records read their fields in order through it and
// check ok() once at the end, instead of checking the length before every field.
//
// Contract:
// - The first read that would pass the end fails the reader: ok() turns false for good and that
//   read and every later one yield zero / empty. Nothing reads outside `bytes`.
// - count() bounds an element count by the bytes left, so a corrupt count cannot make a decoder
//   allocate without bound.
// - Views returned by bytes()/str32() point into the caller's buffer, which must outlive them.
// - Header-only, no allocation, not thread-safe (one reader per decode).

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "forge/core/store/encoding.h"

namespace forge::store {

class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes, std::size_t offset = 0)
      : m_bytes(bytes), m_offset(offset), m_ok(offset <= bytes.size()) {
    if (!m_ok) m_offset = bytes.size();
  }

  bool ok() const { return m_ok; }
  // True when every byte was consumed (a decoder that ends elsewhere saw trailing bytes).
  bool at_end() const { return m_offset == m_bytes.size(); }
  std::size_t offset() const { return m_offset; }
  std::size_t remaining() const { return m_bytes.size() - m_offset; }

  // Marks the value undecodable for a reason the caller found (a field out of range).
  void fail() { m_ok = false; }

  // True when n more bytes are there; otherwise fails the reader.
  bool have(std::size_t n) {
    if (m_ok && remaining() >= n) return true;
    m_ok = false;
    return false;
  }

  template <typename T>
  requires std::is_integral_v<T> T number() {
    return have(sizeof(T)) ? get_le<T>(m_bytes, m_offset) : T{};
  }

  void skip(std::size_t n) {
    if (have(n)) m_offset += n;
  }

  // The next n bytes, or an empty view when fewer are left.
  std::string_view bytes(std::size_t n) {
    if (!have(n)) return {};
    const std::string_view out = m_bytes.substr(m_offset, n);
    m_offset += n;
    return out;
  }

  // A u32 length followed by that many bytes.
  std::string_view str32() { return bytes(number<std::uint32_t>()); }

  // A u32 element count whose elements take at least min_element_size bytes each; 0 (and a
  // failed reader) when the bytes left cannot hold that many.
  std::size_t count(std::size_t min_element_size = 1) {
    const auto n = number<std::uint32_t>();
    return have(std::size_t{n} * min_element_size) ? n : 0;
  }

 private:
  std::string_view m_bytes;
  std::size_t m_offset;
  bool m_ok;
};

}  // namespace forge::store
