// MultiHasher on Windows: SHA-256 from CNG (bcrypt.dll's BCrypt*Hash family, which uses the
// CPU's SHA extensions where present) and XXH3-128 from xxHash exactly as on Linux (the
// Linux build's hasher.cpp uses OpenSSL instead of CNG). Same contract as hasher.h.
// clang-format off
#include <windows.h>
#include <bcrypt.h>
// clang-format on

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "forge/core/hash/hasher.h"
#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t by value: no second allocation per hasher
#include <xxhash.h>

namespace forge::hash {
namespace {

constexpr ULONG k_sha256_size = 32;

// The SHA-256 provider, opened once per process and never closed (like OpenSSL's fetch
// cache on Linux): a provider handle may be shared by every thread.
BCRYPT_ALG_HANDLE sha256_provider() {
  static const BCRYPT_ALG_HANDLE provider = [] {
    BCRYPT_ALG_HANDLE opened = nullptr;
    if (!BCRYPT_SUCCESS(
            BCryptOpenAlgorithmProvider(&opened, BCRYPT_SHA256_ALGORITHM, nullptr, 0))) {
      std::abort();  // every Windows since Vista has SHA-256 in CNG
    }
    return opened;
  }();
  return provider;
}

}  // namespace

struct MultiHasher::State {
  BCRYPT_HASH_HANDLE sha = nullptr;  // owned; null when SHA-256 is not asked for
  bool use_xxh = false;
  alignas(64) XXH3_state_t xxh;  // XXH3_128bits_reset'ed when use_xxh

  ~State() {
    if (sha != nullptr) BCryptDestroyHash(sha);
  }
};

MultiHasher::MultiHasher(AlgorithmSet algorithms) : m_state(std::make_unique<State>()) {
  if (algorithms.sha256) {
    // No caller-supplied hash object: CNG allocates and frees it (Windows 7 and later).
    if (!BCRYPT_SUCCESS(
            BCryptCreateHash(sha256_provider(), &m_state->sha, nullptr, 0, nullptr, 0, 0))) {
      std::abort();  // allocation failure inside CNG
    }
  }
  if (algorithms.xxh3) {
    m_state->use_xxh = true;
    XXH3_INITSTATE(&m_state->xxh);
    XXH3_128bits_reset(&m_state->xxh);
  }
}

MultiHasher::~MultiHasher() = default;
MultiHasher::MultiHasher(MultiHasher&&) noexcept = default;
MultiHasher& MultiHasher::operator=(MultiHasher&&) noexcept = default;

void MultiHasher::update(std::span<const std::byte> data) {
  if (data.empty()) return;
  if (m_state->sha != nullptr) {
    // BCryptHashData takes a ULONG length: feed spans over 4 GiB in pieces.
    for (std::span<const std::byte> rest = data; !rest.empty();) {
      const auto piece = static_cast<ULONG>(std::min<std::size_t>(rest.size(), ULONG_MAX));
      auto* bytes = reinterpret_cast<PUCHAR>(const_cast<std::byte*>(rest.data()));
      if (!BCRYPT_SUCCESS(BCryptHashData(m_state->sha, bytes, piece, 0))) std::abort();
      rest = rest.subspan(piece);
    }
  }
  if (m_state->use_xxh) XXH3_128bits_update(&m_state->xxh, data.data(), data.size());
}

void MultiHasher::update(std::string_view data) {
  update(std::as_bytes(std::span(data)));
}

Digests MultiHasher::finish() {
  Digests out;
  if (m_state->sha != nullptr) {
    std::uint8_t raw[k_sha256_size];
    if (!BCRYPT_SUCCESS(BCryptFinishHash(m_state->sha, raw, k_sha256_size, 0))) std::abort();
    out.sha256 = Digest(Algorithm::sha256, std::span<const std::uint8_t>(raw, k_sha256_size));
  }
  if (m_state->use_xxh) {
    // Canonical (big-endian) form: the same bytes `xxhsum -H2` prints.
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(&m_state->xxh));
    out.xxh3 = Digest(Algorithm::xxh3_128, std::span<const std::uint8_t>(canonical.digest, 16));
  }
  return out;
}

}  // namespace forge::hash
