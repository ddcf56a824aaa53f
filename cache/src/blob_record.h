#pragma once
// BlobRecord: the index value of one blob (LMDB database "blobs", key = raw SHA-256, 32 B).
// Internal to forge_cache.
//
// Encoding (little-endian, version k_blob_record_version):
//   u8 version | u8 flags | u64 size | u64 stored_size | i64 inserted_ns | i64 accessed_ns
// Version 1 records (u8 version | u64 size | i64 inserted | i64 accessed) are still read
// (stored_size = size). A value of any other version or length decodes to nullopt and is
// treated as absent (verify() re-indexes the file).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace forge::cache {

inline constexpr std::uint8_t k_blob_record_version = 2;
inline constexpr std::size_t k_blob_record_size = 1 + 1 + 8 + 8 + 8 + 8;
static_assert(k_blob_record_size == 34, "BlobRecord layout changed: bump k_blob_record_version");
inline constexpr std::size_t k_blob_record_v1_size = 25;

struct BlobRecord {
  std::uint64_t size = 0;         // logical size (the digest's size)
  std::uint64_t stored_size = 0;  // bytes on disk
  std::int64_t inserted_ns = 0;
  std::int64_t accessed_ns = 0;
  std::uint8_t flags = 0;  // reserved (compression)

  std::string encode() const;
  // nullopt for an unknown version or a truncated value: treated as absent.
  static std::optional<BlobRecord> decode(std::string_view bytes);
};

}  // namespace forge::cache
