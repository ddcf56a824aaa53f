// BlobWriter and the put path: stream into tmp/ while hashing, check, fsync, rename into
// cas/, index (see cas_store.h for the guarantees).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <random>

#include <fmt/format.h>

#include "blob_record.h"
#include "cache_metrics.h"
#include "forge/core/io/platform_io.h"
#include "forge/core/support/clock.h"
#include "store_impl.h"
#include "store_totals.h"

namespace forge::cache {

BlobWriter::BlobWriter(CasStore& store, std::filesystem::path temp, UniqueFd fd,
                       std::optional<BlobDigest> expected)
    : m_store(&store),
      m_temp(std::move(temp)),
      m_fd(std::move(fd)),
      m_expected(std::move(expected)) {}

BlobWriter::BlobWriter(BlobWriter&& other) noexcept
    : m_store(other.m_store),
      m_temp(std::move(other.m_temp)),
      m_fd(std::move(other.m_fd)),
      m_expected(std::move(other.m_expected)),
      m_expected_size_unknown(other.m_expected_size_unknown),
      m_hasher(std::move(other.m_hasher)),
      m_written(other.m_written),
      m_reserved(std::exchange(other.m_reserved, 0)) {}

BlobWriter::~BlobWriter() {
  discard();
}

void BlobWriter::release_reservation() {
  if (m_reserved > 0) m_store->m_impl->release(std::exchange(m_reserved, 0));
}

void BlobWriter::discard() {
  release_reservation();
  if (!m_fd) return;
  m_fd.reset();
  ::unlink(m_temp.c_str());
}

Result<void> BlobWriter::write(std::span<const std::byte> data) {
  if (!m_fd) {
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
    const ssize_t n = ::write(m_fd.get(), data.data() + done, data.size() - done);
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
  if (m_written > m_reserved) {  // size unknown at the start: reserve as it arrives
    m_store->m_impl->reserve(m_written - m_reserved);
    m_reserved = m_written;
  }
  return ok();
}

Result<BlobDigest> BlobWriter::commit() {
  if (!m_fd) {
    return fail(Error(ErrorCategory::validation, "commit after commit or failure")
                    .with_suggestion("start a new put"));
  }
  const hash::Digests digests = m_hasher.finish();
  const BlobDigest actual{*digests.sha256, m_written};
  ContentChecksum checksum;
  std::copy_n(digests.xxh3->bytes().begin(), checksum.size(), checksum.begin());
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
  if (m_store->m_impl->holds_on_disk(actual)) {
    discard();
    return actual;
  }
  if (m_store->options().fsync && ::fsync(m_fd.get()) != 0) {
    Error error = Error::from_errno(errno, "fsync", m_temp.string());
    discard();
    return fail(std::move(error));
  }
  m_fd.reset();
  auto result = m_store->m_impl->finish_put(m_temp, actual, checksum);
  release_reservation();  // indexed now (or failed)
  if (!result) {
    ::unlink(m_temp.c_str());
    return result;
  }
  // Durable here; queued (or uploaded) for the upstream before the put is acknowledged.
  FORGE_TRY_VOID(m_store->m_impl->hand_to_upstream(*result));
  return result;
}

Result<BlobWriter> CasStore::begin_put(std::optional<BlobDigest> expected) {
  if (expected && expected->size > options().max_blob_size) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("blob of {} bytes exceeds the maximum size of {} bytes",
                                  expected->size, options().max_blob_size))
                    .with_suggestion("raise cache.max_blob_size or do not cache this output"));
  }
  thread_local std::mt19937_64 random{std::random_device{}()};
  const auto temp = options().dir / "tmp" / fmt::format("{:016x}", random());
  UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return fail(Error::from_errno(errno, "open", temp.string()));
  BlobWriter writer(*this, temp, std::move(fd), std::move(expected));
  if (writer.m_expected && writer.m_expected->size > 0) {
    m_impl->reserve(writer.m_expected->size);
    writer.m_reserved = writer.m_expected->size;
  }
  return writer;
}

Result<BlobWriter> CasStore::begin_put_expecting_hash(const hash::Digest& expected_sha256) {
  FORGE_TRY(BlobWriter writer, begin_put(std::nullopt));
  writer.m_expected = BlobDigest{expected_sha256, 0};
  writer.m_expected_size_unknown = true;
  return writer;
}

Result<BlobDigest> CasStore::put(std::span<const std::byte> data,
                                 std::optional<BlobDigest> expected) {
  FORGE_TRY(BlobWriter writer, begin_put(std::move(expected)));
  FORGE_TRY_VOID(writer.write(data));
  return writer.commit();
}

bool CasStore::Impl::holds_on_disk(const BlobDigest& digest) {
  // Under the publish lock, so this process cannot evict it between the check and the
  // caller's answer; an index entry whose file is missing is not trusted.
  std::shared_lock lock(publish);
  auto txn = env.begin_read();
  if (!txn) return false;
  auto value = txn->get(blobs, key_of(digest));
  if (!value || !*value) return false;
  const auto record = BlobRecord::decode(**value);
  if (!record || record->size != digest.size) return false;
  BlobPathBuffer path;
  struct stat status;
  if (!format_blob_path(options.dir.native(), digest.sha256.bytes(), path) ||
      ::stat(path.data(), &status) != 0 ||
      static_cast<std::uint64_t>(status.st_size) != digest.size) {
    return false;
  }
  touch(key_array(key_of(digest)), now_ns());  // a re-upload is a use
  return true;
}

Result<BlobDigest> CasStore::Impl::finish_put(const std::filesystem::path& temp,
                                              const BlobDigest& actual,
                                              const ContentChecksum& checksum) {
  BlobPathBuffer path_buffer;
  if (!format_blob_path(options.dir.native(), actual.sha256.bytes(), path_buffer)) {
    return fail(Error(ErrorCategory::file_system, "store path too long")
                    .with_suggestion("use a store directory with a shorter path"));
  }
  const std::filesystem::path final_path(path_buffer.data());
  std::shared_lock publish_lock(publish);
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
  if (options.fsync) FORGE_TRY_VOID(io::fsync_directory(final_path.parent_path()));
  const std::int64_t now = now_ns();
  const std::string_view key = key_of(actual);
  bool added = false;
  std::uint64_t bytes_after = 0, entries_after = 0;
  auto written = env.write([&](store::WriteTxn& txn) -> Result<void> {
    added = false;
    FORGE_TRY(auto existing, txn.get(blobs, key));
    if (existing && BlobRecord::decode(*existing)) return ok();  // counted once
    BlobRecord record{actual.size, actual.size, now, now, 0, checksum};
    FORGE_TRY_VOID(txn.put(blobs, key, record.encode()));
    FORGE_TRY(const std::uint64_t before, bump_generation(txn, totals));
    filter.note_added(key_array(key), before);
    FORGE_TRY_VOID(txn.put(lru, lru_key(now, key), {}));
    FORGE_TRY_VOID(add_total(txn, totals, k_total_bytes, static_cast<std::int64_t>(actual.size)));
    FORGE_TRY_VOID(add_total(txn, totals, k_total_entries, 1));
    FORGE_TRY(bytes_after, read_total(txn, totals, k_total_bytes));
    FORGE_TRY(entries_after, read_total(txn, totals, k_total_entries));
    added = true;
    return ok();
  });
  if (!written) {
    filter.lost_track();  // the hook may have run for a transaction that did not commit
    return fail(std::move(written).error());
  }
  publish_lock.unlock();
  if (!added) {
    touch(key_array(key), now);  // a re-upload is a use
    return actual;
  }
  metrics().bytes_in.add(actual.size);
  publish_totals(bytes_after, entries_after);
  request_eviction_if_over(bytes_after);
  return actual;
}

}  // namespace forge::cache
