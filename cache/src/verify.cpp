// CasStore::verify: re-hash every blob on disk and repair the index (see VerifyReport).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "blob_record.h"
#include "cache_metrics.h"
#include "forge/core/support/clock.h"
#include "forge/core/support/log.h"
#include "store_impl.h"
#include "store_totals.h"

namespace forge::cache {
namespace {

struct Hashed {
  BlobDigest digest;
  ContentChecksum checksum;  // XXH3-128
  dev_t device = 0;          // the file that was hashed
  ino_t inode = 0;
};

// ENOENT: the path does not exist (for certain). Any other outcome, an error included,
// means the entry must be kept.
bool certainly_absent(const char* path) {
  struct stat status;
  return ::stat(path, &status) != 0 && errno == ENOENT;
}

bool same_file(const std::filesystem::path& path, const Hashed& hashed) {
  struct stat status;
  return ::stat(path.c_str(), &status) == 0 && status.st_dev == hashed.device &&
         status.st_ino == hashed.inode;
}

// SHA-256, XXH3-128 and size of a file, streamed.
Result<Hashed> hash_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail(Error::from_errno(errno, "open", path.string()));
  struct stat status;
  if (::fstat(fd.get(), &status) != 0)
    return fail(Error::from_errno(errno, "fstat", path.string()));
  hash::MultiHasher hasher(hash::AlgorithmSet::both());
  std::vector<std::byte> buffer(copy_buffer_size(static_cast<std::uint64_t>(status.st_size)));
  FORGE_TRY(const std::uint64_t size,
            read_to_end(fd, path, buffer, [&](std::span<const std::byte> chunk) -> Result<void> {
              hasher.update(chunk);
              return ok();
            }));
  const hash::Digests digests = hasher.finish();
  Hashed hashed{BlobDigest{*digests.sha256, size}, {}, status.st_dev, status.st_ino};
  std::copy_n(digests.xxh3->bytes().begin(), hashed.checksum.size(), hashed.checksum.begin());
  return hashed;
}

}  // namespace

Result<VerifyReport> CasStore::verify() {
  Impl& impl = *m_impl;
  VerifyReport report;
  FORGE_TRY_VOID(flush_access_times());
  std::unique_lock publish(impl.publish);
  const std::int64_t now = now_ns();
  const auto& dir = impl.options.dir;
  std::error_code ec;

  // 1. Every file under cas/: hash it; quarantine what does not match its name, index what
  //    the index does not know. Other processes may put and evict meanwhile: a file that
  //    vanishes is skipped, and step 2 decides from the disk under the index write lock.
  std::vector<std::pair<std::string, Hashed>> good;  // digest key, digest and checksum
  std::filesystem::directory_iterator shards(dir / "cas", ec);
  if (ec) return fail(Error::from_error_code(ec, "cache.verify", (dir / "cas").string()));
  for (; shards != std::filesystem::directory_iterator(); shards.increment(ec)) {
    if (ec) return fail(Error::from_error_code(ec, "cache.verify", (dir / "cas").string()));
    const auto shard = shards->path();
    std::error_code shard_ec;
    std::filesystem::directory_iterator files(shard, shard_ec);
    for (; !shard_ec && files != std::filesystem::directory_iterator(); files.increment(shard_ec)) {
      const auto path = files->path();
      const std::string name = path.filename().string();
      auto actual = hash_file(path);
      if (!actual && actual.error().code() == ENOENT) continue;  // evicted meanwhile
      if (!actual) return fail(std::move(actual).error());
      ++report.checked;
      if (!hash::is_hex64(name) || actual->digest.sha256.hex() != name ||
          name.substr(0, 2) != shard.filename().string()) {
        // Only the file that was hashed: a good copy put since then stays.
        if (!same_file(path, *actual)) continue;
        const auto target = dir / "quarantine" / fmt::format("{}.{}", name, now);
        if (::rename(path.c_str(), target.c_str()) != 0) {
          if (errno == ENOENT) continue;
          return fail(Error::from_errno(errno, "rename", target.string()));
        }
        ++report.quarantined;
        support::log(spdlog::level::warn,
                     "cache: quarantined a blob whose content does not match its name",
                     {{"path", path.string()}, {"quarantine", target.string()}});
        continue;
      }
      good.emplace_back(std::string(key_of(actual->digest)), *actual);
    }
    if (shard_ec) {
      // Its entries are kept (step 2 drops only entries whose file is certainly absent).
      ++report.unreadable_shards;
      support::log(spdlog::level::warn, "cache: verify could not read a shard of cas/",
                   {{"path", shard.string()}, {"error", shard_ec.message()}});
    }
  }

  // 2. One transaction: add orphans, fix sizes, drop entries whose file is gone or was
  //    quarantined, and recompute the totals from the records. The index write lock
  //    excludes every other process's index update, and puts rename before they index and
  //    evictions unlink before they commit, so the disk checked here is the truth: an entry
  //    is dropped only when its file is certainly absent now (an entry added after the
  //    listing keeps its file and stays), and an orphan is indexed only if still there.
  FORGE_TRY_VOID(impl.env.write([&](store::WriteTxn& txn) -> Result<void> {
    report.orphans_indexed = report.missing_dropped = 0;
    std::unordered_map<std::string, std::uint64_t> on_disk;
    on_disk.reserve(good.size());
    for (const auto& [key, hashed] : good) {
      const BlobDigest& digest = hashed.digest;
      on_disk.emplace(key, digest.size);
      FORGE_TRY(auto value, txn.get(impl.blobs, key));
      auto record = value ? BlobRecord::decode(*value) : std::nullopt;
      if (record && record->size == digest.size) {
        // A record from before checksums (or with a wrong one): record what is on disk,
        // which has just been checked against its SHA-256 name.
        if (record->checksum != hashed.checksum) {
          record->checksum = hashed.checksum;
          FORGE_TRY_VOID(txn.put(impl.blobs, key, record->encode()));
        }
        continue;
      }
      BlobPathBuffer path;
      if (!format_blob_path(dir.native(), digest.sha256.bytes(), path) ||
          certainly_absent(path.data())) {
        on_disk.erase(key);
        continue;  // evicted by another process since it was hashed
      }
      if (record) FORGE_TRY_VOID(txn.erase(impl.lru, lru_key(record->accessed_ns, key)));
      BlobRecord fresh{digest.size, digest.size, now, now, 0, hashed.checksum};
      FORGE_TRY_VOID(txn.put(impl.blobs, key, fresh.encode()));
      FORGE_TRY_VOID(txn.put(impl.lru, lru_key(now, key), {}));
      ++report.orphans_indexed;
    }
    std::vector<std::pair<std::string, std::optional<BlobRecord>>> drop;
    std::uint64_t bytes = 0, entries = 0;
    {
      FORGE_TRY(store::Cursor cursor, txn.cursor(impl.blobs));
      FORGE_TRY(auto entry, cursor.first());
      while (entry) {
        const auto record = BlobRecord::decode(entry->second);
        const std::string_view key = entry->first;
        BlobPathBuffer path;
        const bool gone =
            record && on_disk.count(std::string(key)) == 0 &&
            (key.size() != 32 ||
             (format_blob_path(dir.native(),
                               std::span(reinterpret_cast<const std::uint8_t*>(key.data()), 32),
                               path) &&
              certainly_absent(path.data())));
        if (!record || gone) {
          drop.emplace_back(std::string(key), record);
        } else {
          bytes += record->size;
          ++entries;
        }
        FORGE_TRY(entry, cursor.next());
      }
    }
    for (const auto& [key, record] : drop) {
      FORGE_TRY_VOID(txn.erase(impl.blobs, key));
      if (record) FORGE_TRY_VOID(txn.erase(impl.lru, lru_key(record->accessed_ns, key)));
      ++report.missing_dropped;
    }
    FORGE_TRY_VOID(set_total(txn, impl.totals, k_total_bytes, bytes));
    FORGE_TRY_VOID(set_total(txn, impl.totals, k_total_entries, entries));
    if (report.orphans_indexed > 0) {
      FORGE_TRY_VOID(bump_generation(txn, impl.totals));
    }
    report.bytes = bytes;
    report.entries = entries;
    return ok();
  }));
  if (report.orphans_indexed > 0) impl.filter.lost_track();
  impl.publish_totals(report.bytes, report.entries);
  return report;
}

}  // namespace forge::cache
