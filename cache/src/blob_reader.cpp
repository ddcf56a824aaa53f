// BlobReader, BlobVerifier and the read path: pin, index lookup, open, check the content,
// quarantine what does not match (see cas_store.h).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

#include <fmt/format.h>

#include "blob_record.h"
#include "cache_metrics.h"
#include "forge/core/support/clock.h"
#include "forge/core/support/log.h"
#include "store_impl.h"
#include "store_totals.h"

namespace forge::cache {

BlobReader::BlobReader(BlobReader&& other) noexcept
    : m_fd(std::move(other.m_fd)),
      m_size(other.m_size),
      m_store(std::exchange(other.m_store, nullptr)),
      m_key(other.m_key),
      m_checksum(other.m_checksum) {}

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

bool is_corrupt_blob(const Error& error) {
  return error.category() == ErrorCategory::validation && error.code() == k_corrupt_blob_code;
}

BlobVerifier::BlobVerifier(const BlobReader& reader)
    : m_reader(&reader),
      m_hasher(reader.m_checksum ? hash::AlgorithmSet{false, true}
                                 : hash::AlgorithmSet{true, false}) {}

void BlobVerifier::update(std::span<const std::byte> chunk) {
  m_hasher.update(chunk);
  m_seen += chunk.size();
}

Result<void> BlobVerifier::finish() {
  if (m_finished) {
    return fail(Error(ErrorCategory::validation, "BlobVerifier::finish called twice")
                    .with_suggestion("use one verifier per pass over the blob"));
  }
  m_finished = true;
  const BlobReader& reader = *m_reader;
  if (m_seen != reader.size()) {
    // A file shorter (or longer) on disk than indexed is corrupt; a pass that fed fewer
    // bytes than the file holds is the caller's mistake and proves nothing about the blob.
    struct stat status;
    if (reader.m_store != nullptr && ::fstat(reader.m_fd.get(), &status) == 0 &&
        static_cast<std::uint64_t>(status.st_size) == reader.size()) {
      return fail(Error(ErrorCategory::validation,
                        fmt::format("the verifier was given {} bytes of a blob of {} bytes", m_seen,
                                    reader.size()))
                      .with_suggestion("feed every byte of the blob, from offset 0, before "
                                       "finish(); do not verify range reads"));
    }
    return fail(reader.corrupt(
        fmt::format("{} bytes were read of a blob of {} bytes", m_seen, reader.size())));
  }
  if (reader.m_store == nullptr) return ok();  // the empty blob: nothing on disk to trust
  const hash::Digests digests = m_hasher.finish();
  const bool match = reader.m_checksum
                         ? std::equal(reader.m_checksum->begin(), reader.m_checksum->end(),
                                      digests.xxh3->bytes().begin(), digests.xxh3->bytes().end())
                         : key_of(*digests.sha256) == key_view(reader.m_key);
  if (!match)
    return fail(reader.corrupt("its content does not match the checksum recorded at put"));
  return ok();
}

BlobVerifier BlobReader::verifier() const {
  return BlobVerifier(*this);
}

Result<void> BlobReader::read_checked(
    const std::function<void(std::span<const std::byte>)>& sink) const {
  BlobVerifier check = verifier();
  // 1 MiB: few syscalls, bounded memory whatever the blob size.
  std::vector<std::byte> buffer(std::min<std::uint64_t>(m_size, 1 << 20));
  std::uint64_t offset = 0;
  while (offset < m_size) {
    FORGE_TRY(std::size_t n,
              read(offset, std::span(buffer).first(static_cast<std::size_t>(
                               std::min<std::uint64_t>(buffer.size(), m_size - offset)))));
    if (n == 0) break;  // shorter on disk than indexed: finish() reports it
    const auto chunk = std::span<const std::byte>(buffer).first(n);
    check.update(chunk);
    if (sink) sink(chunk);
    offset += n;
  }
  return check.finish();
}

Result<void> BlobReader::verify_all() const {
  return read_checked({});
}

Result<std::string> BlobReader::read_all() const {
  std::string content;
  content.reserve(m_size);
  FORGE_TRY_VOID(read_checked([&](std::span<const std::byte> chunk) {
    content.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
  }));
  return content;
}

Error BlobReader::corrupt(std::string_view why) const {
  const std::string name =
      hash::Digest(hash::Algorithm::sha256,
                   std::span(reinterpret_cast<const std::uint8_t*>(m_key.data()), m_key.size()))
          .hex();
  if (m_store != nullptr) m_store->m_impl->quarantine(m_key, m_fd.get(), why);
  return Error(ErrorCategory::validation,
               fmt::format("blob {}/{} is corrupt on disk: {}", name, m_size, why),
               k_corrupt_blob_code)
      .with_suggestion(
          "the blob was quarantined and is now a miss: upload it again (clients "
          "do this on their own); check the disk with `forge cache verify`");
}

void CasStore::Impl::quarantine(const Key& key, int fd, std::string_view why) {
  metrics().corrupt.add();
  std::unique_lock lock(publish);
  BlobPathBuffer path;
  const auto raw = std::span(reinterpret_cast<const std::uint8_t*>(key.data()), key.size());
  if (!format_blob_path(options.dir.native(), raw, path)) return;
  // Only the file this reader read: a good copy put since then (same name, new inode) stays.
  struct stat ours, current;
  if (::fstat(fd, &ours) != 0 || ::stat(path.data(), &current) != 0 ||
      ours.st_dev != current.st_dev || ours.st_ino != current.st_ino) {
    return;
  }
  const std::string name = std::filesystem::path(path.data()).filename().string();
  const auto target = options.dir / "quarantine" / fmt::format("{}.{}", name, now_ns());
  if (::rename(path.data(), target.c_str()) != 0) {
    support::log(spdlog::level::err, "cache: could not quarantine a corrupt blob",
                 {{"path", path.data()}, {"error", std::strerror(errno)}});
    return;
  }
  auto dropped = env.write([&](store::WriteTxn& txn) -> Result<void> {
    FORGE_TRY(auto value, txn.get(blobs, key_view(key)));
    const auto record = value ? BlobRecord::decode(*value) : std::nullopt;
    if (!record) return ok();
    FORGE_TRY_VOID(txn.erase(blobs, key_view(key)));
    FORGE_TRY_VOID(txn.erase(lru, lru_key(record->accessed_ns, key_view(key))));
    FORGE_TRY_VOID(add_total(txn, totals, k_total_bytes, -static_cast<std::int64_t>(record->size)));
    return add_total(txn, totals, k_total_entries, -1);
  });
  {
    std::lock_guard state(mutex);
    touched.erase(key);
  }
  support::log(spdlog::level::warn, "cache: quarantined a blob whose content changed on disk",
               {{"path", path.data()},
                {"quarantine", target.string()},
                {"reason", std::string(why)},
                {"index", dropped ? "entry dropped" : dropped.error().summary()}});
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
  FORGE_TRY(auto reader, open_pinned(digest.sha256, digest.size, keyspace));
  if (!reader && m_impl->fetch_from_upstream(digest.sha256, digest.size)) {
    return open_pinned(digest.sha256, digest.size, keyspace);
  }
  return reader;
}

Result<std::optional<BlobReader>> CasStore::open_blob(const hash::Digest& sha256,
                                                      std::string_view keyspace) const {
  FORGE_TRY(auto reader, open_pinned(sha256, std::nullopt, keyspace));
  if (!reader && m_impl->fetch_from_upstream(sha256, std::nullopt)) {
    return open_pinned(sha256, std::nullopt, keyspace);
  }
  return reader;
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
  BlobReader reader(std::move(fd), record->size, this, key);
  reader.m_checksum = record->checksum;
  return std::optional<BlobReader>(std::move(reader));
}

Result<std::optional<std::string>> CasStore::get(const BlobDigest& digest,
                                                 std::string_view keyspace) const {
  FORGE_TRY(auto reader, open_blob(digest, keyspace));
  if (!reader) return std::optional<std::string>();
  auto content = reader->read_all();
  if (!content) {
    if (is_corrupt_blob(content.error())) return std::optional<std::string>();  // a miss
    return fail(std::move(content).error());
  }
  return std::optional<std::string>(std::move(*content));
}

}  // namespace forge::cache
