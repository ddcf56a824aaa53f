#pragma once
// CasStore::Impl: the state behind a CasStore, shared by the files that implement it
// (cas_store.cpp: open/close and lookups, blob_writer.cpp, blob_reader.cpp, eviction.cpp,
// verify.cpp). Internal to forge_cache.
//
// Locking:
// - `mutex` guards pins, touched and the eviction flags (held briefly, never across I/O
//   other than in-memory work).
// - `publish` is shared by puts (rename + index) and exclusive for the eviction of one blob
//   (index + unlink) and for verify, so this process never unlinks a file a racing put of
//   its own just indexed.
// - LMDB serialises write transactions (across processes too).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "blob_layout.h"
#include "blob_record.h"
#include "digest_filter_tracker.h"
#include "forge/cache/cas_store.h"
#include "forge/cache/upstream_tier.h"
#include "forge/core/store/lmdb.h"
#include "forge/core/support/unique_fd.h"

namespace forge::cache {

struct CasStore::Impl {
  Impl(StoreOptions options_in, store::Environment env_in)
      : options(std::move(options_in)),
        env(std::move(env_in)),
        filter(options.digest_filter, options.digest_filter_rebuild_interval) {}

  StoreOptions options;
  store::Environment env;
  store::Database blobs, lru, totals;
  UniqueFd lock_fd;  // shared flock on <dir>/lock while open
  std::optional<VerifyReport> recovery;

  std::mutex mutex;
  std::unordered_map<Key, int, KeyHash> pins;
  std::unordered_map<Key, std::int64_t, KeyHash> touched;  // digest key -> last access
  std::shared_mutex publish;
  std::condition_variable wake;
  bool stop = false;
  bool evict_requested = false;
  std::thread evictor;

  DigestFilterTracker filter;

  // The upstream tier (cas_store_upstream.cpp); null without one. Set before concurrent use.
  std::shared_ptr<UpstreamTier> upstream;
  // Read-through: true when the blob was fetched from the upstream and is now stored here.
  bool fetch_from_upstream(const hash::Digest& sha256, std::optional<std::uint64_t> size);
  // Write-behind: hands a newly stored blob to the upstream (queue or synchronous upload).
  Result<void> hand_to_upstream(const BlobDigest& digest);
  // Eviction guard: the upload queue still needs this blob.
  bool queued_for_upload(const Key& key) const;

  // Bytes of the puts in progress in this process (their expected size, or what they have
  // written so far when it is unknown): eviction makes room for them before they land, so
  // concurrent uploads do not push the store past max_size.
  std::atomic<std::uint64_t> reserved{0};
  std::atomic<std::uint64_t> indexed_bytes{0};  // the last totals this process saw
  void reserve(std::uint64_t bytes);
  void release(std::uint64_t bytes);

  void pin(const Key& key);
  void unpin(const Key& key);
  // Records a use for LRU (reaches the index with the next flush).
  void touch(const Key& key, std::int64_t now);
  // True when `digest` is indexed and its file is on disk with that size (records a use).
  bool holds_on_disk(const BlobDigest& digest);
  // Renames a complete, checked temp file into cas/ and indexes it with its checksum.
  Result<BlobDigest> finish_put(const std::filesystem::path& temp, const BlobDigest& actual,
                                const ContentChecksum& checksum);
  // Moves the blob file open as `fd` (if it is still the one at its path) to quarantine/
  // and drops its index entry. Logs; never fails (the caller reports the corruption).
  void quarantine(const Key& key, int fd, std::string_view why);
  Result<void> open_lock_and_detect_crash(bool& unclean);
  void close_lock();
  // Wakes the eviction thread when `bytes` passed the high watermark.
  void request_eviction_if_over(std::uint64_t bytes);
  static void eviction_loop(CasStore& store);
  void publish_totals(std::uint64_t bytes, std::uint64_t entries);
};

}  // namespace forge::cache
