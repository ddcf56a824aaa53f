#include "forge/ninja/murmur_hash.h"

#include <cstring>

namespace forge::ninja {

// Austin Appleby's MurmurHash64A (public domain), with the seed Ninja uses. Reads the input
// in little-endian 8-byte words through memcpy, as Ninja does (so unaligned input is fine).
std::uint64_t murmur_hash_64a(std::string_view data) {
  constexpr std::uint64_t k_seed = 0xDECAFBADDECAFBADull;
  constexpr std::uint64_t k_m = 0xc6a4a7935bd1e995ull;
  constexpr int k_r = 47;
  std::size_t len = data.size();
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  std::uint64_t h = k_seed ^ (len * k_m);
  while (len >= 8) {
    std::uint64_t k = 0;
    std::memcpy(&k, bytes, sizeof k);
    k *= k_m;
    k ^= k >> k_r;
    k *= k_m;
    h ^= k;
    h *= k_m;
    bytes += 8;
    len -= 8;
  }
  if (len > 0) {
    for (std::size_t i = len; i-- > 0;) h ^= static_cast<std::uint64_t>(bytes[i]) << (8 * i);
    h *= k_m;
  }
  h ^= h >> k_r;
  h *= k_m;
  h ^= h >> k_r;
  return h;
}

}  // namespace forge::ninja
