#pragma once
// Where a blob lives, and how its digest is spelled as an index key. Internal to forge_cache.
//
//   <dir>/cas/<first 2 hex>/<64 hex>   one file per blob, named by its SHA-256
//   index key                          the raw SHA-256 (32 bytes)
//   "lru" key                          be64 accessed_ns | raw SHA-256 (oldest first)
// Threading: pure functions.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "forge/cache/blob_digest.h"
#include "forge/cache/cas_store.h"

namespace forge::cache {

using Key = BlobReader::Key;

inline std::string_view key_of(const hash::Digest& sha256) {
  return {reinterpret_cast<const char*>(sha256.bytes().data()), sha256.bytes().size()};
}
inline std::string_view key_of(const BlobDigest& digest) {
  return key_of(digest.sha256);
}

inline Key key_array(std::string_view key) {
  Key array{};
  std::memcpy(array.data(), key.data(), array.size());
  return array;
}

inline std::string_view key_view(const Key& key) {
  return {key.data(), key.size()};
}

// The key is a SHA-256: any 8 of its bytes are already a good hash.
struct KeyHash {
  std::size_t operator()(const Key& key) const noexcept {
    std::size_t value;
    std::memcpy(&value, key.data(), sizeof value);
    return value;
  }
};

hash::Digest digest_from_key(std::string_view key);

// "lru" key of a blob last used at accessed_ns.
std::string lru_key(std::int64_t accessed_ns, std::string_view digest_key);

using BlobPathBuffer = std::array<char, 4096>;

// <dir>/cas/<2 hex>/<64 hex>, NUL-terminated, without allocating: every cache hit opens one.
// False when it does not fit (or raw is not 32 bytes).
bool format_blob_path(const std::string& dir, std::span<const std::uint8_t> raw,
                      BlobPathBuffer& out);

}  // namespace forge::cache
