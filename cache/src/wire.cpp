#include "forge/cache/wire.h"

#include <fmt/format.h>

namespace forge::cache {

Error WireReader::malformed(std::string_view detail) const {
  Error error(ErrorCategory::validation, fmt::format("malformed {}: {}", m_what, detail));
  if (!m_suggestion.empty()) return std::move(error).with_suggestion(std::string(m_suggestion));
  return std::move(error).with_suggestion(fmt::format(
      "the blob is not a serialized build.bazel.remote.execution.v2.{}; check the digest", m_what));
}

Result<WireField> WireReader::next() {
  WireField field;
  FORGE_TRY(const std::uint64_t tag, varint());
  if ((tag >> 3) == 0 || (tag >> 3) > 0x1fffffff) return fail(malformed("bad field number"));
  field.number = static_cast<std::uint32_t>(tag >> 3);
  switch (tag & 7) {
    case 0: {
      field.type = WireType::varint;
      FORGE_TRY(field.varint, varint());
      return field;
    }
    case 1:
    case 5: {
      const std::size_t width = (tag & 7) == 1 ? 8 : 4;
      if (width > m_data.size() - m_pos) return fail(malformed("truncated fixed-width field"));
      field.type = (tag & 7) == 1 ? WireType::fixed64 : WireType::fixed32;
      m_pos += width;
      return field;
    }
    case 2: {
      field.type = WireType::length_delimited;
      FORGE_TRY(const std::uint64_t length, varint());
      if (length > m_data.size() - m_pos) return fail(malformed("truncated field"));
      field.bytes = m_data.substr(m_pos, length);
      m_pos += length;
      return field;
    }
    default: return fail(malformed(fmt::format("unsupported wire type {}", tag & 7)));
  }
}

Result<std::uint64_t> WireReader::varint() {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (m_pos >= m_data.size()) return fail(malformed("truncated varint"));
    const auto byte = static_cast<unsigned char>(m_data[m_pos++]);
    value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  return fail(malformed("varint longer than 10 bytes"));
}

void WireWriter::varint(std::uint64_t value) {
  while (value >= 0x80) {
    m_out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  m_out.push_back(static_cast<char>(value));
}

void WireWriter::varint_field(std::uint32_t number, std::uint64_t value) {
  varint((static_cast<std::uint64_t>(number) << 3) | 0);
  varint(value);
}

void WireWriter::bytes_field(std::uint32_t number, std::string_view bytes) {
  varint((static_cast<std::uint64_t>(number) << 3) | 2);
  varint(bytes.size());
  m_out.append(bytes);
}

}  // namespace forge::cache
