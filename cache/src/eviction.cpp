// Access times and LRU eviction (see cas_store.h, "Eviction").
#include <unistd.h>

#include <cerrno>

#include <string>
#include <vector>

#include "blob_record.h"
#include "cache_metrics.h"
#include "forge/core/support/log.h"
#include "store_impl.h"
#include "store_totals.h"

namespace forge::cache {

Result<void> CasStore::flush_access_times() {
  Impl& impl = *m_impl;
  std::unordered_map<Key, std::int64_t, KeyHash> touched;
  {
    std::lock_guard lock(impl.mutex);
    touched.swap(impl.touched);
  }
  if (touched.empty()) return ok();
  return impl.env.write([&](store::WriteTxn& txn) -> Result<void> {
    for (const auto& [key_bytes, accessed] : touched) {
      const std::string_view key = key_view(key_bytes);
      FORGE_TRY(auto value, txn.get(impl.blobs, key));
      auto record = value ? BlobRecord::decode(*value) : std::nullopt;
      if (!record || record->accessed_ns >= accessed) continue;
      FORGE_TRY_VOID(txn.erase(impl.lru, lru_key(record->accessed_ns, key)));
      record->accessed_ns = accessed;
      FORGE_TRY_VOID(txn.put(impl.blobs, key, record->encode()));
      FORGE_TRY_VOID(txn.put(impl.lru, lru_key(accessed, key), {}));
    }
    return ok();
  });
}

Result<EvictionReport> CasStore::evict_now(std::optional<std::uint64_t> target_bytes) {
  Impl& impl = *m_impl;
  EvictionReport report;
  if (!target_bytes) {
    if (impl.options.max_size == 0) return report;
    // Room for the uploads in flight too (their bytes are reserved when they start).
    const auto low = static_cast<std::uint64_t>(impl.options.low_watermark *
                                                static_cast<double>(impl.options.max_size));
    const std::uint64_t reserved = impl.reserved.load(std::memory_order_relaxed);
    target_bytes = low > reserved ? low - reserved : 0;
  }
  FORGE_TRY_VOID(flush_access_times());
  FORGE_TRY(Stats stats, this->stats());
  if (stats.bytes <= *target_bytes) return report;
  const std::uint64_t excess = stats.bytes - *target_bytes;

  // Candidates, oldest access first, from one snapshot.
  struct Victim {
    std::string lru;
    std::string key;
    std::uint64_t size;
  };
  std::vector<Victim> victims;
  {
    FORGE_TRY(store::ReadTxn txn, impl.env.begin_read());
    FORGE_TRY(store::Cursor cursor, txn.cursor(impl.lru));
    std::uint64_t planned = 0;
    FORGE_TRY(auto entry, cursor.first());
    while (entry && planned < excess) {
      const std::string_view lru = entry->first;
      if (lru.size() == 8 + 32) {
        const std::string_view key = lru.substr(8);
        FORGE_TRY(auto value, txn.get(impl.blobs, key));
        if (auto record = value ? BlobRecord::decode(*value) : std::nullopt) {
          victims.push_back({std::string(lru), std::string(key), record->size});
          planned += record->size;
        }
      }
      FORGE_TRY(entry, cursor.next());
    }
  }
  for (const Victim& victim : victims) {
    if (report.bytes_freed >= excess) break;
    if (impl.queued_for_upload(key_array(victim.key))) {
      ++report.skipped_queued;  // only here until the upstream has it
      continue;
    }
    std::unique_lock publish(impl.publish);
    {
      std::lock_guard lock(impl.mutex);
      const Key key = key_array(victim.key);
      if (impl.pins.count(key) != 0 || impl.touched.count(key) != 0) {
        ++report.skipped_pinned;  // being read, or used since the snapshot
        continue;
      }
    }
    // The file goes inside the index write transaction, before it commits. A put (in any
    // process) renames its file only when the index lacks the blob or its file is missing,
    // so a racing put renames after this unlink, and indexes after this commit (LMDB
    // serialises writers), finding the record gone and its own file in place. Unlink-then-commit
    // can only leave an entry without a file if the commit fails, which reads treat as a miss and
    // verify repairs; commit-then-unlink could delete a blob another process had just put and
    // indexed.
    const auto path = blob_path(BlobDigest{digest_from_key(victim.key), victim.size});
    bool erased = false;
    FORGE_TRY_VOID(impl.env.write([&](store::WriteTxn& txn) -> Result<void> {
      erased = false;
      FORGE_TRY(auto value, txn.get(impl.blobs, victim.key));
      const auto record = value ? BlobRecord::decode(*value) : std::nullopt;
      // Re-check inside the transaction: another process may have used or removed it.
      if (!record || lru_key(record->accessed_ns, victim.key) != victim.lru) return ok();
      FORGE_TRY_VOID(txn.erase(impl.blobs, victim.key));
      FORGE_TRY_VOID(txn.erase(impl.lru, victim.lru));
      FORGE_TRY_VOID(
          add_total(txn, impl.totals, k_total_bytes, -static_cast<std::int64_t>(record->size)));
      FORGE_TRY_VOID(add_total(txn, impl.totals, k_total_entries, -1));
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return fail(Error::from_errno(errno, "unlink", path.string()));
      }
      erased = true;
      return ok();
    }));
    if (!erased) continue;
    ++report.evicted;
    report.bytes_freed += victim.size;
  }
  metrics().evictions.add(report.evicted);
  metrics().evicted_bytes.add(report.bytes_freed);
  FORGE_TRY(Stats after, this->stats());
  impl.publish_totals(after.bytes, after.entries);
  if (report.evicted > 0) {
    support::log(spdlog::level::info, "cache: evicted least recently used blobs",
                 {{"evicted", std::to_string(report.evicted)},
                  {"bytes_freed", std::to_string(report.bytes_freed)},
                  {"skipped_pinned", std::to_string(report.skipped_pinned)},
                  {"skipped_queued", std::to_string(report.skipped_queued)}});
  }
  return report;
}

void CasStore::Impl::reserve(std::uint64_t bytes) {
  const std::uint64_t total = reserved.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  request_eviction_if_over(indexed_bytes.load(std::memory_order_relaxed) + total);
}

void CasStore::Impl::release(std::uint64_t bytes) {
  reserved.fetch_sub(bytes, std::memory_order_relaxed);
}

void CasStore::Impl::request_eviction_if_over(std::uint64_t bytes) {
  if (options.max_size == 0 || !options.background_eviction) return;
  if (static_cast<double>(bytes) <=
      options.high_watermark * static_cast<double>(options.max_size)) {
    return;
  }
  std::lock_guard lock(mutex);
  evict_requested = true;
  wake.notify_all();
}

void CasStore::Impl::eviction_loop(CasStore& store) {
  Impl& impl = *store.m_impl;
  std::unique_lock lock(impl.mutex);
  for (;;) {
    impl.wake.wait(lock, [&] { return impl.stop || impl.evict_requested; });
    if (impl.stop) return;
    impl.evict_requested = false;
    lock.unlock();
    if (auto report = store.evict_now(); !report) {
      support::log_error(report.error());
    }
    lock.lock();
  }
}

}  // namespace forge::cache
