#include "digest_filter_tracker.h"

#include <algorithm>
#include <optional>

#include "blob_layout.h"
#include "forge/core/support/log.h"
#include "store_totals.h"

namespace forge::cache {

void DigestFilterTracker::start(const store::Environment& env, store::Database blobs,
                                store::Database totals) {
  m_env = &env;
  m_blobs = blobs;
  m_totals = totals;
  if (!m_enabled) return;
  m_rebuild_requested = true;
  m_builder = std::thread([this] { loop(); });
}

void DigestFilterTracker::stop() {
  if (!m_builder.joinable()) return;
  {
    std::lock_guard lock(m_mutex);
    m_stop = true;
    m_stopping = true;
  }
  m_wake.notify_all();
  m_builder.join();
}

std::shared_ptr<const DigestFilter> DigestFilterTracker::trusted(std::uint64_t generation) {
  std::lock_guard lock(m_mutex);
  if (m_filter && m_trusted && m_base <= generation && generation <= m_tip) return m_filter;
  // Another process added blobs (or a rebuild is due): answer from the index, and rebuild.
  if (m_enabled && !m_rebuilding) {
    m_rebuild_requested = true;
    m_wake.notify_all();
  }
  return nullptr;
}

void DigestFilterTracker::note_added(const Key& key, std::uint64_t generation_before) {
  std::lock_guard lock(m_mutex);
  if (m_filter) {
    m_filter->add(key_view(key));
    if (m_trusted && m_tip == generation_before) {
      m_tip = generation_before + 1;
    } else {
      // Another writer's blobs came between: only a rebuild makes it trusted again, and a
      // store that only puts (no find_missing to ask for one) would otherwise never get it.
      m_trusted = false;
      if (m_enabled) {
        m_rebuild_requested = true;
        m_wake.notify_all();
      }
    }
    if (m_filter->added() > 2 * m_filter->capacity()) {
      m_rebuild_requested = true;  // grown past its size: false positives climb
      m_wake.notify_all();
    }
  }
  if (m_rebuilding) {
    m_pending.push_back(key);
    if (!m_rebuild_broken && m_rebuild_tip == generation_before) {
      m_rebuild_tip = generation_before + 1;
    } else {
      m_rebuild_broken = true;
    }
  }
}

void DigestFilterTracker::lost_track() {
  std::lock_guard lock(m_mutex);
  m_trusted = false;
  m_rebuild_broken = true;
  if (m_enabled) {
    m_rebuild_requested = true;
    m_wake.notify_all();
  }
}

Result<void> DigestFilterTracker::rebuild() {
  std::optional<store::ReadTxn> snapshot;
  std::uint64_t base = 0;
  {
    // The snapshot and the start of the rebuild are one step for note_added(): a put either
    // is in the snapshot, or is collected in `m_pending`, or breaks the generation chain.
    std::lock_guard lock(m_mutex);
    FORGE_TRY(store::ReadTxn txn, m_env->begin_read());
    FORGE_TRY(base, read_total(txn, m_totals, k_generation));
    snapshot.emplace(std::move(txn));
    m_rebuilding = true;
    m_pending.clear();
    m_rebuild_tip = base;
    m_rebuild_broken = false;
  }
  auto finish = [&](std::shared_ptr<DigestFilter> fresh) {
    std::lock_guard lock(m_mutex);
    if (fresh) {
      for (const Key& key : m_pending) fresh->add(key_view(key));
      if (!m_rebuild_broken) {
        m_filter = std::move(fresh);
        m_trusted = true;
        m_base = base;
        m_tip = m_rebuild_tip;
      } else if (m_enabled) {
        // Another writer's put broke the chain during the rebuild: go again (the loop keeps
        // the rebuild interval), or the filter stays untrusted until something asks.
        m_rebuild_requested = true;
      }
    }
    m_rebuilding = false;
    m_pending.clear();
    ++m_rebuilds;
  };
  auto built = [&]() -> Result<std::shared_ptr<DigestFilter>> {
    FORGE_TRY(const std::size_t entries, snapshot->count(m_blobs));
    // Room to double before the next rebuild.
    auto fresh = std::make_shared<DigestFilter>(std::max<std::size_t>(2 * entries, 64 * 1024));
    FORGE_TRY(store::Cursor cursor, snapshot->cursor(m_blobs));
    FORGE_TRY(auto entry, cursor.first());
    for (std::size_t seen = 1; entry; ++seen) {
      if (entry->first.size() == DigestFilter::k_key_size) fresh->add(entry->first);
      if (seen % 4096 == 0 && m_stopping.load(std::memory_order_relaxed)) {
        return std::shared_ptr<DigestFilter>();  // closing: do not hold the close up
      }
      FORGE_TRY(entry, cursor.next());
    }
    return fresh;
  }();
  snapshot.reset();
  finish(built ? *built : nullptr);
  if (!built) return fail(std::move(built).error());
  return ok();
}

void DigestFilterTracker::loop() {
  std::chrono::steady_clock::time_point last{};
  std::unique_lock lock(m_mutex);
  for (;;) {
    m_wake.wait(lock, [&] { return m_stop || m_rebuild_requested; });
    if (m_stop) return;
    const auto next = last + m_rebuild_interval;
    if (last != std::chrono::steady_clock::time_point{} &&
        std::chrono::steady_clock::now() < next) {
      m_wake.wait_until(lock, next, [&] { return m_stop; });
      if (m_stop) return;
    }
    m_rebuild_requested = false;
    last = std::chrono::steady_clock::now();
    lock.unlock();
    if (auto rebuilt = rebuild(); !rebuilt) {
      support::log(spdlog::level::warn, "cache: digest filter rebuild failed",
                   {{"error", rebuilt.error().to_string()}});
    }
    lock.lock();
  }
}

DigestFilterStats DigestFilterTracker::stats() const {
  std::lock_guard lock(m_mutex);
  DigestFilterStats stats;
  stats.ready = m_filter != nullptr;
  stats.trusted = m_trusted;
  stats.rebuilds = m_rebuilds;
  stats.lookups_skipped = m_lookups_skipped.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace forge::cache
