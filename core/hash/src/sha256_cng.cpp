// Sha256 (sha256.h) over Windows CNG (bcrypt.dll's BCrypt*Hash family, which uses the CPU's
// SHA extensions where present): the Windows build's SHA-256.
// clang-format off
#include <windows.h>
#include <bcrypt.h>
// clang-format on

#include <algorithm>
#include <climits>
#include <cstdlib>

#include "sha256.h"

namespace forge::hash::detail {
namespace {

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

Sha256::Sha256() : m_context(nullptr) {
  // No caller-supplied hash object: CNG allocates and frees it (Windows 7 and later).
  BCRYPT_HASH_HANDLE handle = nullptr;
  if (!BCRYPT_SUCCESS(BCryptCreateHash(sha256_provider(), &handle, nullptr, 0, nullptr, 0, 0))) {
    std::abort();  // allocation failure inside CNG
  }
  m_context = handle;
}

Sha256::~Sha256() {
  BCryptDestroyHash(static_cast<BCRYPT_HASH_HANDLE>(m_context));
}

void Sha256::update(std::span<const std::byte> data) {
  // BCryptHashData takes a ULONG length: feed spans over 4 GiB in pieces.
  for (std::span<const std::byte> rest = data; !rest.empty();) {
    const auto piece = static_cast<ULONG>(std::min<std::size_t>(rest.size(), ULONG_MAX));
    auto* bytes = reinterpret_cast<PUCHAR>(const_cast<std::byte*>(rest.data()));
    if (!BCRYPT_SUCCESS(
            BCryptHashData(static_cast<BCRYPT_HASH_HANDLE>(m_context), bytes, piece, 0))) {
      std::abort();
    }
    rest = rest.subspan(piece);
  }
}

std::array<std::uint8_t, Sha256::k_size> Sha256::finish() {
  std::array<std::uint8_t, k_size> out{};
  if (!BCRYPT_SUCCESS(BCryptFinishHash(static_cast<BCRYPT_HASH_HANDLE>(m_context), out.data(),
                                       static_cast<ULONG>(k_size), 0))) {
    std::abort();
  }
  return out;
}

}  // namespace forge::hash::detail
