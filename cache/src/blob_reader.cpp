// BlobReader and the read path: pin, index lookup, open (see cas_store.h).
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "blob_record.h"
#include "cache_metrics.h"
#include "forge/core/support/clock.h"
#include "store_impl.h"

namespace forge::cache {

BlobReader::BlobReader(BlobReader&& other) noexcept
    : m_fd(std::move(other.m_fd)),
      m_size(other.m_size),
      m_store(std::exchange(other.m_store, nullptr)),
      m_key(other.m_key) {}

BlobReader::~BlobReader() {
  m_fd.reset();
  if (m_store != nullptr) m_store->m_impl->unpin(m_key);
}

Result<std::size_t> BlobReader::read(std::uint64_t offset, std::span<std::byte> out) const {
  for (;;) {
    const ssize_t n = ::pread(m_fd.get(), out.data(), out.size(), static_cast<off_t>(offset));
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return fail(Error::from_errno(errno, "pread"));
  }
}

void CasStore::Impl::pin(const Key& key) {
  std::lock_guard lock(mutex);
  ++pins[key];
}

void CasStore::Impl::unpin(const Key& key) {
  std::lock_guard lock(mutex);
  auto it = pins.find(key);
  if (it != pins.end() && --it->second <= 0) pins.erase(it);
}

void CasStore::Impl::touch(const Key& key, std::int64_t now) {
  std::lock_guard lock(mutex);
  touched[key] = now;
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
    UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!fd) return fail(Error::from_errno(errno, "open", "/dev/null"));
    metrics().record_lookup(keyspace, true);
    return std::optional<BlobReader>(BlobReader(std::move(fd), 0, nullptr, {}));
  }
  Impl& impl = *m_impl;
  const std::string_view key_bytes = key_of(sha256);
  const Key key = key_array(key_bytes);
  impl.pin(key);  // pin before the index check: eviction skips pinned blobs
  auto miss = [&]() -> std::optional<BlobReader> {
    impl.unpin(key);
    metrics().record_lookup(keyspace, false);
    return std::nullopt;
  };
  std::optional<BlobRecord> record;
  {
    auto txn = impl.env.begin_read();
    auto value = txn ? txn->get(impl.blobs, key_bytes) : fail(std::move(txn).error());
    if (!value) {
      impl.unpin(key);
      return fail(std::move(value).error());
    }
    if (*value) record = BlobRecord::decode(**value);
  }
  if (!record || (expected_size && record->size != *expected_size)) return miss();
  BlobPathBuffer path;
  if (!format_blob_path(impl.options.dir.native(), sha256.bytes(), path)) {
    impl.unpin(key);
    return fail(Error(ErrorCategory::file_system, "store path too long")
                    .with_suggestion("use a store directory with a shorter path"));
  }
  UniqueFd fd(::open(path.data(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return miss();  // indexed but gone (evicted meanwhile): a miss
    const int saved = errno;
    impl.unpin(key);
    return fail(Error::from_errno(saved, "open", path.data()));
  }
  impl.touch(key, now_ns());
  metrics().record_lookup(keyspace, true);
  metrics().bytes_out.add(record->size);
  return std::optional<BlobReader>(BlobReader(std::move(fd), record->size, this, key));
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

}  // namespace forge::cache
