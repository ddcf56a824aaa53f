// CasStore: options, open/close (with unclean-shutdown detection) and index lookups. The
// put, read, eviction, verify and digest-filter paths live in their own files (see
// cas_store.h).
#include "forge/cache/cas_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "blob_record.h"
#include "cache_metrics.h"
#include "forge/core/store/lmdb_check.h"
#include "forge/core/support/clock.h"
#include "forge/core/support/log.h"
#include "store_impl.h"
#include "store_totals.h"

namespace forge::cache {

Result<void> validate(const StoreOptions& options) {
  auto invalid = [](std::string message, std::string suggestion) {
    return fail(Error(ErrorCategory::configuration, std::move(message))
                    .with_suggestion(std::move(suggestion)));
  };
  if (options.dir.empty()) {
    return invalid("cache.dir is empty", "name the store directory, e.g. --dir ~/.cache/forge");
  }
  if (options.max_blob_size == 0) {
    return invalid("cache.max_blob_size is 0", "set it to the largest blob you accept, e.g. 4G");
  }
  if (!(options.low_watermark > 0 && options.low_watermark < options.high_watermark &&
        options.high_watermark <= 1.0)) {
    return invalid(fmt::format("cache watermarks are inconsistent: low {} high {}",
                               options.low_watermark, options.high_watermark),
                   "use 0 < low_watermark < high_watermark <= 1, e.g. 0.90 and 0.95");
  }
  return ok();
}

// --- open / close -------------------------------------------------------------------------
CasStore::CasStore(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

CasStore::~CasStore() {
  Impl& impl = *m_impl;
  if (impl.upstream) impl.upstream->stop();  // its workers read this store
  impl.filter.stop();
  if (impl.evictor.joinable()) {
    {
      std::lock_guard lock(impl.mutex);
      impl.stop = true;
    }
    impl.wake.notify_all();
    impl.evictor.join();
  }
  if (auto flushed = flush_access_times(); !flushed) {
    support::log_error(flushed.error());
  }
  impl.close_lock();
}

const StoreOptions& CasStore::options() const {
  return m_impl->options;
}

const std::optional<VerifyReport>& CasStore::recovery() const {
  return m_impl->recovery;
}

store::Environment& CasStore::environment() {
  return m_impl->env;
}

DigestFilterStats CasStore::digest_filter_stats() const {
  return m_impl->filter.stats();
}

void CasStore::Impl::publish_totals(std::uint64_t bytes, std::uint64_t entries) {
  indexed_bytes.store(bytes, std::memory_order_relaxed);
  metrics().size.set(static_cast<std::int64_t>(bytes));
  metrics().entries.set(static_cast<std::int64_t>(entries));
}

Result<void> CasStore::Impl::open_lock_and_detect_crash(bool& unclean) {
  unclean = false;
  const auto lock_path = options.dir / "lock";
  const auto running_path = options.dir / "running";
  lock_fd.reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!lock_fd) return fail(Error::from_errno(errno, "open", lock_path.string()));
  if (::flock(lock_fd.get(), LOCK_EX | LOCK_NB) == 0) {
    // Nobody else has the store open: leftovers are ours to judge and clean.
    std::error_code ec;
    unclean = std::filesystem::exists(running_path, ec);
    for (const auto& entry : std::filesystem::directory_iterator(options.dir / "tmp", ec)) {
      std::filesystem::remove(entry.path(), ec);
    }
    UniqueFd running(::open(running_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    if (!running) return fail(Error::from_errno(errno, "open", running_path.string()));
  }
  while (::flock(lock_fd.get(), LOCK_SH) != 0) {
    if (errno != EINTR) return fail(Error::from_errno(errno, "flock", lock_path.string()));
  }
  return ok();
}

void CasStore::Impl::close_lock() {
  if (!lock_fd) return;
  if (::flock(lock_fd.get(), LOCK_EX | LOCK_NB) == 0) {
    std::error_code ec;
    std::filesystem::remove(options.dir / "running", ec);
  }
  lock_fd.reset();
}

Result<std::shared_ptr<CasStore>> CasStore::open(const StoreOptions& options) {
  FORGE_TRY_VOID(validate(options));
  std::error_code ec;
  for (const char* sub : {"cas", "tmp", "quarantine"}) {
    std::filesystem::create_directories(options.dir / sub, ec);
    if (ec) return fail(Error::from_error_code(ec, "cache.open", (options.dir / sub).string()));
  }
  store::EnvOptions env_options;
  env_options.dir = options.dir / "index";
  env_options.sync = options.fsync;
  auto opened = store::Environment::open(env_options);
  bool rebuilt = false;
  if (!opened && store::is_damaged_index(opened.error())) {
    // The index is derived data: move the damaged one aside (for a post-mortem) and rebuild
    // it from cas/ with verify(). Action cache entries are lost (they become misses).
    const auto aside = options.dir / fmt::format("index.damaged.{}", now_ns());
    support::log(spdlog::level::err, "cache: the store index is damaged; rebuilding it from cas/",
                 {{"error", opened.error().summary()}, {"moved_to", aside.string()}});
    std::filesystem::rename(env_options.dir, aside, ec);
    if (ec) return fail(Error::from_error_code(ec, "cache.open", env_options.dir.string()));
    opened = store::Environment::open(env_options);
    rebuilt = true;
  }
  if (!opened) return fail(std::move(opened).error());
  store::Environment env = std::move(*opened);
  auto cas =
      std::shared_ptr<CasStore>(new CasStore(std::make_unique<Impl>(options, std::move(env))));
  Impl& impl = *cas->m_impl;
  bool unclean = false;
  FORGE_TRY_VOID(impl.open_lock_and_detect_crash(unclean));
  FORGE_TRY(impl.blobs, impl.env.open_database("blobs"));
  FORGE_TRY(impl.lru, impl.env.open_database("lru"));
  FORGE_TRY(impl.totals, impl.env.open_database("totals"));
  if (rebuilt || (unclean && options.verify_after_unclean_shutdown)) {
    support::log(spdlog::level::warn, "cache: the store was not closed cleanly; verifying it",
                 {{"dir", options.dir.string()}});
    FORGE_TRY(impl.recovery, cas->verify());
    support::log(spdlog::level::info, "cache: verify after unclean shutdown finished",
                 {{"checked", std::to_string(impl.recovery->checked)},
                  {"orphans_indexed", std::to_string(impl.recovery->orphans_indexed)},
                  {"missing_dropped", std::to_string(impl.recovery->missing_dropped)},
                  {"quarantined", std::to_string(impl.recovery->quarantined)}});
  }
  FORGE_TRY(Stats stats, cas->stats());
  impl.publish_totals(stats.bytes, stats.entries);
  impl.filter.start(impl.env, impl.blobs, impl.totals);
  if (options.max_size > 0 && options.background_eviction) {
    impl.evictor = std::thread([raw = cas.get()] { Impl::eviction_loop(*raw); });
    impl.request_eviction_if_over(stats.bytes);
  }
  return cas;
}

// --- lookups ------------------------------------------------------------------------------
Result<bool> CasStore::contains(const BlobDigest& digest) const {
  if (digest == empty_blob()) return true;
  FORGE_TRY(store::ReadTxn txn, m_impl->env.begin_read());
  FORGE_TRY(auto value, txn.get(m_impl->blobs, key_of(digest)));
  const auto record = value ? BlobRecord::decode(*value) : std::nullopt;
  if (record && record->size == digest.size) return true;
  if (!m_impl->upstream || UpstreamTier::local_only()) return false;
  return m_impl->upstream->present_upstream(std::span(&digest, 1)).front();
}

Result<std::vector<BlobDigest>> CasStore::find_missing(std::span<const BlobDigest> digests) const {
  Impl& impl = *m_impl;
  // Each lookup in a large index is a few cache misses (the leaf page of a random key is
  // cold), so big queries are split across two threads, each with its own read snapshot.
  std::vector<std::uint8_t> present(digests.size(), 0);
  // Key order: neighbouring lookups share B-tree pages, and each thread gets one key range.
  // Sorting by the first 8 key bytes (big-endian, so integer order is key order) is as
  // good for locality as a full-key sort and several times cheaper.
  std::vector<std::uint32_t> order(digests.size());
  if (digests.size() >= 256) {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> by_prefix(digests.size());
    for (std::uint32_t i = 0; i < by_prefix.size(); ++i) {
      std::uint64_t prefix;
      std::memcpy(&prefix, digests[i].sha256.bytes().data(), sizeof prefix);
      by_prefix[i] = {__builtin_bswap64(prefix), i};
    }
    std::sort(by_prefix.begin(), by_prefix.end());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = by_prefix[k].second;
  } else {
    for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  }
  auto look_up = [&](std::size_t begin, std::size_t end) -> Result<void> {
    FORGE_TRY(store::ReadTxn txn, impl.env.begin_read());
    FORGE_TRY(const std::uint64_t generation, read_total(txn, impl.totals, k_generation));
    const std::shared_ptr<const DigestFilter> filter = impl.filter.trusted(generation);
    std::uint64_t skipped = 0;
    for (std::size_t k = begin; k < end; ++k) {
      const std::size_t i = order[k];
      const BlobDigest& digest = digests[i];
      if (digest == empty_blob()) {
        present[i] = 1;
        continue;
      }
      if (filter && !filter->may_contain(key_of(digest))) {
        ++skipped;  // certainly absent: no index lookup
        continue;
      }
      FORGE_TRY(auto value, txn.get(impl.blobs, key_of(digest)));
      const auto record = value ? BlobRecord::decode(*value) : std::nullopt;
      present[i] = record && record->size == digest.size ? 2 : 0;  // 2: present in the index
    }
    impl.filter.count_skipped(skipped);
    return ok();
  };
  constexpr std::size_t k_parallel_threshold = 2048;
  if (digests.size() < k_parallel_threshold) {
    FORGE_TRY_VOID(look_up(0, digests.size()));
  } else {
    const std::size_t half = digests.size() / 2;
    Result<void> second = ok();
    std::thread helper([&] { second = look_up(half, digests.size()); });
    Result<void> first = look_up(0, half);
    helper.join();
    FORGE_TRY_VOID(first);
    FORGE_TRY_VOID(second);
  }
  std::vector<BlobDigest> missing;
  // A client that asks is about to rely on the blobs it did not list as missing (Bazel's
  // FindMissingBlobs before uploading the rest): count that as a use so eviction keeps them.
  const std::int64_t now = now_ns();
  {
    std::lock_guard lock(impl.mutex);
    for (std::size_t i = 0; i < digests.size(); ++i) {
      if (present[i] == 0) missing.push_back(digests[i]);
      if (present[i] == 2) impl.touched[key_array(key_of(digests[i]))] = now;
    }
  }
  // Not under the lock: the upstream is asked over the network.
  if (!missing.empty() && impl.upstream && !UpstreamTier::local_only()) {
    const std::vector<bool> upstream = impl.upstream->present_upstream(missing);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < missing.size(); ++i) {
      if (!upstream[i]) missing[kept++] = missing[i];
    }
    missing.resize(kept);
  }
  return missing;
}

Result<std::optional<BlobDigest>> CasStore::find(const hash::Digest& sha256) const {
  if (sha256 == empty_blob().sha256) return std::optional<BlobDigest>(empty_blob());
  FORGE_TRY(store::ReadTxn txn, m_impl->env.begin_read());
  FORGE_TRY(auto value, txn.get(m_impl->blobs, key_of(sha256)));
  const auto record = value ? BlobRecord::decode(*value) : std::nullopt;
  if (record) return std::optional<BlobDigest>(BlobDigest{sha256, record->size});
  // The HTTP protocol names blobs without their size: only the blob itself tells it.
  if (m_impl->fetch_from_upstream(sha256, std::nullopt)) return find(sha256);
  return std::optional<BlobDigest>();
}

Result<CasStore::Stats> CasStore::stats() const {
  FORGE_TRY(store::ReadTxn txn, m_impl->env.begin_read());
  Stats stats;
  FORGE_TRY(stats.bytes, read_total(txn, m_impl->totals, k_total_bytes));
  FORGE_TRY(stats.entries, read_total(txn, m_impl->totals, k_total_entries));
  return stats;
}

}  // namespace forge::cache
