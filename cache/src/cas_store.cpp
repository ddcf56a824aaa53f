#include "forge/core/support/clock.h"
#include "forge/cache/cas_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "digest_filter.h"
#include "forge/core/io/platform_io.h"
#include "forge/core/store/encoding.h"
#include "forge/core/support/log.h"
#include "forge/core/support/metrics.h"

namespace forge::cache {
namespace {

using store::get_le;
using store::put_le;

std::string_view key_of(const BlobDigest& digest) {
  return {reinterpret_cast<const char*>(digest.sha256.bytes().data()),
          digest.sha256.bytes().size()};
}

using Key = BlobReader::Key;

Key key_array(std::string_view key) {
  Key array;
  std::memcpy(array.data(), key.data(), array.size());
  return array;
}

std::string_view key_view(const Key& key) {
  return {key.data(), key.size()};
}

// The key is a SHA-256: any 8 of its bytes are already a good hash.
struct KeyHash {
  std::size_t operator()(const Key& key) const noexcept {
    std::size_t value;
    std::memcpy(&value, key.data(), sizeof value);
    return value;
  }
};

hash::Digest digest_from_key(std::string_view key) {
  return hash::Digest(hash::Algorithm::sha256,
                      std::span(reinterpret_cast<const std::uint8_t*>(key.data()), key.size()));
}

std::string lru_key(std::int64_t accessed_ns, std::string_view digest_key) {
  std::string key;
  key.reserve(8 + digest_key.size());
  store::put_be64(key, static_cast<std::uint64_t>(accessed_ns));
  key.append(digest_key);
  return key;
}

std::uint64_t read_total(const std::optional<std::string_view>& value) {
  if (!value || value->size() != 8) return 0;
  std::size_t offset = 0;
  return get_le<std::uint64_t>(*value, offset);
}

Result<void> add_total(store::WriteTxn& txn, store::Database totals, std::string_view key,
                       std::int64_t delta) {
  FORGE_TRY(auto current, txn.get(totals, key));
  const std::int64_t value = static_cast<std::int64_t>(read_total(current)) + delta;
  std::string bytes;
  put_le(bytes, static_cast<std::uint64_t>(std::max<std::int64_t>(0, value)));
  return txn.put(totals, key, bytes);
}

Result<void> set_total(store::WriteTxn& txn, store::Database totals, std::string_view key,
                       std::uint64_t value) {
  std::string bytes;
  put_le(bytes, value);
  return txn.put(totals, key, bytes);
}

using BlobPathBuffer = std::array<char, 4096>;

// <dir>/cas/<2 hex>/<64 hex>, NUL-terminated, without allocating: every cache hit opens one.
// False when it does not fit.
bool format_blob_path(const std::string& dir, std::span<const std::uint8_t> raw,
                      BlobPathBuffer& out) {
  if (raw.size() != 32 || dir.size() + 5 + 3 + 64 + 1 > out.size()) return false;
  constexpr char k_hex[] = "0123456789abcdef";
  char* at = std::copy(dir.begin(), dir.end(), out.data());
  at = std::copy_n("/cas/", 5, at);
  char* hex = at + 3;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    hex[2 * i] = k_hex[raw[i] >> 4];
    hex[2 * i + 1] = k_hex[raw[i] & 0xf];
  }
  at[0] = hex[0];
  at[1] = hex[1];
  at[2] = '/';
  hex[64] = '\0';
  return true;
}

// Bumped by every write transaction that adds blobs to the index, in every process, so a
// process can tell whether all additions since a point were its own (see the digest filter).
constexpr std::string_view k_generation = "generation";

Result<std::uint64_t> read_generation(const store::ReadTxn& txn, store::Database totals) {
  FORGE_TRY(auto value, txn.get(totals, k_generation));
  return read_total(value);
}

// Returns the generation before the bump.
Result<std::uint64_t> bump_generation(store::WriteTxn& txn, store::Database totals) {
  FORGE_TRY(auto value, txn.get(totals, k_generation));
  const std::uint64_t before = read_total(value);
  FORGE_TRY_VOID(set_total(txn, totals, k_generation, before + 1));
  return before;
}

// SHA-256 and size of a file, streamed.
Result<BlobDigest> hash_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail(Error::from_errno(errno, "open", path.string()));
  hash::MultiHasher hasher(hash::AlgorithmSet{true, false});
  std::vector<std::byte> buffer(1 << 20);
  std::uint64_t size = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Error error = Error::from_errno(errno, "read", path.string());
      ::close(fd);
      return fail(std::move(error));
    }
    if (n == 0) break;
    hasher.update(std::span(buffer).first(static_cast<std::size_t>(n)));
    size += static_cast<std::uint64_t>(n);
  }
  ::close(fd);
  return BlobDigest{*hasher.finish().sha256, size};
}

struct CacheMetrics {
  support::Counter& hits_total = support::Metrics::global().counter("cache_hits");
  support::Counter& misses_total = support::Metrics::global().counter("cache_misses");
  support::Counter& bytes_in =
      support::Metrics::global().counter("cache_bytes_in_total", "Bytes stored");
  support::Counter& bytes_out =
      support::Metrics::global().counter("cache_bytes_out_total", "Bytes served");
  support::Counter& evictions =
      support::Metrics::global().counter("cache_evictions_total", "Blobs evicted");
  support::Counter& evicted_bytes =
      support::Metrics::global().counter("cache_evicted_bytes_total", "Bytes freed by eviction");
  support::Gauge& size =
      support::Metrics::global().gauge("cache_size_bytes", "Bytes indexed in the CAS");
  support::Gauge& entries =
      support::Metrics::global().gauge("cache_entries", "Blobs indexed in the CAS");

  // The keyspaces Forge itself uses, looked up once: a lookup is on every cache hit.
  static constexpr std::array<std::string_view, 3> k_known_keyspaces{"cas", "ac", "raw"};
  std::array<std::array<support::Counter*, 2>, 3> by_keyspace = [] {
    std::array<std::array<support::Counter*, 2>, 3> counters{};
    for (std::size_t k = 0; k < k_known_keyspaces.size(); ++k) {
      for (int hit = 0; hit < 2; ++hit) {
        counters[k][hit] = &support::Metrics::global().counter(fmt::format(
            "{}{{keyspace=\"{}\"}}", hit ? "cache_hits" : "cache_misses", k_known_keyspaces[k]));
      }
    }
    return counters;
  }();

  void record_lookup(std::string_view keyspace, bool hit) {
    if (keyspace.empty()) return;  // an internal read, counted by the caller
    (hit ? hits_total : misses_total).add();
    for (std::size_t k = 0; k < k_known_keyspaces.size(); ++k) {
      if (k_known_keyspaces[k] == keyspace) {
        by_keyspace[k][hit ? 1 : 0]->add();
        return;
      }
    }
    support::Metrics::global()
        .counter(
            fmt::format("{}{{keyspace=\"{}\"}}", hit ? "cache_hits" : "cache_misses", keyspace))
        .add();
  }
};

CacheMetrics& metrics() {
  static CacheMetrics* const k_metrics = new CacheMetrics();
  return *k_metrics;
}

}  // namespace

// --- BlobRecord ---------------------------------------------------------------------------
std::string BlobRecord::encode() const {
  std::string out;
  out.reserve(k_blob_record_size);
  out.push_back(static_cast<char>(k_blob_record_version));
  out.push_back(static_cast<char>(flags));
  put_le(out, size);
  put_le(out, stored_size);
  put_le(out, inserted_ns);
  put_le(out, accessed_ns);
  return out;
}

std::optional<BlobRecord> BlobRecord::decode(std::string_view bytes) {
  if (bytes.empty()) return std::nullopt;
  BlobRecord record;
  std::size_t offset = 1;
  const auto version = static_cast<std::uint8_t>(bytes[0]);
  if (version == 1 && bytes.size() == k_blob_record_v1_size) {
    record.size = get_le<std::uint64_t>(bytes, offset);
    record.stored_size = record.size;
  } else if (version == k_blob_record_version && bytes.size() == k_blob_record_size) {
    record.flags = static_cast<std::uint8_t>(bytes[offset++]);
    record.size = get_le<std::uint64_t>(bytes, offset);
    record.stored_size = get_le<std::uint64_t>(bytes, offset);
  } else {
    return std::nullopt;
  }
  record.inserted_ns = get_le<std::int64_t>(bytes, offset);
  record.accessed_ns = get_le<std::int64_t>(bytes, offset);
  return record;
}

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

// --- Shared state -------------------------------------------------------------------------
struct CasStore::Shared {
  std::mutex mutex;  // pins, touched, eviction flags
  std::unordered_map<Key, int, KeyHash> pins;
  std::unordered_map<Key, std::int64_t, KeyHash> touched;  // digest key -> last access
  // Shared by puts (rename + index), exclusive for eviction of one blob (index + unlink)
  // and for verify, so an unlink never removes a file that a racing put just indexed.
  std::shared_mutex publish;
  std::condition_variable wake;
  bool stop = false;
  bool evict_requested = false;
  std::thread evictor;

  // The digest filter of find_missing. It is trusted for a snapshot whose generation g is in
  // [filter_base, filter_tip]: it was built from the snapshot at filter_base, and every
  // generation up to filter_tip was this process's own put, whose key it added.
  std::mutex filter_mutex;
  std::condition_variable filter_wake;
  std::shared_ptr<DigestFilter> filter;
  bool filter_trusted = false;
  std::uint64_t filter_base = 0;
  std::uint64_t filter_tip = 0;
  // A rebuild in progress collects the keys put meanwhile and follows the generations.
  bool rebuilding = false;
  std::vector<Key> pending;
  std::uint64_t rebuild_tip = 0;
  bool rebuild_broken = false;
  bool rebuild_requested = false;
  bool filter_stop = false;
  std::atomic<bool> filter_stopping{false};  // filter_stop, readable without the mutex
  std::uint64_t rebuilds = 0;
  std::thread filter_builder;
  std::atomic<std::uint64_t> lookups_skipped{0};
};

CasStore::CasStore(StoreOptions options, store::Environment env)
    : m_options(std::move(options)), m_env(std::move(env)), m_shared(std::make_unique<Shared>()) {}

CasStore::~CasStore() {
  if (m_shared->filter_builder.joinable()) {
    {
      std::lock_guard lock(m_shared->filter_mutex);
      m_shared->filter_stop = true;
      m_shared->filter_stopping = true;
    }
    m_shared->filter_wake.notify_all();
    m_shared->filter_builder.join();
  }
  if (m_shared->evictor.joinable()) {
    {
      std::lock_guard lock(m_shared->mutex);
      m_shared->stop = true;
    }
    m_shared->wake.notify_all();
    m_shared->evictor.join();
  }
  if (auto flushed = flush_access_times(); !flushed) {
    support::log_error(flushed.error());
  }
  close_lock();
}

// --- BlobWriter -----------------------------------------------------------------------
BlobWriter::BlobWriter(CasStore& store, std::filesystem::path temp, int fd,
                       std::optional<BlobDigest> expected)
    : m_store(&store), m_temp(std::move(temp)), m_fd(fd), m_expected(std::move(expected)) {}

BlobWriter::BlobWriter(BlobWriter&& other) noexcept
    : m_store(other.m_store),
      m_temp(std::move(other.m_temp)),
      m_fd(std::exchange(other.m_fd, -1)),
      m_expected(std::move(other.m_expected)),
      m_expected_size_unknown(other.m_expected_size_unknown),
      m_hasher(std::move(other.m_hasher)),
      m_written(other.m_written) {}

BlobWriter::~BlobWriter() {
  discard();
}

void BlobWriter::discard() {
  if (m_fd < 0) return;
  ::close(std::exchange(m_fd, -1));
  ::unlink(m_temp.c_str());
}

Result<void> BlobWriter::write(std::span<const std::byte> data) {
  if (m_fd < 0) {
    return fail(Error(ErrorCategory::validation, "write after commit or failure")
                    .with_suggestion("start a new put"));
  }
  if (m_written + data.size() > m_store->options().max_blob_size) {
    discard();
    return fail(
        Error(ErrorCategory::validation, fmt::format("blob exceeds the maximum size of {} bytes",
                                                     m_store->options().max_blob_size))
            .with_suggestion("raise cache.max_blob_size or do not cache this output"));
  }
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(m_fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error error = Error::from_errno(errno, "write", m_temp.string());
      discard();
      return fail(std::move(error));
    }
    done += static_cast<std::size_t>(n);
  }
  m_hasher.update(data);
  m_written += data.size();
  return ok();
}

Result<BlobDigest> BlobWriter::commit() {
  if (m_fd < 0) {
    return fail(Error(ErrorCategory::validation, "commit after commit or failure")
                    .with_suggestion("start a new put"));
  }
  const BlobDigest actual{*m_hasher.finish().sha256, m_written};
  const bool mismatch =
      m_expected &&
      (m_expected_size_unknown ? !(m_expected->sha256 == actual.sha256) : !(*m_expected == actual));
  if (mismatch) {
    discard();
    return fail(Error(ErrorCategory::validation,
                      fmt::format("blob content does not match its digest: claimed {}, got {}",
                                  m_expected_size_unknown ? m_expected->sha256.hex()
                                                          : m_expected->to_string(),
                                  actual.to_string()))
                    .with_suggestion("the upload was corrupted or the client computed the wrong "
                                     "digest: upload it again"));
  }
  // Already stored (a re-upload: Bazel and ccache send outputs the cache holds): the temp
  // file goes, with no fsync and no rename over the existing blob.
  if (m_store->holds_on_disk(actual)) {
    discard();
    return actual;
  }
  if (m_store->options().fsync && ::fsync(m_fd) != 0) {
    Error error = Error::from_errno(errno, "fsync", m_temp.string());
    discard();
    return fail(std::move(error));
  }
  ::close(std::exchange(m_fd, -1));
  auto result = m_store->finish_put(m_temp, actual);
  if (!result) ::unlink(m_temp.c_str());
  return result;
}

// --- BlobReader -----------------------------------------------------------------------
BlobReader::BlobReader(BlobReader&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1)),
      m_size(other.m_size),
      m_store(std::exchange(other.m_store, nullptr)),
      m_key(std::move(other.m_key)) {}

BlobReader::~BlobReader() {
  if (m_fd >= 0) ::close(m_fd);
  if (m_store != nullptr) m_store->unpin(m_key);
}

Result<std::size_t> BlobReader::read(std::uint64_t offset, std::span<std::byte> out) const {
  for (;;) {
    const ssize_t n = ::pread(m_fd, out.data(), out.size(), static_cast<off_t>(offset));
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return fail(Error::from_errno(errno, "pread"));
  }
}

// --- CasStore: open / close ---------------------------------------------------------------
Result<void> CasStore::open_lock_and_detect_crash(bool& unclean) {
  unclean = false;
  const auto lock_path = m_options.dir / "lock";
  const auto running_path = m_options.dir / "running";
  m_lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (m_lock_fd < 0) return fail(Error::from_errno(errno, "open", lock_path.string()));
  if (::flock(m_lock_fd, LOCK_EX | LOCK_NB) == 0) {
    // Nobody else has the store open: leftovers are ours to judge and clean.
    std::error_code ec;
    unclean = std::filesystem::exists(running_path, ec);
    for (const auto& entry : std::filesystem::directory_iterator(m_options.dir / "tmp", ec)) {
      std::filesystem::remove(entry.path(), ec);
    }
    const int fd = ::open(running_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return fail(Error::from_errno(errno, "open", running_path.string()));
    ::close(fd);
  }
  while (::flock(m_lock_fd, LOCK_SH) != 0) {
    if (errno != EINTR) return fail(Error::from_errno(errno, "flock", lock_path.string()));
  }
  return ok();
}

void CasStore::close_lock() {
  if (m_lock_fd < 0) return;
  if (::flock(m_lock_fd, LOCK_EX | LOCK_NB) == 0) {
    std::error_code ec;
    std::filesystem::remove(m_options.dir / "running", ec);
  }
  ::close(std::exchange(m_lock_fd, -1));
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
  FORGE_TRY(store::Environment env, store::Environment::open(env_options));
  auto cas = std::shared_ptr<CasStore>(new CasStore(options, std::move(env)));
  bool unclean = false;
  FORGE_TRY_VOID(cas->open_lock_and_detect_crash(unclean));
  FORGE_TRY(cas->m_blobs, cas->m_env.open_database("blobs"));
  FORGE_TRY(cas->m_lru, cas->m_env.open_database("lru"));
  FORGE_TRY(cas->m_totals, cas->m_env.open_database("totals"));
  if (unclean && options.verify_after_unclean_shutdown) {
    support::log(spdlog::level::warn, "cache: the store was not closed cleanly; verifying it",
                 {{"dir", options.dir.string()}});
    FORGE_TRY(cas->m_recovery, cas->verify());
    support::log(spdlog::level::info, "cache: verify after unclean shutdown finished",
                 {{"checked", std::to_string(cas->m_recovery->checked)},
                  {"orphans_indexed", std::to_string(cas->m_recovery->orphans_indexed)},
                  {"missing_dropped", std::to_string(cas->m_recovery->missing_dropped)},
                  {"quarantined", std::to_string(cas->m_recovery->quarantined)}});
  }
  FORGE_TRY(Stats stats, cas->stats());
  metrics().size.set(static_cast<std::int64_t>(stats.bytes));
  metrics().entries.set(static_cast<std::int64_t>(stats.entries));
  if (options.digest_filter) {
    cas->m_shared->rebuild_requested = true;
    cas->m_shared->filter_builder = std::thread([raw = cas.get()] { raw->filter_loop(); });
  }
  if (options.max_size > 0 && options.background_eviction) {
    cas->m_shared->evictor = std::thread([raw = cas.get()] { raw->eviction_loop(); });
    if (stats.bytes > options.high_watermark * static_cast<double>(options.max_size)) {
      std::lock_guard lock(cas->m_shared->mutex);
      cas->m_shared->evict_requested = true;
      cas->m_shared->wake.notify_all();
    }
  }
  return cas;
}

std::filesystem::path CasStore::blob_path(const BlobDigest& digest) const {
  BlobPathBuffer path;
  if (format_blob_path(m_options.dir.native(), digest.sha256.bytes(), path)) return path.data();
  const std::string hex = digest.sha256.hex();
  return m_options.dir / "cas" / hex.substr(0, 2) / hex;
}

// --- lookups ------------------------------------------------------------------------------
Result<bool> CasStore::contains(const BlobDigest& digest) const {
  if (digest == empty_blob()) return true;
  FORGE_TRY(store::ReadTxn txn, m_env.begin_read());
  FORGE_TRY(auto value, txn.get(m_blobs, key_of(digest)));
  const auto record = value ? BlobRecord::decode(*value) : std::nullopt;
  return record && record->size == digest.size;
}

Result<std::vector<BlobDigest>> CasStore::find_missing(std::span<const BlobDigest> digests) const {
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
    FORGE_TRY(store::ReadTxn txn, m_env.begin_read());
    FORGE_TRY(const std::uint64_t generation, read_generation(txn, m_totals));
    const std::shared_ptr<const DigestFilter> filter = trusted_filter(generation);
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
      FORGE_TRY(auto value, txn.get(m_blobs, key_of(digest)));
      const auto record = value ? BlobRecord::decode(*value) : std::nullopt;
      present[i] = record && record->size == digest.size ? 2 : 0;  // 2: present in the index
    }
    m_shared->lookups_skipped.fetch_add(skipped, std::memory_order_relaxed);
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
  std::lock_guard lock(m_shared->mutex);
  for (std::size_t i = 0; i < digests.size(); ++i) {
    if (present[i] == 0) missing.push_back(digests[i]);
    if (present[i] == 2) m_shared->touched[key_array(key_of(digests[i]))] = now;
  }
  return missing;
}

Result<std::optional<BlobReader>> CasStore::open_blob(const BlobDigest& digest,
                                                      std::string_view keyspace) const {
  return open_pinned(digest.sha256, digest.size, keyspace);
}

Result<std::optional<BlobReader>> CasStore::open_blob(const hash::Digest& sha256,
                                                      std::string_view keyspace) const {
  return open_pinned(sha256, std::nullopt, keyspace);
}

Result<std::optional<BlobReader>> CasStore::open_pinned(const hash::Digest& sha256,
                                                        std::optional<std::uint64_t> expected_size,
                                                        std::string_view keyspace) const {
  if (sha256 == empty_blob().sha256 && expected_size.value_or(0) == 0) {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(Error::from_errno(errno, "open", "/dev/null"));
    metrics().record_lookup(keyspace, true);
    return std::optional<BlobReader>(BlobReader(fd, 0, nullptr, {}));
  }
  const auto raw = sha256.bytes();
  const std::string_view key_bytes(reinterpret_cast<const char*>(raw.data()), raw.size());
  const Key key = key_array(key_bytes);
  {
    std::lock_guard lock(m_shared->mutex);
    ++m_shared->pins[key];  // pin before the index check: eviction skips pinned blobs
  }
  auto miss = [&]() -> std::optional<BlobReader> {
    unpin(key);
    metrics().record_lookup(keyspace, false);
    return std::nullopt;
  };
  std::optional<BlobRecord> record;
  {
    auto txn = m_env.begin_read();
    auto value = txn ? txn->get(m_blobs, key_bytes) : fail(std::move(txn).error());
    if (!value) {
      unpin(key);
      return fail(std::move(value).error());
    }
    if (*value) record = BlobRecord::decode(**value);
  }
  if (!record || (expected_size && record->size != *expected_size)) return miss();
  BlobPathBuffer path;
  if (!format_blob_path(m_options.dir.native(), raw, path)) {
    unpin(key);
    return fail(Error(ErrorCategory::file_system, "store path too long")
                    .with_suggestion("use a store directory with a shorter path"));
  }
  const int fd = ::open(path.data(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return miss();  // indexed but gone (evicted meanwhile): a miss
    const int saved = errno;
    unpin(key);
    return fail(Error::from_errno(saved, "open", path.data()));
  }
  {
    std::lock_guard lock(m_shared->mutex);
    m_shared->touched[key] = now_ns();
  }
  metrics().record_lookup(keyspace, true);
  metrics().bytes_out.add(record->size);
  return std::optional<BlobReader>(BlobReader(fd, record->size, this, key));
}

void CasStore::unpin(const Key& key) const {
  std::lock_guard lock(m_shared->mutex);
  auto it = m_shared->pins.find(key);
  if (it != m_shared->pins.end() && --it->second <= 0) m_shared->pins.erase(it);
}

Result<std::optional<std::string>> CasStore::get(const BlobDigest& digest,
                                                 std::string_view keyspace) const {
  FORGE_TRY(auto reader, open_blob(digest, keyspace));
  if (!reader) return std::optional<std::string>();
  std::string content(reader->size(), '\0');
  std::size_t done = 0;
  while (done < content.size()) {
    FORGE_TRY(std::size_t n,
              reader->read(done, std::as_writable_bytes(std::span(content)).subspan(done)));
    if (n == 0) {
      return fail(Error(ErrorCategory::file_system,
                        fmt::format("blob {} is shorter on disk than indexed", digest.to_string()))
                      .with_suggestion("run `forge cache verify` to repair the store"));
    }
    done += n;
  }
  return std::optional<std::string>(std::move(content));
}

Result<CasStore::Stats> CasStore::stats() const {
  FORGE_TRY(store::ReadTxn txn, m_env.begin_read());
  Stats stats;
  FORGE_TRY(auto bytes, txn.get(m_totals, "bytes"));
  FORGE_TRY(auto entries, txn.get(m_totals, "entries"));
  stats.bytes = read_total(bytes);
  stats.entries = read_total(entries);
  return stats;
}

// --- puts ---------------------------------------------------------------------------------
Result<BlobWriter> CasStore::begin_put(std::optional<BlobDigest> expected) {
  if (expected && expected->size > m_options.max_blob_size) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("blob of {} bytes exceeds the maximum size of {} bytes",
                                  expected->size, m_options.max_blob_size))
                    .with_suggestion("raise cache.max_blob_size or do not cache this output"));
  }
  thread_local std::mt19937_64 random{std::random_device{}()};
  const auto temp = m_options.dir / "tmp" / fmt::format("{:016x}", random());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return fail(Error::from_errno(errno, "open", temp.string()));
  return BlobWriter(*this, temp, fd, std::move(expected));
}

Result<BlobWriter> CasStore::begin_put_expecting_hash(const hash::Digest& expected_sha256) {
  FORGE_TRY(BlobWriter writer, begin_put(std::nullopt));
  writer.m_expected = BlobDigest{expected_sha256, 0};
  writer.m_expected_size_unknown = true;
  return writer;
}

Result<std::optional<BlobDigest>> CasStore::find(const hash::Digest& sha256) const {
  if (sha256 == empty_blob().sha256) return std::optional<BlobDigest>(empty_blob());
  FORGE_TRY(store::ReadTxn txn, m_env.begin_read());
  const auto raw = sha256.bytes();
  FORGE_TRY(auto value, txn.get(m_blobs, std::string_view(reinterpret_cast<const char*>(raw.data()),
                                                          raw.size())));
  const auto record = value ? BlobRecord::decode(*value) : std::nullopt;
  if (!record) return std::optional<BlobDigest>();
  return std::optional<BlobDigest>(BlobDigest{sha256, record->size});
}

Result<BlobDigest> CasStore::put(std::span<const std::byte> data,
                                 std::optional<BlobDigest> expected) {
  FORGE_TRY(BlobWriter writer, begin_put(std::move(expected)));
  FORGE_TRY_VOID(writer.write(data));
  return writer.commit();
}

bool CasStore::holds_on_disk(const BlobDigest& digest) const {
  // Under the publish lock, so this process cannot evict it between the check and the
  // caller's answer; an index entry whose file is missing is not trusted.
  std::shared_lock publish(m_shared->publish);
  auto present = contains(digest);
  if (!present || !*present) return false;
  struct stat status;
  if (::stat(blob_path(digest).c_str(), &status) != 0 ||
      static_cast<std::uint64_t>(status.st_size) != digest.size) {
    return false;
  }
  std::lock_guard lock(m_shared->mutex);
  m_shared->touched[key_array(key_of(digest))] = now_ns();  // a re-upload is a use
  return true;
}

Result<BlobDigest> CasStore::finish_put(const std::filesystem::path& temp,
                                        const BlobDigest& actual) {
  const auto final_path = blob_path(actual);
  std::shared_lock publish(m_shared->publish);
  if (::rename(temp.c_str(), final_path.c_str()) != 0) {
    // The first blob of its cas/<2 hex>/ directory: create the directory, then retry.
    if (errno != ENOENT) return fail(Error::from_errno(errno, "rename", final_path.string()));
    std::error_code ec;
    std::filesystem::create_directories(final_path.parent_path(), ec);
    if (ec) return fail(Error::from_error_code(ec, "mkdir", final_path.parent_path().string()));
    if (::rename(temp.c_str(), final_path.c_str()) != 0) {
      return fail(Error::from_errno(errno, "rename", final_path.string()));
    }
  }
  if (m_options.fsync) FORGE_TRY_VOID(io::fsync_directory(final_path.parent_path()));
  const std::int64_t now = now_ns();
  bool added = false;
  Stats after;
  auto written = m_env.write([&](store::WriteTxn& txn) -> Result<void> {
    added = false;
    FORGE_TRY(auto existing, txn.get(m_blobs, key_of(actual)));
    if (existing && BlobRecord::decode(*existing)) return ok();  // counted once
    BlobRecord record{actual.size, actual.size, now, now, 0};
    FORGE_TRY_VOID(txn.put(m_blobs, key_of(actual), record.encode()));
    FORGE_TRY(const std::uint64_t before, bump_generation(txn, m_totals));
    note_added(key_array(key_of(actual)), before);
    FORGE_TRY_VOID(txn.put(m_lru, lru_key(now, key_of(actual)), {}));
    FORGE_TRY_VOID(add_total(txn, m_totals, "bytes", static_cast<std::int64_t>(actual.size)));
    FORGE_TRY_VOID(add_total(txn, m_totals, "entries", 1));
    FORGE_TRY(after.bytes, [&]() -> Result<std::uint64_t> {
      FORGE_TRY(auto v, txn.get(m_totals, "bytes"));
      return read_total(v);
    }());
    FORGE_TRY(after.entries, [&]() -> Result<std::uint64_t> {
      FORGE_TRY(auto v, txn.get(m_totals, "entries"));
      return read_total(v);
    }());
    added = true;
    return ok();
  });
  if (!written) {
    filter_lost_track();  // the hook may have run for a transaction that did not commit
    return fail(std::move(written).error());
  }
  publish.unlock();
  if (!added) {
    std::lock_guard lock(m_shared->mutex);
    m_shared->touched[key_array(key_of(actual))] = now;  // a re-upload is a use
    return actual;
  }
  metrics().bytes_in.add(actual.size);
  metrics().size.set(static_cast<std::int64_t>(after.bytes));
  metrics().entries.set(static_cast<std::int64_t>(after.entries));
  if (m_options.max_size > 0 && m_options.background_eviction &&
      static_cast<double>(after.bytes) >
          m_options.high_watermark * static_cast<double>(m_options.max_size)) {
    std::lock_guard lock(m_shared->mutex);
    m_shared->evict_requested = true;
    m_shared->wake.notify_all();
  }
  return actual;
}

// --- access times and eviction ------------------------------------------------------------
Result<void> CasStore::flush_access_times() {
  std::unordered_map<Key, std::int64_t, KeyHash> touched;
  {
    std::lock_guard lock(m_shared->mutex);
    touched.swap(m_shared->touched);
  }
  if (touched.empty()) return ok();
  return m_env.write([&](store::WriteTxn& txn) -> Result<void> {
    for (const auto& [key_bytes, accessed] : touched) {
      const std::string_view key = key_view(key_bytes);
      FORGE_TRY(auto value, txn.get(m_blobs, key));
      auto record = value ? BlobRecord::decode(*value) : std::nullopt;
      if (!record || record->accessed_ns >= accessed) continue;
      FORGE_TRY_VOID(txn.erase(m_lru, lru_key(record->accessed_ns, key)));
      record->accessed_ns = accessed;
      FORGE_TRY_VOID(txn.put(m_blobs, key, record->encode()));
      FORGE_TRY_VOID(txn.put(m_lru, lru_key(accessed, key), {}));
    }
    return ok();
  });
}

Result<EvictionReport> CasStore::evict_now(std::optional<std::uint64_t> target_bytes) {
  EvictionReport report;
  if (!target_bytes) {
    if (m_options.max_size == 0) return report;
    target_bytes = static_cast<std::uint64_t>(m_options.low_watermark *
                                              static_cast<double>(m_options.max_size));
  }
  FORGE_TRY_VOID(flush_access_times());
  FORGE_TRY(Stats stats, this->stats());
  if (stats.bytes <= *target_bytes) return report;
  std::uint64_t excess = stats.bytes - *target_bytes;

  // Candidates, oldest access first, from one snapshot.
  struct Victim {
    std::string lru;
    std::string key;
    std::uint64_t size;
  };
  std::vector<Victim> victims;
  {
    FORGE_TRY(store::ReadTxn txn, m_env.begin_read());
    FORGE_TRY(store::Cursor cursor, txn.cursor(m_lru));
    std::uint64_t planned = 0;
    FORGE_TRY(auto entry, cursor.first());
    while (entry && planned < excess) {
      const std::string_view lru = entry->first;
      if (lru.size() == 8 + 32) {
        const std::string_view key = lru.substr(8);
        FORGE_TRY(auto value, txn.get(m_blobs, key));
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
    std::unique_lock publish(m_shared->publish);
    {
      std::lock_guard lock(m_shared->mutex);
      const Key key = key_array(victim.key);
      if (m_shared->pins.count(key) != 0 || m_shared->touched.count(key) != 0) {
        ++report.skipped_pinned;  // being read, or used since the snapshot
        continue;
      }
    }
    bool erased = false;
    FORGE_TRY_VOID(m_env.write([&](store::WriteTxn& txn) -> Result<void> {
      erased = false;
      FORGE_TRY(auto value, txn.get(m_blobs, victim.key));
      const auto record = value ? BlobRecord::decode(*value) : std::nullopt;
      // Re-check inside the transaction: another process may have used or removed it.
      if (!record || lru_key(record->accessed_ns, victim.key) != victim.lru) return ok();
      FORGE_TRY_VOID(txn.erase(m_blobs, victim.key));
      FORGE_TRY_VOID(txn.erase(m_lru, victim.lru));
      FORGE_TRY_VOID(add_total(txn, m_totals, "bytes", -static_cast<std::int64_t>(record->size)));
      FORGE_TRY_VOID(add_total(txn, m_totals, "entries", -1));
      erased = true;
      return ok();
    }));
    if (!erased) continue;
    const auto path = blob_path(BlobDigest{digest_from_key(victim.key), victim.size});
    ::unlink(path.c_str());
    ++report.evicted;
    report.bytes_freed += victim.size;
  }
  metrics().evictions.add(report.evicted);
  metrics().evicted_bytes.add(report.bytes_freed);
  FORGE_TRY(Stats after, this->stats());
  metrics().size.set(static_cast<std::int64_t>(after.bytes));
  metrics().entries.set(static_cast<std::int64_t>(after.entries));
  if (report.evicted > 0) {
    support::log(spdlog::level::info, "cache: evicted least recently used blobs",
                 {{"evicted", std::to_string(report.evicted)},
                  {"bytes_freed", std::to_string(report.bytes_freed)},
                  {"skipped_pinned", std::to_string(report.skipped_pinned)}});
  }
  return report;
}

void CasStore::eviction_loop() {
  std::unique_lock lock(m_shared->mutex);
  for (;;) {
    m_shared->wake.wait(lock, [&] { return m_shared->stop || m_shared->evict_requested; });
    if (m_shared->stop) return;
    m_shared->evict_requested = false;
    lock.unlock();
    if (auto report = evict_now(); !report) {
      support::log_error(report.error());
    }
    lock.lock();
  }
}

// --- verify -------------------------------------------------------------------------------
Result<VerifyReport> CasStore::verify() {
  VerifyReport report;
  FORGE_TRY_VOID(flush_access_times());
  std::unique_lock publish(m_shared->publish);
  const std::int64_t now = now_ns();
  std::error_code ec;

  // 1. Every file under cas/: hash it; quarantine what does not match its name, index what
  //    the index does not know.
  std::vector<std::pair<std::string, BlobDigest>> good;  // digest key, digest
  for (const auto& shard : std::filesystem::directory_iterator(m_options.dir / "cas", ec)) {
    std::error_code shard_ec;
    for (const auto& entry : std::filesystem::directory_iterator(shard.path(), shard_ec)) {
      const auto path = entry.path();
      const std::string name = path.filename().string();
      ++report.checked;
      auto actual = hash_file(path);
      if (!actual) return fail(std::move(actual).error());
      if (!hash::is_hex64(name) || actual->sha256.hex() != name ||
          name.substr(0, 2) != shard.path().filename().string()) {
        const auto target = m_options.dir / "quarantine" / fmt::format("{}.{}", name, now);
        if (::rename(path.c_str(), target.c_str()) != 0) {
          return fail(Error::from_errno(errno, "rename", target.string()));
        }
        ++report.quarantined;
        support::log(spdlog::level::warn,
                     "cache: quarantined a blob whose content does not match its name",
                     {{"path", path.string()}, {"quarantine", target.string()}});
        continue;
      }
      good.emplace_back(std::string(key_of(*actual)), *actual);
    }
  }
  if (ec) return fail(Error::from_error_code(ec, "cache.verify", (m_options.dir / "cas").string()));

  // 2. One transaction: add orphans, fix sizes, drop entries whose file is gone or was
  //    quarantined, and recompute the totals from the records.
  FORGE_TRY_VOID(m_env.write([&](store::WriteTxn& txn) -> Result<void> {
    report.orphans_indexed = report.missing_dropped = 0;
    std::unordered_map<std::string, std::uint64_t> on_disk;
    on_disk.reserve(good.size());
    for (const auto& [key, digest] : good) {
      on_disk.emplace(key, digest.size);
      FORGE_TRY(auto value, txn.get(m_blobs, key));
      auto record = value ? BlobRecord::decode(*value) : std::nullopt;
      if (record && record->size == digest.size) continue;
      if (record) FORGE_TRY_VOID(txn.erase(m_lru, lru_key(record->accessed_ns, key)));
      BlobRecord fresh{digest.size, digest.size, now, now, 0};
      FORGE_TRY_VOID(txn.put(m_blobs, key, fresh.encode()));
      FORGE_TRY_VOID(txn.put(m_lru, lru_key(now, key), {}));
      ++report.orphans_indexed;
    }
    std::vector<std::pair<std::string, std::optional<BlobRecord>>> drop;
    std::uint64_t bytes = 0, entries = 0;
    {
      FORGE_TRY(store::Cursor cursor, txn.cursor(m_blobs));
      FORGE_TRY(auto entry, cursor.first());
      while (entry) {
        const auto record = BlobRecord::decode(entry->second);
        if (!record || on_disk.count(std::string(entry->first)) == 0) {
          drop.emplace_back(std::string(entry->first), record);
        } else {
          bytes += record->size;
          ++entries;
        }
        FORGE_TRY(entry, cursor.next());
      }
    }
    for (const auto& [key, record] : drop) {
      FORGE_TRY_VOID(txn.erase(m_blobs, key));
      if (record) FORGE_TRY_VOID(txn.erase(m_lru, lru_key(record->accessed_ns, key)));
      ++report.missing_dropped;
    }
    FORGE_TRY_VOID(set_total(txn, m_totals, "bytes", bytes));
    FORGE_TRY_VOID(set_total(txn, m_totals, "entries", entries));
    if (report.orphans_indexed > 0) {
      FORGE_TRY_VOID(bump_generation(txn, m_totals));
    }
    report.bytes = bytes;
    report.entries = entries;
    return ok();
  }));
  if (report.orphans_indexed > 0) filter_lost_track();
  metrics().size.set(static_cast<std::int64_t>(report.bytes));
  metrics().entries.set(static_cast<std::int64_t>(report.entries));
  return report;
}

// --- the digest filter of find_missing ----------------------------------------------------
std::shared_ptr<const DigestFilter> CasStore::trusted_filter(std::uint64_t generation) const {
  std::lock_guard lock(m_shared->filter_mutex);
  if (m_shared->filter && m_shared->filter_trusted && m_shared->filter_base <= generation &&
      generation <= m_shared->filter_tip) {
    return m_shared->filter;
  }
  // Another process added blobs (or a rebuild is due): answer from the index, and rebuild.
  if (m_options.digest_filter && !m_shared->rebuilding) {
    m_shared->rebuild_requested = true;
    m_shared->filter_wake.notify_all();
  }
  return nullptr;
}

void CasStore::note_added(const Key& key, std::uint64_t generation_before) const {
  std::lock_guard lock(m_shared->filter_mutex);
  if (m_shared->filter) {
    m_shared->filter->add(key_view(key));
    if (m_shared->filter_trusted && m_shared->filter_tip == generation_before) {
      m_shared->filter_tip = generation_before + 1;
    } else {
      m_shared->filter_trusted = false;
    }
    if (m_shared->filter->added() > 2 * m_shared->filter->capacity()) {
      m_shared->rebuild_requested = true;  // grown past its size: false positives climb
      m_shared->filter_wake.notify_all();
    }
  }
  if (m_shared->rebuilding) {
    m_shared->pending.push_back(key);
    if (!m_shared->rebuild_broken && m_shared->rebuild_tip == generation_before) {
      m_shared->rebuild_tip = generation_before + 1;
    } else {
      m_shared->rebuild_broken = true;
    }
  }
}

void CasStore::filter_lost_track() const {
  std::lock_guard lock(m_shared->filter_mutex);
  m_shared->filter_trusted = false;
  m_shared->rebuild_broken = true;
  if (m_options.digest_filter) {
    m_shared->rebuild_requested = true;
    m_shared->filter_wake.notify_all();
  }
}

Result<void> CasStore::rebuild_filter() {
  std::optional<store::ReadTxn> snapshot;
  std::uint64_t base = 0;
  {
    // The snapshot and the start of the rebuild are one step for note_added(): a put either
    // is in the snapshot, or is collected in `pending`, or breaks the generation chain.
    std::lock_guard lock(m_shared->filter_mutex);
    FORGE_TRY(store::ReadTxn txn, m_env.begin_read());
    FORGE_TRY(base, read_generation(txn, m_totals));
    snapshot.emplace(std::move(txn));
    m_shared->rebuilding = true;
    m_shared->pending.clear();
    m_shared->rebuild_tip = base;
    m_shared->rebuild_broken = false;
  }
  auto finish = [&](std::shared_ptr<DigestFilter> fresh) {
    std::lock_guard lock(m_shared->filter_mutex);
    if (fresh) {
      for (const Key& key : m_shared->pending) fresh->add(key_view(key));
      if (!m_shared->rebuild_broken) {
        m_shared->filter = std::move(fresh);
        m_shared->filter_trusted = true;
        m_shared->filter_base = base;
        m_shared->filter_tip = m_shared->rebuild_tip;
      }
    }
    m_shared->rebuilding = false;
    m_shared->pending.clear();
    ++m_shared->rebuilds;
  };
  auto built = [&]() -> Result<std::shared_ptr<DigestFilter>> {
    FORGE_TRY(const std::size_t entries, snapshot->count(m_blobs));
    // Room to double before the next rebuild.
    auto fresh = std::make_shared<DigestFilter>(std::max<std::size_t>(2 * entries, 64 * 1024));
    FORGE_TRY(store::Cursor cursor, snapshot->cursor(m_blobs));
    FORGE_TRY(auto entry, cursor.first());
    for (std::size_t seen = 1; entry; ++seen) {
      if (entry->first.size() == DigestFilter::k_key_size) fresh->add(entry->first);
      if (seen % 4096 == 0 && m_shared->filter_stopping.load(std::memory_order_relaxed)) {
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

void CasStore::filter_loop() {
  // Rate-limited: a busy foreign writer must not keep this thread scanning the index.
  const auto k_min_interval = m_options.digest_filter_rebuild_interval;
  std::chrono::steady_clock::time_point last{};
  std::unique_lock lock(m_shared->filter_mutex);
  for (;;) {
    m_shared->filter_wake.wait(
        lock, [&] { return m_shared->filter_stop || m_shared->rebuild_requested; });
    if (m_shared->filter_stop) return;
    const auto next = last + k_min_interval;
    if (last != std::chrono::steady_clock::time_point{} &&
        std::chrono::steady_clock::now() < next) {
      m_shared->filter_wake.wait_until(lock, next, [&] { return m_shared->filter_stop; });
      if (m_shared->filter_stop) return;
    }
    m_shared->rebuild_requested = false;
    last = std::chrono::steady_clock::now();
    lock.unlock();
    if (auto rebuilt = rebuild_filter(); !rebuilt) {
      support::log(spdlog::level::warn, "cache: digest filter rebuild failed",
                   {{"error", rebuilt.error().to_string()}});
    }
    lock.lock();
  }
}

DigestFilterStats CasStore::digest_filter_stats() const {
  std::lock_guard lock(m_shared->filter_mutex);
  DigestFilterStats stats;
  stats.ready = m_shared->filter != nullptr;
  stats.trusted = m_shared->filter_trusted;
  stats.rebuilds = m_shared->rebuilds;
  stats.lookups_skipped = m_shared->lookups_skipped.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace forge::cache
