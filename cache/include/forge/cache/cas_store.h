#pragma once
// CasStore: content-addressed blobs on disk, indexed in LMDB.
//
// Layout under StoreOptions::dir:
//   cas/<first 2 hex>/<64 hex>   one file per blob, named by its SHA-256
//   tmp/                         writes in progress (never visible under cas/)
//   quarantine/                  blobs whose content did not match their name (verify)
//   index/                       LMDB: "blobs" raw digest (32 B) -> BlobRecord,
//                                "lru"   be64 accessed_ns | raw digest -> "" (eviction order),
//                                "totals" "bytes"/"entries" -> u64 LE,
//                                "ac"/"raw" (ActionCache) -> value digest
//   lock, running                 unclean-shutdown detection (see below)
// BlobRecord (the "blobs" value) is a versioned record: cache/src/blob_record.h.
// The implementation is split by concern under cache/src/: blob_layout (paths and keys),
// blob_record, blob_writer, blob_reader, eviction, verify, digest_filter_tracker (the trust
// protocol of find_missing), store_totals, put_file.
//
// Guarantees (see also "corrupt content is never served" below):
// - A put streams into tmp/ while hashing, checks the claimed digest and size (mismatch →
//   Validation error, temp removed, nothing indexed), fsyncs the file (StoreOptions::fsync),
//   renames it into cas/, fsyncs the directory and only then indexes it, updating totals in
//   the same transaction. A reader never sees a partial blob.
// - Concurrent puts of one blob all succeed and leave identical content (rename is atomic
//   and both temps hold the same bytes); the index counts the blob once.
// - The empty blob always exists.
// - Eviction (max_size > 0): when the indexed bytes plus the bytes of this process's puts in
//   progress (reserved when a put starts: its expected size, or as it arrives) pass
//   high_watermark * max_size, a background thread removes least-recently-used blobs until
//   they are under low_watermark * max_size minus the reservation, so concurrent uploads
//   do not push the store past max_size. A blob that is open in a BlobReader (pinned) in
//   this process is never removed. Eviction unlinks a blob's file inside the index
//   transaction that drops it, before the commit, so a put of the same blob by another
//   process (which renames only when the index lacks it) can never lose its file.
//   Reads record their access time in memory; it reaches the index before each eviction
//   pass and when the store closes.
// - Unclean shutdown: every process holds a shared flock on `lock` while the store is open;
//   the last one to close removes `running`. An opener that finds `running` while nobody
//   else holds the lock runs verify() before it returns (a crash can leave a renamed but
//   unindexed blob, or totals that lag by one put).
// - A damaged index (store::is_damaged_index at open: see lmdb.h "Damage") is moved to
//   index.damaged.<ns> and rebuilt from cas/ by verify(); action cache entries become misses.
// Thread-safe: one CasStore per directory per process, shared by every thread. Several
// processes may open one directory at once (LMDB serialises writers).

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "forge/cache/blob_digest.h"
#include "forge/core/hash/hasher.h"
#include "forge/core/store/lmdb.h"
#include "forge/core/support/unique_fd.h"

namespace forge::cache {

class UpstreamTier;

struct StoreOptions {
  std::filesystem::path dir;
  std::uint64_t max_blob_size = 4ull << 30;  // 4 GiB: larger than any build output we expect
  bool fsync = true;                         // file and directory before acknowledging
  std::uint64_t max_size = 0;                // 0: unbounded, no eviction
  double high_watermark = 0.95;              // start evicting above this fraction of max_size
  double low_watermark = 0.90;               // ... and stop below this one
  bool background_eviction = true;           // false: only evict_now() evicts (tests, gc)
  bool verify_after_unclean_shutdown = true;
  // Keep an in-memory Bloom filter of the index (about 2 bytes per blob, built in the
  // background at open) so find_missing answers most absent digests without an index lookup.
  bool digest_filter = true;
  // Rebuilds of the filter (after another process added blobs) are at least this far apart.
  std::chrono::milliseconds digest_filter_rebuild_interval{2000};
};

// Checks StoreOptions; the error names the field and the fix.
Result<void> validate(const StoreOptions& options);

struct VerifyReport {
  std::uint64_t checked = 0;          // files hashed
  std::uint64_t orphans_indexed = 0;  // good files that the index did not know
  std::uint64_t missing_dropped = 0;  // index entries without a file
  std::uint64_t quarantined = 0;      // files whose content did not match their name
  std::uint64_t temps_removed = 0;
  std::uint64_t unreadable_shards = 0;  // cas/<2 hex> directories it could not list (their
                                        // entries are kept)
  std::uint64_t entries = 0;            // totals after the repair
  std::uint64_t bytes = 0;
};

// What the digest filter of find_missing has done (for tests, benchmarks and /status).
struct DigestFilterStats {
  bool ready = false;    // a filter has been built
  bool trusted = false;  // it covers every blob this process knows was added
  std::uint64_t rebuilds = 0;
  std::uint64_t lookups_skipped = 0;  // digests answered "missing" without an index lookup
};

struct EvictionReport {
  std::uint64_t evicted = 0;
  std::uint64_t bytes_freed = 0;
  std::uint64_t skipped_pinned = 0;
  std::uint64_t skipped_queued = 0;  // still queued for upload to the upstream tier
};

class CasStore;
class BlobReader;

// --- corrupt content is never served ----------------------------------------------------
// Every put records the XXH3-128 of the content in the blob's index record (blobs stored by
// Forge before that have only their SHA-256 name, which is checked instead). A check that
// finds the bytes on disk differ from what was stored (a flipped bit, a truncated file):
//   1. moves the file to quarantine/<hex>.<ns> (only the file this reader opened: a good
//      copy put meanwhile stays) and drops its index entry, so the next lookup is a miss and
//      clients upload the blob again; counts cache_corrupt_blobs_total;
//   2. returns an Error for which is_corrupt_blob() is true (category validation, code
//      k_corrupt_blob_code).
// What a front end does with it:
//   - small blob, response not started: `reader.verify_all()` (or `read_all()`) first; on a
//     corrupt-blob error answer a miss (404 / NOT_FOUND).
//   - streaming: `auto check = reader.verifier();` then `check.update(chunk)` for every chunk
//     sent, in order from offset 0, and `check.finish()` before the last chunk goes out
//     when possible, else after it; on error abort the transfer (close the connection /
//     fail the stream with DATA_LOSS) so the client never completes a corrupt download.
// CasStore::get() checks before returning (a corrupt blob is a miss).
inline constexpr int k_corrupt_blob_code = 0xC0DE;

// The buffer for streaming a file of `file_size` bytes in or out of the store: the whole
// file up to k_copy_buffer_max (1 MiB: syscalls stay a small share, memory stays bounded
// whatever the size), at least one page. A fresh 1 MiB buffer per small file costs 256
// page faults, which dominated uploads of trees of small files.
inline constexpr std::size_t k_copy_buffer_max = std::size_t{1} << 20;
inline constexpr std::size_t copy_buffer_size(std::uint64_t file_size) {
  return file_size >= k_copy_buffer_max ? k_copy_buffer_max
                                        : std::max<std::size_t>(4096, file_size + 1);
}
bool is_corrupt_blob(const Error& error);

// Reads `fd` from its position to its end, `buffer.size()` bytes at a time (EINTR is
// retried), handing each chunk to `sink`: the number of bytes read. A read error names
// `path`; the first error `sink` returns stops the read and is returned. Blocking;
// thread-compatible (the caller owns fd and buffer).
Result<std::uint64_t> read_to_end(
    const UniqueFd& fd, const std::filesystem::path& path, std::span<std::byte> buffer,
    const std::function<Result<void>(std::span<const std::byte>)>& sink);

// Checks one pass over a blob's bytes (see above). Move-only; valid while its reader lives.
// Not thread-safe (one pass, one thread).
class BlobVerifier {
 public:
  BlobVerifier(BlobVerifier&&) noexcept = default;
  BlobVerifier& operator=(BlobVerifier&&) noexcept = default;
  BlobVerifier(const BlobVerifier&) = delete;
  BlobVerifier& operator=(const BlobVerifier&) = delete;
  ~BlobVerifier() = default;

  // The next bytes of the blob, in order from offset 0.
  void update(std::span<const std::byte> chunk);
  // After the last chunk: ok when exactly reader.size() bytes were given and they match what
  // was stored. A mismatch (or a file on disk shorter than indexed) quarantines the blob and
  // returns a corrupt-blob error. Fewer bytes given than the file holds is a plain
  // validation error (not corrupt, nothing quarantined): never verify a range read. Once only.
  Result<void> finish();

 private:
  friend class BlobReader;
  explicit BlobVerifier(const BlobReader& reader);
  const BlobReader* m_reader;
  hash::MultiHasher m_hasher;
  std::uint64_t m_seen = 0;
  bool m_finished = false;
};

// A put in progress. Move-only; destroying it without commit() removes the temp file.
class BlobWriter {
 public:
  BlobWriter(BlobWriter&& other) noexcept;
  BlobWriter& operator=(BlobWriter&&) = delete;
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;
  ~BlobWriter();

  Result<void> write(std::span<const std::byte> data);
  std::uint64_t bytes_written() const { return m_written; }
  Result<BlobDigest> commit();

 private:
  friend class CasStore;
  BlobWriter(CasStore& store, std::filesystem::path temp, UniqueFd fd,
             std::optional<BlobDigest> expected);
  void discard();
  void release_reservation();
  CasStore* m_store;
  std::filesystem::path m_temp;
  UniqueFd m_fd;
  std::optional<BlobDigest> m_expected;
  bool m_expected_size_unknown = false;                    // only m_expected->sha256 is checked
  hash::MultiHasher m_hasher{hash::AlgorithmSet::both()};  // SHA-256 name, XXH3 checksum
  std::uint64_t m_written = 0;
  std::uint64_t m_reserved = 0;  // counted in the store's in-flight reservation
};

// An open blob: reads see exactly the committed bytes, even if the blob is replaced.
class BlobReader {
 public:
  using Key = std::array<char, 32>;  // the raw SHA-256, as indexed

  BlobReader(BlobReader&& other) noexcept;
  BlobReader& operator=(BlobReader&&) = delete;
  BlobReader(const BlobReader&) = delete;
  BlobReader& operator=(const BlobReader&) = delete;
  ~BlobReader();

  std::uint64_t size() const { return m_size; }
  Result<std::size_t> read(std::uint64_t offset, std::span<std::byte> out) const;  // pread
  int fd() const { return m_fd.get(); }

  // A verifier for one pass over the blob (see "corrupt content" above).
  BlobVerifier verifier() const;
  // Reads the whole blob once and checks it (quarantines it on a mismatch): cheap before
  // a response starts (the page cache serves the second read). Memory: 1 MiB at most.
  Result<void> verify_all() const;
  // The whole blob in memory, checked: for small blobs (memory = size()).
  Result<std::string> read_all() const;

 private:
  friend class CasStore;
  friend class BlobVerifier;
  // Reads every byte once through a verifier, handing each chunk to sink (may be empty).
  Result<void> read_checked(const std::function<void(std::span<const std::byte>)>& sink) const;
  // Quarantines the blob and returns the corrupt-blob error that says why.
  Error corrupt(std::string_view why) const;
  BlobReader(UniqueFd fd, std::uint64_t size, const CasStore* pinned_by, const Key& key)
      : m_fd(std::move(fd)), m_size(size), m_store(pinned_by), m_key(key) {}
  UniqueFd m_fd;
  std::uint64_t m_size;
  const CasStore* m_store;  // releases the pin on m_key when destroyed
  Key m_key;
  std::optional<std::array<std::uint8_t, 16>> m_checksum;  // XXH3-128 recorded at put
};

class CasStore {
 public:
  static Result<std::shared_ptr<CasStore>> open(const StoreOptions& options);

  Result<bool> contains(const BlobDigest& digest) const;
  // The digests that are not stored, in the order given. Exact: the digest filter only
  // answers for snapshots whose every addition it saw (additions by other processes make it
  // step aside until it is rebuilt), so a stored blob is never reported missing and a
  // missing one never reported stored.
  Result<std::vector<BlobDigest>> find_missing(std::span<const BlobDigest> digests) const;
  Result<BlobWriter> begin_put(std::optional<BlobDigest> expected);
  // A put whose size is not known in advance (HTTP chunked uploads): only the hash is
  // checked at commit.
  Result<BlobWriter> begin_put_expecting_hash(const hash::Digest& expected_sha256);
  // The indexed digest (with its size) of a blob known only by its hash (the HTTP cache
  // protocol names blobs without their size); nullopt when absent.
  Result<std::optional<BlobDigest>> find(const hash::Digest& sha256) const;
  Result<BlobDigest> put(std::span<const std::byte> data, std::optional<BlobDigest> expected = {});
  // Streams a regular file into the store (copy_buffer_size() at a time) and returns
  // its digest. Errors name the file (open/read) or come from the put.
  Result<BlobDigest> put_file(const std::filesystem::path& file);
  // A hit pins the blob against eviction until the reader is destroyed and records the
  // access for LRU. `keyspace` only labels the hit/miss metrics (empty: not counted, for
  // reads on behalf of a caller that counts its own lookups).
  Result<std::optional<BlobReader>> open_blob(const BlobDigest& digest,
                                              std::string_view keyspace = "cas") const;
  // The same for a blob known only by its hash (HTTP names): one index lookup finds the
  // size and checks presence. nullopt when absent.
  Result<std::optional<BlobReader>> open_blob(const hash::Digest& sha256,
                                              std::string_view keyspace = "cas") const;
  // The whole blob, checked (see "corrupt content"): nullopt when absent or corrupt (the
  // corrupt blob is quarantined, so the caller can treat it as any other miss).
  Result<std::optional<std::string>> get(const BlobDigest& digest,
                                         std::string_view keyspace = "cas") const;

  struct Stats {
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0;
  };
  Result<Stats> stats() const;
  std::filesystem::path blob_path(const BlobDigest& digest) const;
  const StoreOptions& options() const;

  // Flushes recorded accesses, then removes LRU blobs until the indexed bytes are at most
  // target_bytes (default: low_watermark * max_size; with max_size 0, nothing).
  Result<EvictionReport> evict_now(std::optional<std::uint64_t> target_bytes = {});
  // Re-hashes every blob on disk and repairs the index (see VerifyReport). Safe beside
  // other threads and other processes (a running server) using the store: it drops an index
  // entry only when, under the index write lock, the entry's file is certainly absent
  // (ENOENT), so blobs put while it runs, and entries of a shard it could not list, stay.
  Result<VerifyReport> verify();
  // The report of the verify() that open() ran after an unclean shutdown, if it ran one.
  const std::optional<VerifyReport>& recovery() const;
  // Writes the accesses recorded in memory to the index (done by evict_now and at close).
  Result<void> flush_access_times();
  DigestFilterStats digest_filter_stats() const;

  // Puts a remote tier behind this store (upstream_tier.h): a blob missing here is asked of
  // it by open_blob/get/find (read-through, verified), contains/find_missing count a blob
  // the upstream holds as present, every newly stored blob is handed to it (write-behind)
  // before the put returns, and eviction keeps blobs still queued for upload. Binds the
  // tier to this store and starts its workers; the store stops them when it closes.
  // REQUIRES: called once, before concurrent use.
  void attach_upstream(std::shared_ptr<UpstreamTier> tier);
  // The attached tier, or null.
  UpstreamTier* upstream() const;

  // The LMDB environment, for the action cache's databases (opened before concurrent use).
  store::Environment& environment();

  ~CasStore();
  CasStore(const CasStore&) = delete;
  CasStore& operator=(const CasStore&) = delete;

 private:
  friend class BlobWriter;
  friend class BlobReader;
  struct Impl;  // cache/src/store_impl.h
  explicit CasStore(std::unique_ptr<Impl> impl);
  // Pins, checks the index (size must match when expected_size is set) and opens the file.
  Result<std::optional<BlobReader>> open_pinned(const hash::Digest& sha256,
                                                std::optional<std::uint64_t> expected_size,
                                                std::string_view keyspace) const;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace forge::cache
