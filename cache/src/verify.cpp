// CasStore::verify: re-hash every blob on disk and repair the index (see VerifyReport).
#include <fcntl.h>
#include <unistd.h>

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

// SHA-256 and size of a file, streamed.
Result<BlobDigest> hash_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail(Error::from_errno(errno, "open", path.string()));
  hash::MultiHasher hasher(hash::AlgorithmSet{true, false});
  std::vector<std::byte> buffer(1 << 20);
  std::uint64_t size = 0;
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error::from_errno(errno, "read", path.string()));
    if (n == 0) break;
    hasher.update(std::span(buffer).first(static_cast<std::size_t>(n)));
    size += static_cast<std::uint64_t>(n);
  }
  return BlobDigest{*hasher.finish().sha256, size};
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
  //    the index does not know.
  std::vector<std::pair<std::string, BlobDigest>> good;  // digest key, digest
  for (const auto& shard : std::filesystem::directory_iterator(dir / "cas", ec)) {
    std::error_code shard_ec;
    for (const auto& entry : std::filesystem::directory_iterator(shard.path(), shard_ec)) {
      const auto path = entry.path();
      const std::string name = path.filename().string();
      ++report.checked;
      auto actual = hash_file(path);
      if (!actual) return fail(std::move(actual).error());
      if (!hash::is_hex64(name) || actual->sha256.hex() != name ||
          name.substr(0, 2) != shard.path().filename().string()) {
        const auto target = dir / "quarantine" / fmt::format("{}.{}", name, now);
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
  if (ec) return fail(Error::from_error_code(ec, "cache.verify", (dir / "cas").string()));

  // 2. One transaction: add orphans, fix sizes, drop entries whose file is gone or was
  //    quarantined, and recompute the totals from the records.
  FORGE_TRY_VOID(impl.env.write([&](store::WriteTxn& txn) -> Result<void> {
    report.orphans_indexed = report.missing_dropped = 0;
    std::unordered_map<std::string, std::uint64_t> on_disk;
    on_disk.reserve(good.size());
    for (const auto& [key, digest] : good) {
      on_disk.emplace(key, digest.size);
      FORGE_TRY(auto value, txn.get(impl.blobs, key));
      auto record = value ? BlobRecord::decode(*value) : std::nullopt;
      if (record && record->size == digest.size) continue;
      if (record) FORGE_TRY_VOID(txn.erase(impl.lru, lru_key(record->accessed_ns, key)));
      BlobRecord fresh{digest.size, digest.size, now, now, 0};
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
