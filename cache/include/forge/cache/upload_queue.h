#pragma once
// UploadQueue: the persistent write-behind queue of an upstream tier, in its own LMDB
// environment (by default <store>/upstream-queue/).
//
// Every entry names one thing to upload: a CAS blob (space cas, key = its 64-hex SHA-256)
// or an action-cache entry (space ac or raw, key = the entry's key) together with the CAS
// blob holding its value. push() commits (and, with fsync, syncs) before it returns, so an entry
// survives a crash from the moment push() succeeds; it leaves the queue only by remove().
// Entries come out oldest first (FIFO), so outputs reach the upstream before the action
// results that name them.
//
// Databases (format version k_upload_queue_version = 2; version 1, which had no raw space,
// is read, and still written for cas and ac records so an older Forge can drain them):
//   "queue"  be64 seq -> u8 version | u8 space (0 cas, 1 ac, 2 raw) | i64 LE enqueued_ns |
//                        u32 LE attempts | 32 B value sha256 | u64 LE value size | key bytes
//   "keys"   u8 space | key -> be64 seq                  (one entry per key)
//   "blobs"  32 B sha256 -> u32 LE count                 (blobs entries still need; the
//                                                         local tier never evicts them)
//   "meta"   "next_seq" -> u64 LE
// Bounded: at most max_entries; push() answers `full` instead of growing past it (the tier
// then uploads synchronously; see upstream_tier.h).
// Thread-safe (LMDB serialises the writers).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "forge/cache/blob_digest.h"
#include "forge/cache/upstream.h"
#include "forge/core/store/lmdb.h"

namespace forge::cache {

inline constexpr std::uint8_t k_upload_queue_version = 2;
inline constexpr std::size_t k_queue_record_header = 1 + 1 + 8 + 4 + 32 + 8;
static_assert(k_queue_record_header == 54, "queue record changed: bump k_upload_queue_version");

struct QueueEntry {
  std::uint64_t seq = 0;
  UpstreamSpace space = UpstreamSpace::cas;
  std::string key;
  BlobDigest value;  // the CAS blob to upload (for cas entries, the blob named by key)
  std::int64_t enqueued_ns = 0;
  std::uint32_t attempts = 0;
};

struct QueueStats {
  std::uint64_t length = 0;
  std::int64_t oldest_enqueued_ns = 0;  // 0 when empty
};

enum class Pushed : std::uint8_t { added, already_queued, full };

struct UploadQueueOptions {
  std::filesystem::path dir;
  // A million entries (~150 MB of LMDB) hold about a day of a busy CI pool's uploads while
  // the upstream is down.
  std::uint64_t max_entries = 1'000'000;
  bool fsync = true;
};

class UploadQueue {
 public:
  static Result<std::unique_ptr<UploadQueue>> open(const UploadQueueOptions& options);

  Result<Pushed> push(UpstreamSpace space, std::string_view key, const BlobDigest& value);
  // Up to max entries, oldest first.
  Result<std::vector<QueueEntry>> peek(std::size_t max) const;
  // Removes the entry if it is still queued under entry.seq (a re-push after a remove gets
  // a new seq and stays).
  Result<void> remove(const QueueEntry& entry);
  // Persists one more failed attempt.
  Result<void> record_attempt(const QueueEntry& entry);
  // Whether a queued entry still needs the blob (the eviction guard).
  Result<bool> needs_blob(const hash::Digest& sha256) const;
  Result<QueueStats> stats() const;
  const UploadQueueOptions& options() const { return m_options; }

 private:
  UploadQueue(UploadQueueOptions options, store::Environment env)
      : m_options(std::move(options)), m_env(std::move(env)) {}
  UploadQueueOptions m_options;
  mutable store::Environment m_env;
  store::Database m_queue, m_keys, m_blobs, m_meta;
};

}  // namespace forge::cache
