#include "forge/core/hash/hasher.h"

#include <cstdlib>

#include <openssl/evp.h>
#include <xxhash.h>

namespace forge::hash {

struct MultiHasher::State {
  EVP_MD_CTX* sha = nullptr;    // owned; null when SHA-256 is not asked for
  XXH3_state_t* xxh = nullptr;  // owned; null when XXH3 is not asked for

  ~State() {
    if (sha != nullptr) EVP_MD_CTX_free(sha);
    if (xxh != nullptr) XXH3_freeState(xxh);
  }
};

MultiHasher::MultiHasher(AlgorithmSet algorithms) : m_state(std::make_unique<State>()) {
  if (algorithms.sha256) {
    m_state->sha = EVP_MD_CTX_new();
    if (m_state->sha == nullptr || EVP_DigestInit_ex(m_state->sha, EVP_sha256(), nullptr) != 1) {
      std::abort();  // allocation failure inside OpenSSL
    }
  }
  if (algorithms.xxh3) {
    m_state->xxh = XXH3_createState();
    if (m_state->xxh == nullptr) std::abort();
    XXH3_128bits_reset(m_state->xxh);
  }
}

MultiHasher::~MultiHasher() = default;
MultiHasher::MultiHasher(MultiHasher&&) noexcept = default;
MultiHasher& MultiHasher::operator=(MultiHasher&&) noexcept = default;

void MultiHasher::update(std::span<const std::byte> data) {
  if (data.empty()) return;
  if (m_state->sha != nullptr) EVP_DigestUpdate(m_state->sha, data.data(), data.size());
  if (m_state->xxh != nullptr) XXH3_128bits_update(m_state->xxh, data.data(), data.size());
}

void MultiHasher::update(std::string_view data) {
  update(std::as_bytes(std::span(data)));
}

Digests MultiHasher::finish() {
  Digests out;
  if (m_state->sha != nullptr) {
    std::uint8_t raw[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(m_state->sha, raw, &length);
    out.sha256 = Digest(Algorithm::sha256, std::span<const std::uint8_t>(raw, length));
  }
  if (m_state->xxh != nullptr) {
    // Canonical (big-endian) form: the same bytes `xxhsum -H2` prints.
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(m_state->xxh));
    out.xxh3 = Digest(Algorithm::xxh3_128, std::span<const std::uint8_t>(canonical.digest, 16));
  }
  return out;
}

}  // namespace forge::hash
