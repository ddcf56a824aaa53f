#pragma once
// UpstreamTier: the policy between the local store and one Upstream.
//
// Read-through (fetch_blob, fetch_action):
// - A local miss asks the upstream. The body streams into a BlobWriter of the local store,
//   which checks its SHA-256 (and size, when known) before anything is indexed: a corrupt
//   answer is counted (upstream_corrupt_total), logged, retried, and never stored or served.
// - Concurrent misses of one key make one upstream request (single-flight), for blobs and
//   for action-cache values alike: later callers wait for the first one's outcome
//   (shared_fetches counts them).
// - An unavailable upstream (errors after the retries, or the circuit breaker open) is a
//   miss for the caller, never an error: the local tier keeps serving.
// - Size hints: the size of every blob present_upstream() found is remembered (bounded), so
//   a read without a size (HTTP GET /cas/<sha256>) of an output whose action result was
//   just validated can go through an upstream that names blobs by hash and size (grpc://).
// Write-behind (stored):
// - Called after a blob or action-cache entry is durable locally, before the client is
//   told. UpstreamWrite::behind pushes it to the persistent UploadQueue (upload_queue.h)
//   and returns; background workers upload it. UpstreamWrite::through uploads it before
//   returning (with retries) and fails when the upload does.
// - Queue full: the write is uploaded synchronously instead; if that fails the write fails
//   (a Network error the front ends answer with 503), so nothing acknowledged is ever only
//   local with no record of the upload it still needs.
// - Workers upload oldest first; an `ac` entry leaves only when nothing older is queued, so
//   the upstream never holds an action result before its outputs. Retryable failures keep
//   the entry and pause the queue with exponential backoff and jitter (RetryPolicy);
//   an upstream that rejects an entry (4xx other than 401/403) or a blob gone from the local
//   store drops it, counted in upstream_upload_errors_total and logged.
// - needs_blob(): the local tier's eviction skips blobs a queued entry still needs.
// Retries: the RetryPolicy (Property 10) on retryable errors only; the CircuitBreaker
// opens after repeated faults and lets one probe through every open_for.
// Threading: thread-safe. `workers` threads drain the queue until stop() (or the
// destructor); with workers = 0 nothing drains unless drain_once() is called (tests,
// `forge cache push`). Calls into the bound CasStore made by the tier itself never reach
// the tier again (local_only()).

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "forge/cache/circuit_breaker.h"
#include "forge/cache/upload_queue.h"
#include "forge/cache/upstream.h"
#include "forge/core/support/retry_policy.h"

namespace forge::cache {

class CasStore;

enum class UpstreamWrite : std::uint8_t { behind, through };
// "behind" / "through"; anything else is a Configuration error naming the flag.
Result<UpstreamWrite> parse_upstream_write(std::string_view text);

struct TierOptions {
  UpstreamWrite write = UpstreamWrite::behind;
  // Three attempts 100 ms .. 2 s apart: a restarting upstream is waited for briefly, a
  // down one costs a client under a second before the breaker takes over.
  support::RetryPolicy retry{.max_attempts = 3,
                             .initial_delay = std::chrono::milliseconds(100),
                             .multiplier = 4.0,
                             .max_delay = std::chrono::milliseconds(2'000),
                             .jitter = 0.2};
  // The queue's pause after failed uploads grows to this (then the breaker's probes decide).
  std::chrono::milliseconds max_queue_pause{30'000};
  CircuitBreakerOptions breaker;
  // Upload threads: two keep a remote link busy while one waits on a slow answer.
  unsigned workers = 2;
  // find_missing remembers "not upstream" this long: Bazel asks about the same outputs in
  // quick succession, and a blob uploaded meanwhile is at worst fetched a moment later.
  std::chrono::milliseconds negative_cache_ttl{2'000};
  std::uint64_t max_action_size = 16ull << 20;  // action results are read in memory
  UploadQueueOptions queue;                     // queue.dir is required
};

struct TierStats {
  QueueStats queue;
  std::uint64_t uploads = 0;
  std::uint64_t upload_errors = 0;
  std::uint64_t fetch_hits = 0;
  std::uint64_t fetch_misses = 0;
  std::uint64_t fetch_errors = 0;
  std::uint64_t corrupt = 0;
  std::uint64_t shared_fetches = 0;  // callers that waited for another caller's fetch
  BreakerState breaker = BreakerState::closed;
  std::size_t connections = 0;
};

// While one exists on a thread, UpstreamTier::local_only() is true there: lookups and puts of
// the store on that thread stay in the local tier (no read-through, nothing queued). The
// tier's own calls into the store use it, and so does a front end asking whether it may skip
// a body it is about to receive anyway. Thread-local: never keep one across a coroutine's
// suspension (another coroutine on the thread would see it).
class LocalOnlyScope {
 public:
  LocalOnlyScope();
  ~LocalOnlyScope();
  LocalOnlyScope(const LocalOnlyScope&) = delete;
  LocalOnlyScope& operator=(const LocalOnlyScope&) = delete;
  LocalOnlyScope(LocalOnlyScope&&) = delete;
  LocalOnlyScope& operator=(LocalOnlyScope&&) = delete;
};

class UpstreamTier {
 public:
  static Result<std::shared_ptr<UpstreamTier>> open(TierOptions options,
                                                    std::unique_ptr<Upstream> upstream);
  ~UpstreamTier();
  UpstreamTier(const UpstreamTier&) = delete;
  UpstreamTier& operator=(const UpstreamTier&) = delete;

  // Binds the local store and starts the workers. REQUIRES: called once; the store
  // outlives the tier's use of it, i.e. until stop() (CasStore stops its tier when closing).
  void bind(CasStore& store);
  // Stops and joins the workers (entries stay queued). Idempotent.
  void stop();

  // Read-through of a CAS blob the local store lacks: true once it is stored locally.
  Result<bool> fetch_blob(const hash::Digest& sha256, std::optional<std::uint64_t> size = {});
  // An action-cache value (space ac or raw) from the upstream (not stored: the caller
  // validates and stores it); nullopt on a miss or an unavailable upstream.
  Result<std::optional<std::string>> fetch_action(UpstreamSpace space, std::string_view key);
  // For each digest, whether the upstream holds it: one batched Upstream::contains_many
  // for the digests not answered by the negative cache (grpc: FindMissingBlobs; http/s3:
  // parallel HEADs); false while the breaker is open, after an error, or within
  // negative_cache_ttl of an "absent" answer.
  std::vector<bool> present_upstream(std::span<const BlobDigest> digests);
  // Write-behind hook (see above). value: the CAS blob to upload (for cas, the blob itself).
  Result<void> stored(UpstreamSpace space, std::string_view key, const BlobDigest& value);
  // One pass over the queue by the calling thread: uploads what is due; the count uploaded.
  Result<std::size_t> drain_once();
  // Eviction guard: a queued entry still needs this blob.
  bool needs_blob(const hash::Digest& sha256) const;

  TierStats stats() const;
  nlohmann::json status_json() const;
  const Upstream& upstream() const { return *m_upstream; }
  const TierOptions& options() const { return m_options; }

  // True on a thread inside the tier's own calls into the store (a LocalOnlyScope).
  static bool local_only();

 private:
  struct Flights;  // the single-flight maps of blob and action reads (upstream_tier.cpp)
  UpstreamTier(TierOptions options, std::unique_ptr<Upstream> upstream,
               std::unique_ptr<UploadQueue> queue);
  // Runs attempt under the RetryPolicy and the breaker (Dependency error while it is open).
  Result<void> with_retries(const std::function<Result<void>()>& attempt);
  // One attempt through the breaker.
  Result<void> through_breaker(const std::function<Result<void>()>& attempt);
  Result<void> upload_now(UpstreamSpace space, std::string_view key, const BlobDigest& value);
  Result<bool> fetch_blob_once(const hash::Digest& sha256, std::optional<std::uint64_t> size);
  Result<std::optional<std::string>> fetch_action_once(UpstreamSpace space, std::string_view key);
  Result<void> upload(const QueueEntry& entry);
  Result<std::optional<QueueEntry>> claim(bool& paused);
  void finish(const QueueEntry& entry, const Result<void>& outcome);
  void worker_loop();
  void publish_gauges() const;

  const TierOptions m_options;
  const std::unique_ptr<Upstream> m_upstream;
  const std::unique_ptr<UploadQueue> m_queue;
  CircuitBreaker m_breaker;
  CasStore* m_store = nullptr;

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  bool m_stop = false;                                            // guarded by m_mutex
  const std::unique_ptr<Flights> m_flights;                       // its own lock
  std::unordered_map<hash::Digest, std::int64_t> m_absent_until;  // guarded by m_mutex
  std::unordered_map<hash::Digest, std::uint64_t> m_size_hints;   // guarded by m_mutex
  std::vector<std::uint64_t> m_claimed;                           // guarded by m_mutex
  std::int64_t m_paused_until = 0;                                // guarded by m_mutex
  std::uint32_t m_failed_passes = 0;                              // guarded by m_mutex
  bool m_signalled = false;  // a push since the workers last looked; guarded by m_mutex
  std::vector<std::thread> m_workers;

  std::atomic<std::uint64_t> m_uploads{0}, m_upload_errors{0}, m_fetch_hits{0}, m_fetch_misses{0},
      m_fetch_errors{0}, m_corrupt{0};
};

}  // namespace forge::cache
