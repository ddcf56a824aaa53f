// Sha256 (sha256.h) over OpenSSL's EVP interface: the Linux build's SHA-256.
#include <cstdlib>

#include <openssl/evp.h>

#include "sha256.h"

namespace forge::hash::detail {
namespace {

// The provider's SHA-256, fetched once: EVP_DigestInit_ex with EVP_sha256() fetches it again
// (a locked provider lookup) for every hasher, which showed in profiles of `forge hash` over
// small files (issue 20). Lives until exit, like OpenSSL's own fetch cache.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (fetched == nullptr) std::abort();  // the default provider always has SHA-256
    return fetched;
  }();
  return md;
}

EVP_MD_CTX* context(void* opaque) {
  return static_cast<EVP_MD_CTX*>(opaque);
}

}  // namespace

Sha256::Sha256() : m_context(EVP_MD_CTX_new()) {
  if (m_context == nullptr || EVP_DigestInit_ex2(context(m_context), sha256_md(), nullptr) != 1) {
    std::abort();  // allocation failure inside OpenSSL
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(context(m_context));
}

void Sha256::update(std::span<const std::byte> data) {
  EVP_DigestUpdate(context(m_context), data.data(), data.size());
}

std::array<std::uint8_t, Sha256::k_size> Sha256::finish() {
  std::array<std::uint8_t, k_size> out{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context(m_context), out.data(), &length) != 1 || length != k_size) {
    std::abort();
  }
  return out;
}

}  // namespace forge::hash::detail
