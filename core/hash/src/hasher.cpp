// MultiHasher: XXH3-128 from xxHash on every platform; SHA-256 from the platform's library
// behind detail::Sha256 (sha256.h: OpenSSL on Linux, CNG on Windows).
#include "forge/core/hash/hasher.h"

#include <optional>

#include "sha256.h"
#define XXH_STATIC_LINKING_ONLY  // XXH3_state_t by value: no second allocation per hasher
#include <xxhash.h>

namespace forge::hash {

struct MultiHasher::State {
  std::optional<detail::Sha256> sha;  // engaged when SHA-256 is asked for
  bool use_xxh = false;
  alignas(64) XXH3_state_t xxh;  // XXH3_128bits_reset'ed when use_xxh
};

MultiHasher::MultiHasher(AlgorithmSet algorithms) : m_state(std::make_unique<State>()) {
  if (algorithms.sha256) m_state->sha.emplace();
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
  if (m_state->sha) m_state->sha->update(data);
  if (m_state->use_xxh) XXH3_128bits_update(&m_state->xxh, data.data(), data.size());
}

void MultiHasher::update(std::string_view data) {
  update(std::as_bytes(std::span(data)));
}

Digests MultiHasher::finish() {
  Digests out;
  if (m_state->sha) {
    const auto raw = m_state->sha->finish();
    out.sha256 = Digest(Algorithm::sha256, std::span<const std::uint8_t>(raw));
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
