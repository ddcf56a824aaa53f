#pragma once
// Sha256: the platform's SHA-256, the one part of MultiHasher (hasher.cpp) that differs by
// platform: OpenSSL EVP on Linux (sha256_openssl.cpp, SHA-NI where the CPU has it), Windows
// CNG's BCrypt*Hash family on Windows (sha256_cng.cpp). Internal header.
//
// Contract: one hash in progress; not copyable or movable (MultiHasher keeps it in its heap
// State); not thread-safe. finish() is called at most once, after which the object is spent.
// Never fails: the only failure either library can report here is allocation, which aborts
// like operator new.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace forge::hash::detail {

class Sha256 {
 public:
  static constexpr std::size_t k_size = 32;

  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::span<const std::byte> data);
  std::array<std::uint8_t, k_size> finish();

 private:
  void* m_context;  // EVP_MD_CTX* or BCRYPT_HASH_HANDLE, owned
};

}  // namespace forge::hash::detail
