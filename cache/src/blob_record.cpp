#include "blob_record.h"

#include <algorithm>

#include "forge/core/store/encoding.h"

namespace forge::cache {

using store::get_le;
using store::put_le;

std::string BlobRecord::encode() const {
  std::string out;
  out.reserve(k_blob_record_size);
  out.push_back(static_cast<char>(k_blob_record_version));
  const std::uint8_t stored_flags = static_cast<std::uint8_t>(
      (flags & ~k_record_has_checksum) | (checksum ? k_record_has_checksum : 0));
  out.push_back(static_cast<char>(stored_flags));
  put_le(out, size);
  put_le(out, stored_size);
  put_le(out, inserted_ns);
  put_le(out, accessed_ns);
  const ContentChecksum bytes = checksum.value_or(ContentChecksum{});
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return out;
}

std::optional<BlobRecord> BlobRecord::decode(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  BlobRecord record;
  std::size_t offset = 1;
  const auto version = static_cast<std::uint8_t>(bytes[0]);
  if (version == 1 && bytes.size() == k_blob_record_v1_size) {
    record.size = get_le<std::uint64_t>(bytes, offset);
    record.stored_size = record.size;
  } else if ((version == 2 && bytes.size() == k_blob_record_v2_size) ||
             (version == k_blob_record_version && bytes.size() == k_blob_record_size)) {
    record.flags = static_cast<std::uint8_t>(bytes[offset++]);
    record.size = get_le<std::uint64_t>(bytes, offset);
    record.stored_size = get_le<std::uint64_t>(bytes, offset);
  } else {
    return std::nullopt;
  }
  record.inserted_ns = get_le<std::int64_t>(bytes, offset);
  record.accessed_ns = get_le<std::int64_t>(bytes, offset);
  if (version == k_blob_record_version) {
    if ((record.flags & k_record_has_checksum) != 0) {
      ContentChecksum checksum;
      std::copy_n(reinterpret_cast<const std::uint8_t*>(bytes.data() + offset), checksum.size(),
                  checksum.begin());
      record.checksum = checksum;
    }
    record.flags = static_cast<std::uint8_t>(record.flags & ~k_record_has_checksum);
  }
  return record;
}

}  // namespace forge::cache
