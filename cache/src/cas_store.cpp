#include "forge/cache/cas_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <random>

#include <fmt/format.h>

namespace forge::cache {
namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <typename T>
void put_le(std::string& out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out.push_back(static_cast<char>((static_cast<std::uint64_t>(value) >> (8 * i)) & 0xff));
  }
}

std::uint64_t get_le64(std::string_view bytes, std::size_t offset) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    value |= static_cast<std::uint64_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  }
  return value;
}

std::string_view key_of(const BlobDigest& digest) {
  return {reinterpret_cast<const char*>(digest.sha256.bytes().data()),
          digest.sha256.bytes().size()};
}

Result<void> fsync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(Error::from_errno(errno, "open", dir.string()));
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) return fail(Error::from_errno(saved, "fsync", dir.string()));
  return ok();
}

Result<void> add_total(store::WriteTxn& txn, store::Database totals, std::string_view key,
                       std::uint64_t delta) {
  FORGE_TRY(auto current, txn.get(totals, key));
  const std::uint64_t value = (current && current->size() == 8 ? get_le64(*current, 0) : 0) + delta;
  std::string bytes;
  put_le(bytes, value);
  return txn.put(totals, key, bytes);
}

}  // namespace

// --- BlobWriter -----------------------------------------------------------------------
BlobWriter::BlobWriter(CasStore& store, std::filesystem::path temp, int fd,
                       std::optional<BlobDigest> expected)
    : m_store(&store), m_temp(std::move(temp)), m_fd(fd), m_expected(std::move(expected)) {}

BlobWriter::BlobWriter(BlobWriter&& other) noexcept
    : m_store(other.m_store),
      m_temp(std::move(other.m_temp)),
      m_fd(std::exchange(other.m_fd, -1)),
      m_expected(std::move(other.m_expected)),
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
  if (m_expected && !(*m_expected == actual)) {
    discard();
    return fail(Error(ErrorCategory::validation,
                      fmt::format("blob content does not match its digest: claimed {}, got {}",
                                  m_expected->to_string(), actual.to_string()))
                    .with_suggestion("the upload was corrupted or the client computed the wrong "
                                     "digest: upload it again"));
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
    : m_fd(std::exchange(other.m_fd, -1)), m_size(other.m_size) {}

BlobReader::~BlobReader() {
  if (m_fd >= 0) ::close(m_fd);
}

Result<std::size_t> BlobReader::read(std::uint64_t offset, std::span<std::byte> out) const {
  for (;;) {
    const ssize_t n = ::pread(m_fd, out.data(), out.size(), static_cast<off_t>(offset));
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return fail(Error::from_errno(errno, "pread"));
  }
}

// --- CasStore -------------------------------------------------------------------------
Result<std::shared_ptr<CasStore>> CasStore::open(const StoreOptions& options) {
  std::error_code ec;
  for (const char* sub : {"cas", "tmp"}) {
    std::filesystem::create_directories(options.dir / sub, ec);
    if (ec) return fail(Error::from_error_code(ec, "cache.open", (options.dir / sub).string()));
  }
  // Temp files left by a crash are never indexed and never visible under cas/: drop them.
  for (const auto& entry : std::filesystem::directory_iterator(options.dir / "tmp", ec)) {
    std::filesystem::remove(entry.path(), ec);
  }
  store::EnvOptions env_options;
  env_options.dir = options.dir / "index";
  env_options.sync = options.fsync;
  FORGE_TRY(store::Environment env, store::Environment::open(env_options));
  auto cas = std::shared_ptr<CasStore>(new CasStore(options, std::move(env)));
  FORGE_TRY(cas->m_blobs, cas->m_env.open_database("blobs"));
  FORGE_TRY(cas->m_totals, cas->m_env.open_database("totals"));
  return cas;
}

std::filesystem::path CasStore::blob_path(const BlobDigest& digest) const {
  const std::string hex = digest.sha256.hex();
  return m_options.dir / "cas" / hex.substr(0, 2) / hex;
}

Result<bool> CasStore::contains(const BlobDigest& digest) const {
  if (digest == empty_blob()) return true;
  FORGE_TRY(store::ReadTxn txn, m_env.begin_read());
  FORGE_TRY(auto value, txn.get(m_blobs, key_of(digest)));
  return value && value->size() == k_blob_record_size && get_le64(*value, 1) == digest.size;
}

Result<std::vector<BlobDigest>> CasStore::find_missing(std::span<const BlobDigest> digests) const {
  std::vector<BlobDigest> missing;
  FORGE_TRY(store::ReadTxn txn, m_env.begin_read());
  for (const BlobDigest& digest : digests) {
    if (digest == empty_blob()) continue;
    FORGE_TRY(auto value, txn.get(m_blobs, key_of(digest)));
    if (!value || value->size() != k_blob_record_size || get_le64(*value, 1) != digest.size) {
      missing.push_back(digest);
    }
  }
  return missing;
}

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

Result<BlobDigest> CasStore::put(std::span<const std::byte> data,
                                 std::optional<BlobDigest> expected) {
  FORGE_TRY(BlobWriter writer, begin_put(std::move(expected)));
  FORGE_TRY_VOID(writer.write(data));
  return writer.commit();
}

Result<BlobDigest> CasStore::finish_put(const std::filesystem::path& temp,
                                        const BlobDigest& actual) {
  const auto final_path = blob_path(actual);
  std::error_code ec;
  std::filesystem::create_directories(final_path.parent_path(), ec);
  if (ec) return fail(Error::from_error_code(ec, "mkdir", final_path.parent_path().string()));
  if (::rename(temp.c_str(), final_path.c_str()) != 0) {
    return fail(Error::from_errno(errno, "rename", final_path.string()));
  }
  if (m_options.fsync) FORGE_TRY_VOID(fsync_dir(final_path.parent_path()));
  const std::int64_t now = now_ns();
  FORGE_TRY_VOID(m_env.write([&](store::WriteTxn& txn) -> Result<void> {
    FORGE_TRY(auto existing, txn.get(m_blobs, key_of(actual)));
    if (existing && existing->size() == k_blob_record_size) return ok();  // counted once
    std::string record;
    record.push_back(static_cast<char>(k_blob_record_version));
    put_le(record, actual.size);
    put_le(record, now);
    put_le(record, now);
    FORGE_TRY_VOID(txn.put(m_blobs, key_of(actual), record));
    FORGE_TRY_VOID(add_total(txn, m_totals, "bytes", actual.size));
    return add_total(txn, m_totals, "entries", 1);
  }));
  return actual;
}

Result<std::optional<BlobReader>> CasStore::open_blob(const BlobDigest& digest) const {
  if (digest == empty_blob()) {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail(Error::from_errno(errno, "open", "/dev/null"));
    return std::optional<BlobReader>(BlobReader(fd, 0));
  }
  FORGE_TRY(bool present, contains(digest));
  if (!present) return std::optional<BlobReader>();
  const auto path = blob_path(digest);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<BlobReader>();  // indexed but gone: a miss
    return fail(Error::from_errno(errno, "open", path.string()));
  }
  return std::optional<BlobReader>(BlobReader(fd, digest.size));
}

Result<std::optional<std::string>> CasStore::get(const BlobDigest& digest) const {
  FORGE_TRY(auto reader, open_blob(digest));
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
  if (bytes && bytes->size() == 8) stats.bytes = get_le64(*bytes, 0);
  if (entries && entries->size() == 8) stats.entries = get_le64(*entries, 0);
  return stats;
}

}  // namespace forge::cache
