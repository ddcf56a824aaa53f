#pragma once
// BlobRecord: the index value of one blob (LMDB database "blobs", key = raw SHA-256, 32 B).
// Internal to forge_cache.
//
// Encoding (little-endian, version k_blob_record_version = 3):
//   u8 version | u8 flags | u64 size | u64 stored_size | i64 inserted_ns | i64 accessed_ns |
//   16 B XXH3-128 of the content (meaningful when flags has k_record_has_checksum)
// Older versions are still read, without a checksum (reads then check the SHA-256 name):
//   v2: u8 version | u8 flags | u64 size | u64 stored_size | i64 inserted | i64 accessed
//   v1: u8 version | u64 size | i64 inserted | i64 accessed            (stored_size = size)
// A value of any other version or length decodes to nullopt and is treated as absent
// (verify() re-indexes the file). Records are always written in the current version.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace forge::cache {

inline constexpr std::uint8_t k_blob_record_version = 3;
inline constexpr std::size_t k_blob_record_size = 1 + 1 + 8 + 8 + 8 + 8 + 16;
static_assert(k_blob_record_size == 50, "BlobRecord layout changed: bump k_blob_record_version");
inline constexpr std::size_t k_blob_record_v2_size = 34;
inline constexpr std::size_t k_blob_record_v1_size = 25;
// flags: bit 7 says the checksum field holds the content's XXH3-128; the low bits are
// reserved (compression).
inline constexpr std::uint8_t k_record_has_checksum = 0x80;

using ContentChecksum = std::array<std::uint8_t, 16>;  // XXH3-128, as hash::Digest bytes

struct BlobRecord {
  std::uint64_t size = 0;         // logical size (the digest's size)
  std::uint64_t stored_size = 0;  // bytes on disk
  std::int64_t inserted_ns = 0;
  std::int64_t accessed_ns = 0;
  std::uint8_t flags = 0;  // reserved low bits (compression); the checksum bit is derived
  std::optional<ContentChecksum> checksum;  // nullopt: a record from before version 3

  std::string encode() const;
  // nullopt for an unknown version or a truncated value: treated as absent.
  static std::optional<BlobRecord> decode(std::string_view bytes);
};

}  // namespace forge::cache
