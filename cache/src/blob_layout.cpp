#include "blob_layout.h"

#include <algorithm>

#include "forge/core/store/encoding.h"

namespace forge::cache {

hash::Digest digest_from_key(std::string_view key) {
  return hash::Digest(hash::Algorithm::sha256,
                      std::span(reinterpret_cast<const std::uint8_t*>(key.data()), key.size()));
}

std::string lru_key(std::int64_t accessed_ns, std::string_view digest_key) {
  std::string key;
  key.reserve(8 + digest_key.size());
  store::put_be64(key, static_cast<std::uint64_t>(accessed_ns));
  key.append(digest_key);
  return key;
}

bool format_blob_path(const std::string& dir, std::span<const std::uint8_t> raw,
                      BlobPathBuffer& out) {
  if (raw.size() != 32 || dir.size() + 5 + 3 + 64 + 1 > out.size()) return false;
  constexpr char k_hex[] = "0123456789abcdef";
  char* at = std::copy(dir.begin(), dir.end(), out.data());
  at = std::copy_n("/cas/", 5, at);
  char* hex = at + 3;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    hex[2 * i] = k_hex[raw[i] >> 4];
    hex[2 * i + 1] = k_hex[raw[i] & 0xf];
  }
  at[0] = hex[0];
  at[1] = hex[1];
  at[2] = '/';
  hex[64] = '\0';
  return true;
}

std::filesystem::path CasStore::blob_path(const BlobDigest& digest) const {
  BlobPathBuffer path;
  if (format_blob_path(options().dir.native(), digest.sha256.bytes(), path)) return path.data();
  const std::string hex = digest.sha256.hex();
  return options().dir / "cas" / hex.substr(0, 2) / hex;
}

}  // namespace forge::cache
