#include "forge/core/hash/hasher.h"

#include <cstdlib>

#include <openssl/evp.h>
#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t by value: no second allocation per hasher
#include <xxhash.h>

namespace forge::hash {
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

}  // namespace

struct MultiHasher::State {
  EVP_MD_CTX* sha = nullptr;  // owned; null when SHA-256 is not asked for
  bool use_xxh = false;
  alignas(64) XXH3_state_t xxh;  // XXH3_128bits_reset'ed when use_xxh

  ~State() {
    if (sha != nullptr) EVP_MD_CTX_free(sha);
  }
};

MultiHasher::MultiHasher(AlgorithmSet algorithms) : m_state(std::make_unique<State>()) {
  if (algorithms.sha256) {
    m_state->sha = EVP_MD_CTX_new();
    if (m_state->sha == nullptr || EVP_DigestInit_ex2(m_state->sha, sha256_md(), nullptr) != 1) {
      std::abort();  // allocation failure inside OpenSSL
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
  if (m_state->sha != nullptr) EVP_DigestUpdate(m_state->sha, data.data(), data.size());
  if (m_state->use_xxh) XXH3_128bits_update(&m_state->xxh, data.data(), data.size());
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
  if (m_state->use_xxh) {
    // Canonical (big-endian) form: the same bytes `xxhsum -H2` prints.
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(&m_state->xxh));
    out.xxh3 = Digest(Algorithm::xxh3_128, std::span<const std::uint8_t>(canonical.digest, 16));
  }
  return out;
}

}  // namespace forge::hash
