#include "forge/cache/action_cache.h"
#include "forge/core/support/clock.h"

#include <chrono>

#include <fmt/format.h>

#include "cache_metrics.h"
#include "forge/cache/upstream_tier.h"
#include "forge/core/store/encoding.h"
#include "forge/core/support/metrics.h"

namespace forge::cache {
namespace {

std::string encode_entry(const BlobDigest& value) {
  std::string out;
  out.reserve(k_ac_entry_size);
  out.push_back(static_cast<char>(k_ac_entry_version));
  const auto bytes = value.sha256.bytes();
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  store::put_le(out, value.size);
  store::put_le(out, now_ns());
  return out;
}

std::optional<BlobDigest> decode_entry(std::string_view bytes) {
  if (bytes.size() != k_ac_entry_size ||
      static_cast<std::uint8_t>(bytes[0]) != k_ac_entry_version) {
    return std::nullopt;  // unknown version: a miss, and the next put replaces it
  }
  const hash::Digest sha256(hash::Algorithm::sha256,
                            std::span(reinterpret_cast<const std::uint8_t*>(bytes.data() + 1), 32));
  std::size_t offset = 33;
  return BlobDigest{sha256, store::get_le<std::uint64_t>(bytes, offset)};
}

void count_lookup(Keyspace keyspace, bool hit) {
  metrics().record_lookup(keyspace_name(keyspace), hit);
}

}  // namespace

std::string_view keyspace_name(Keyspace keyspace) {
  return keyspace == Keyspace::ac ? "ac" : "raw";
}

UpstreamSpace upstream_space(Keyspace keyspace) {
  return keyspace == Keyspace::ac ? UpstreamSpace::ac : UpstreamSpace::raw;
}

Result<void> validate_key(std::string_view key) {
  if (key.empty() || key.size() > 256) {
    return fail(
        Error(ErrorCategory::validation,
              fmt::format("action cache key has {} characters; 1 to 256 are allowed", key.size()))
            .with_suggestion("use the action digest's 64 hex characters as the key"));
  }
  for (char c : key) {
    const bool allowed = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                         (c >= 'A' && c <= 'Z') || c == '.' || c == '_' || c == '-';
    if (!allowed) {
      return fail(Error(ErrorCategory::validation,
                        fmt::format("action cache key '{}' contains '{}'", key.substr(0, 80),
                                    static_cast<unsigned char>(c) < 32 ? '?' : c))
                      .with_suggestion("keys use only [0-9A-Za-z._-]"));
    }
  }
  return ok();
}

Result<std::shared_ptr<ActionCache>> ActionCache::open(std::shared_ptr<CasStore> cas,
                                                       ActionCacheOptions options) {
  auto cache = std::shared_ptr<ActionCache>(new ActionCache(std::move(cas), options));
  FORGE_TRY(cache->m_ac, cache->m_cas->environment().open_database("ac"));
  FORGE_TRY(cache->m_raw, cache->m_cas->environment().open_database("raw"));
  return cache;
}

Result<std::optional<BlobDigest>> ActionCache::lookup(Keyspace keyspace,
                                                      std::string_view key) const {
  return lookup(keyspace, key, /*counted=*/true);
}

Result<std::optional<BlobDigest>> ActionCache::lookup(Keyspace keyspace, std::string_view key,
                                                      bool counted) const {
  FORGE_TRY_VOID(validate_key(key));
  std::optional<BlobDigest> value;
  {
    FORGE_TRY(store::ReadTxn txn, m_cas->environment().begin_read());
    FORGE_TRY(auto entry, txn.get(db(keyspace), key));
    if (entry) value = decode_entry(*entry);
  }
  if (!value) {
    FORGE_TRY(value, adopt_from_upstream(keyspace, key));
  }
  auto miss = [&] {
    if (counted) count_lookup(keyspace, false);
    return std::optional<BlobDigest>();
  };
  if (!value) return miss();
  FORGE_TRY(bool present, m_cas->contains(*value));
  if (!present) return miss();  // the value itself was evicted
  if (validated(keyspace)) {
    FORGE_TRY(auto content, m_cas->get(*value, /*keyspace=*/{}));
    if (!content) return miss();
    auto referenced = referenced_digests(*content);
    if (!referenced) return miss();  // stored before validation was on: never serve junk
    FORGE_TRY(auto missing, m_cas->find_missing(*referenced));
    if (!missing.empty()) return miss();
    // Output directories: every file inside each Tree must be present too (one batched
    // lookup), or a client that downloads only what it needs later finds a piece missing.
    // find_missing and get count as uses, so eviction keeps the whole result together.
    auto trees = output_tree_digests(*content);
    if (!trees) return miss();
    std::vector<BlobDigest> tree_files;
    for (const BlobDigest& tree : *trees) {
      FORGE_TRY(auto tree_content, m_cas->get(tree, /*keyspace=*/{}));
      if (!tree_content) return miss();
      auto files = tree_file_digests(*tree_content);
      if (!files) return miss();
      tree_files.insert(tree_files.end(), files->begin(), files->end());
    }
    FORGE_TRY(missing, m_cas->find_missing(tree_files));
    if (!missing.empty()) return miss();
  }
  if (counted) count_lookup(keyspace, true);
  return value;
}

Result<std::optional<std::string>> ActionCache::get(Keyspace keyspace, std::string_view key) const {
  FORGE_TRY(auto value, lookup(keyspace, key));
  if (!value) return std::optional<std::string>();
  return m_cas->get(*value, /*keyspace=*/{});
}

Result<std::optional<std::string>> ActionCache::get_uncounted(Keyspace keyspace,
                                                              std::string_view key) const {
  FORGE_TRY(auto value, lookup(keyspace, key, /*counted=*/false));
  if (!value) return std::optional<std::string>();
  return m_cas->get(*value, /*keyspace=*/{});
}

Result<BlobDigest> ActionCache::put(Keyspace keyspace, std::string_view key,
                                    std::string_view value) {
  FORGE_TRY_VOID(validate_key(key));
  if (keyspace == Keyspace::ac) FORGE_TRY_VOID(referenced_digests(value));
  FORGE_TRY(BlobDigest digest, m_cas->put(std::as_bytes(std::span(value.data(), value.size()))));
  FORGE_TRY_VOID(put_digest(keyspace, key, digest));
  return digest;
}

Result<void> ActionCache::put_digest(Keyspace keyspace, std::string_view key,
                                     const BlobDigest& value) {
  FORGE_TRY_VOID(validate_key(key));
  const std::string entry = encode_entry(value);
  FORGE_TRY_VOID(m_cas->environment().write(
      [&](store::WriteTxn& txn) { return txn.put(db(keyspace), key, entry); }));
  // Durable here; queued (or uploaded) for the upstream before the put is acknowledged.
  if (UpstreamTier* tier = m_cas->upstream()) {
    return tier->stored(upstream_space(keyspace), key, value);
  }
  return ok();
}

Result<std::optional<BlobDigest>> ActionCache::adopt_from_upstream(Keyspace keyspace,
                                                                   std::string_view key) const {
  UpstreamTier* tier = m_cas->upstream();
  if (tier == nullptr || UpstreamTier::local_only()) return std::optional<BlobDigest>();
  FORGE_TRY(auto fetched, tier->fetch_action(upstream_space(keyspace), key));
  if (!fetched) return std::optional<BlobDigest>();
  // An ac value that is not an ActionResult is a miss; it is not kept.
  if (keyspace == Keyspace::ac && !referenced_digests(*fetched)) return std::optional<BlobDigest>();
  // Stored here as the upstream's copy, not queued back to it. lookup() then validates it
  // like any local entry: its outputs must be in some tier.
  LocalOnlyScope local;
  FORGE_TRY(BlobDigest digest,
            m_cas->put(std::as_bytes(std::span(fetched->data(), fetched->size()))));
  const std::string entry = encode_entry(digest);
  FORGE_TRY_VOID(m_cas->environment().write(
      [&](store::WriteTxn& txn) { return txn.put(db(keyspace), key, entry); }));
  return std::optional<BlobDigest>(digest);
}

}  // namespace forge::cache
