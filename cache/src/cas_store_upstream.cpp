// CasStore's side of the upstream tier (cas_store.h: attach_upstream): the hooks the
// lookups, the put path and eviction call. The policy lives in UpstreamTier.
#include "store_impl.h"

namespace forge::cache {

void CasStore::attach_upstream(std::shared_ptr<UpstreamTier> tier) {
  m_impl->upstream = std::move(tier);
  if (m_impl->upstream) m_impl->upstream->bind(*this);
}

UpstreamTier* CasStore::upstream() const {
  return m_impl->upstream.get();
}

bool CasStore::Impl::fetch_from_upstream(const hash::Digest& sha256,
                                         std::optional<std::uint64_t> size) {
  if (!upstream || UpstreamTier::local_only()) return false;
  // fetch_blob answers an unavailable upstream with a miss; an error here is local (the
  // store could not take the blob) and is a miss too: the caller answers from local.
  return upstream->fetch_blob(sha256, size).value_or(false);
}

Result<void> CasStore::Impl::hand_to_upstream(const BlobDigest& digest) {
  if (!upstream) return ok();
  return upstream->stored(UpstreamSpace::cas, digest.sha256.hex(), digest);
}

bool CasStore::Impl::queued_for_upload(const Key& key) const {
  if (!upstream) return false;
  const auto* raw = reinterpret_cast<const std::uint8_t*>(key.data());
  return upstream->needs_blob(hash::Digest(hash::Algorithm::sha256, std::span(raw, key.size())));
}

}  // namespace forge::cache
