#pragma once
// DigestFilterTracker: when CasStore::find_missing may trust its in-memory DigestFilter.
// Internal to forge_cache.
//
// The trust protocol. Every write transaction that adds blobs bumps the index's
// "generation" (store_totals.h), in every process. The filter is trusted for a read snapshot
// whose generation g is in [base, tip]: it was built from the snapshot at `base`, and every
// generation up to `tip` was a put of this process, whose key it added (note_added, called
// inside that put's transaction with the generation before the bump). A put by another
// process (a gap in the chain), or anything this process cannot account for (lost_track),
// makes the filter step aside: find_missing answers from the index, and a rebuild runs in
// the background (at most once per `rebuild_interval`, so a busy foreign writer does not
// keep a thread scanning the index).
// A rebuild takes a snapshot and starts collecting the keys put meanwhile in one step, so a
// concurrent put is either in the snapshot, or collected, or breaks the chain (and the new
// filter is not trusted).
// Threading: every method is thread-safe. start() once; stop() joins the builder thread.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "digest_filter.h"
#include "forge/cache/cas_store.h"
#include "forge/core/store/lmdb.h"

namespace forge::cache {

class DigestFilterTracker {
 public:
  using Key = BlobReader::Key;

  DigestFilterTracker(bool enabled, std::chrono::milliseconds rebuild_interval)
      : m_enabled(enabled), m_rebuild_interval(rebuild_interval) {}
  ~DigestFilterTracker() { stop(); }
  DigestFilterTracker(const DigestFilterTracker&) = delete;
  DigestFilterTracker& operator=(const DigestFilterTracker&) = delete;

  // Starts the background builder (when enabled) and requests the first build. The
  // environment and databases must outlive stop().
  void start(const store::Environment& env, store::Database blobs, store::Database totals);
  void stop();

  // The filter if it may answer for a snapshot at `generation`; else null (and a rebuild is
  // requested).
  std::shared_ptr<const DigestFilter> trusted(std::uint64_t generation);
  // Called inside the write transaction that adds `key`, with the generation before its bump.
  void note_added(const Key& key, std::uint64_t generation_before);
  // Blobs were added that the filter may not have seen (verify, a failed commit).
  void lost_track();
  void count_skipped(std::uint64_t lookups) {
    m_lookups_skipped.fetch_add(lookups, std::memory_order_relaxed);
  }
  DigestFilterStats stats() const;

  // Builds a fresh filter from a snapshot now (the builder thread calls this).
  Result<void> rebuild();

 private:
  void loop();
  const bool m_enabled;
  const std::chrono::milliseconds m_rebuild_interval;
  const store::Environment* m_env = nullptr;
  store::Database m_blobs, m_totals;

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::shared_ptr<DigestFilter> m_filter;
  bool m_trusted = false;
  std::uint64_t m_base = 0;
  std::uint64_t m_tip = 0;
  // A rebuild in progress collects the keys put meanwhile and follows the generations.
  bool m_rebuilding = false;
  std::vector<Key> m_pending;
  std::uint64_t m_rebuild_tip = 0;
  bool m_rebuild_broken = false;
  bool m_rebuild_requested = false;
  bool m_stop = false;
  std::atomic<bool> m_stopping{false};  // m_stop, readable without the mutex
  std::uint64_t m_rebuilds = 0;
  std::thread m_builder;
  std::atomic<std::uint64_t> m_lookups_skipped{0};
};

}  // namespace forge::cache
