#include "scan_steps.h"

#ifndef _WIN32
#include <unistd.h>
#endif

#include <algorithm>

#include "forge/core/support/path_text.h"
#include "index_listings.h"

namespace forge::scan::steps {
namespace {

std::string read_link(const std::filesystem::path& path) {
#ifdef _WIN32
  // The reparse point's target as UTF-8 with '/' (empty when it is not a symlink).
  std::error_code ec;
  const auto target = std::filesystem::read_symlink(path, ec);
  return ec ? std::string() : path_utf8(target);
#else
  std::string target(256, '\0');
  for (;;) {
    const ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n < 0) return {};
    if (static_cast<std::size_t>(n) < target.size()) {
      target.resize(static_cast<std::size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
#endif
}

std::unique_ptr<FileRecord> boxed(std::optional<FileRecord> record) {
  return record ? std::make_unique<FileRecord>(std::move(*record)) : nullptr;
}

// Files hashed per batch_hash call: enough to keep every read slot busy, while the paths
// and results of a call (~350 bytes a file) stay a few MB however large the batch.
constexpr std::size_t k_hash_batch = 8192;

}  // namespace

EntryTable::EntryTable(std::vector<WalkEntry>&& entries) {
  std::size_t bytes = 0;
  for (const auto& entry : entries) bytes += entry.path.size();
  m_paths.reserve(bytes);
  m_ends.reserve(entries.size());
  m_types.reserve(entries.size());
  m_stats.reserve(entries.size());
  m_has_stat.reserve(entries.size());
  for (auto& entry : entries) {
    m_paths += entry.path;
    std::string().swap(entry.path);
    m_ends.push_back(m_paths.size());
    m_types.push_back(entry.type);
    m_stats.push_back(entry.stat.value_or(io::FileStat{}));
    m_has_stat.push_back(entry.stat.has_value());
  }
  std::vector<WalkEntry>().swap(entries);
}

WalkEntry EntryTable::entry(std::size_t i) const {
  WalkEntry out{std::string(path(i)), m_types[i], std::nullopt};
  if (m_has_stat[i]) out.stat = m_stats[i];
  return out;
}

Change change_from(const std::string& path, ChangeKind kind, const FileRecord& record) {
  Change change;
  change.path = path;
  change.kind = kind;
  change.type = record.type;
  change.xxh3 = record.xxh3;
  change.sha256 = record.sha256;
  change.symlink_target = record.symlink_target;
  return change;
}

void join_full(Joined& joined, const std::vector<store::KeyValue>& records,
               const std::vector<std::uint8_t>& walk_settled, std::int64_t racy_limit,
               bool sha256) {
  // Unsettled entries are a subsequence of the walk: compacted in place, so the walk's
  // vector is never held twice.
  std::vector<WalkEntry>& entries = joined.entries;
  std::size_t kept = 0;
  auto keep = [&](std::size_t i, std::unique_ptr<FileRecord> previous) {
    if (kept != i) entries[kept] = std::move(entries[i]);
    ++kept;
    joined.previous.push_back(std::move(previous));
  };
  if (records.empty()) joined.previous.reserve(entries.size());
  std::size_t i = 0;
  for (std::size_t r = 0; r < records.size(); ++r) {
    if (walk_settled[r] != 0) continue;  // present and unchanged: the walk settled it
    const std::string_view key = records[r].first;
    for (; i < entries.size() && std::string_view(entries[i].path) < key; ++i) keep(i, nullptr);
    if (i < entries.size() && entries[i].path == key) {
      const auto record = peek_record_stat(records[r].second);
      if (!entries[i].stat || !record || !settles(*record, *entries[i].stat, racy_limit, sha256)) {
        keep(i, boxed(FileRecord::decode(records[r].second)));
      }
      ++i;
    } else if (auto record = FileRecord::decode(records[r].second)) {
      joined.unmatched.emplace_back(std::string(key), std::move(*record));
    }
  }
  for (; i < entries.size(); ++i) keep(i, nullptr);
  entries.resize(kept);
  if (entries.capacity() > 2 * kept + 1024) entries.shrink_to_fit();
}

Result<void> join_partial(Joined& joined, FileIndex& index) {
  FORGE_TRY(store::ReadTxn txn, index.env().begin_read());
  joined.previous.resize(joined.entries.size());
  for (std::size_t i = 0; i < joined.entries.size(); ++i) {
    FORGE_TRY(auto value, index.record(txn, joined.entries[i].path));
    if (value) joined.previous[i] = boxed(FileRecord::decode(*value));
  }
  return ok();
}

void stat_entries(Batch& batch, io::PlatformIO& io, const std::filesystem::path& root) {
  batch.stats.assign(batch.entries.size(), io::FileStat{});
  std::vector<std::filesystem::path> to_stat;
  std::vector<std::size_t> to_stat_index;
  for (std::size_t i = 0; i < batch.entries.size(); ++i) {
    if (batch.entries[i].stat) {
      batch.stats[i] = *batch.entries[i].stat;
    } else {
      to_stat.push_back(root / path_from_utf8(batch.entries[i].path));
      to_stat_index.push_back(i);
    }
  }
  if (to_stat.empty()) return;
  auto stats = io.batch_stat(to_stat);
  for (std::size_t k = 0; k < stats.size(); ++k)
    batch.stats[to_stat_index[k]] = std::move(stats[k]);
}

void plan(Batch& batch, const std::filesystem::path& root, bool full, std::int64_t racy_limit,
          bool sha256) {
  const std::size_t count = batch.entries.size();
  batch.candidates.assign(count, FileRecord{});
  batch.present.assign(count, false);
  batch.stat_ok.assign(count, false);
  for (std::size_t i = 0; i < count; ++i) {
    if (!batch.stats[i]) {
      const int code = batch.stats[i].error().code();
      if (code == ENOENT || code == ENOTDIR) {
        if (!full) batch.vanished.push_back(i);
        continue;  // gone since the walk: treated as removed
      }
      batch.errors.push_back(std::move(batch.stats[i]).error());
      if (batch.previous[i]) batch.present[i] = true;  // unreadable now: keep what we knew
      continue;
    }
    batch.present[i] = true;
    batch.stat_ok[i] = true;
    const io::FileStat& stat = *batch.stats[i];
    FileRecord& next = batch.candidates[i];
    next.type = type_from_mode(stat.mode);
    next.mode = stat.mode;
    next.dev = stat.dev;
    next.ino = stat.ino;
    next.size = stat.size;
    next.mtime_ns = stat.mtime_ns;
    next.ctime_ns = stat.ctime_ns;
    if (next.type == EntryType::symlink)
      next.symlink_target = read_link(root / path_from_utf8(batch.entries[i].path));
    if (next.type != EntryType::file) continue;
    const auto& prev = batch.previous[i];
    bool must_hash = !prev || prev->type != EntryType::file || !prev->xxh3;
    if (!must_hash) {
      const bool racy = prev->mtime_ns >= racy_limit || prev->ctime_ns >= racy_limit;
      must_hash = !same_stat(stat_of(*prev), stat) || racy || (sha256 && !prev->sha256);
    }
    if (must_hash) batch.to_hash.push_back(i);
  }
  std::vector<Result<io::FileStat>>().swap(batch.stats);  // the candidates hold them now
}

std::size_t hash_files(Batch& batch, io::PlatformIO& io, const std::filesystem::path& root,
                       bool full, bool sha256) {
  std::vector<std::filesystem::path> paths;
  for (std::size_t first = 0; first < batch.to_hash.size(); first += k_hash_batch) {
    const std::size_t last = std::min(batch.to_hash.size(), first + k_hash_batch);
    paths.clear();
    for (std::size_t k = first; k < last; ++k)
      paths.push_back(root / path_from_utf8(batch.entries[batch.to_hash[k]].path));
    // The stat of the open file after reading belongs with the digests.
    auto hashed = io.batch_hash(paths, hash::AlgorithmSet{sha256, true}, io::Follow::no);
    for (std::size_t k = first; k < last; ++k) {
      const std::size_t i = batch.to_hash[k];
      FileRecord& next = batch.candidates[i];
      auto& outcome = hashed[k - first];
      if (!outcome) {
        if (outcome.error().code() == ENOENT) {
          batch.present[i] = false;
          if (!full) batch.vanished.push_back(i);
        } else {
          batch.errors.push_back(std::move(outcome).error());
          next.xxh3.reset();  // marks "keep the old record"
        }
        continue;
      }
      const io::FileStat& stat = outcome->stat;
      next.size = outcome->size;
      next.mtime_ns = stat.mtime_ns;
      next.ctime_ns = stat.ctime_ns;
      next.ino = stat.ino;
      next.dev = stat.dev;
      next.mode = stat.mode;
      next.xxh3 = outcome->digests.xxh3;
      next.sha256 = outcome->digests.sha256;
    }
  }
  return batch.to_hash.size();
}

void diff(Batch& batch, std::uint64_t cursor) {
  for (std::size_t i = 0; i < batch.entries.size(); ++i) {
    if (!batch.present[i] || !batch.stat_ok[i]) continue;
    const std::string& path = batch.entries[i].path;
    FileRecord& next = batch.candidates[i];
    const bool was_hashed = std::binary_search(batch.to_hash.begin(), batch.to_hash.end(), i);
    if (next.type == EntryType::file && was_hashed && !next.xxh3) continue;  // read error
    if (!batch.previous[i]) {
      next.created_cursor = next.changed_cursor = cursor;
      batch.changes.push_back(change_from(path, ChangeKind::added, next));
      batch.writes.push_back(i);
      continue;
    }
    const FileRecord& prev = *batch.previous[i];
    if (prev.type != next.type) {
      next.created_cursor = prev.created_cursor;
      next.changed_cursor = cursor;
      next.type_changed = true;
      batch.changes.push_back(change_from(path, ChangeKind::type_changed, next));
      batch.writes.push_back(i);
      continue;
    }
    next.created_cursor = prev.created_cursor;
    bool content_changed = false;
    if (next.type == EntryType::file) {
      if (!was_hashed) continue;  // stat identical and not racy: trusted, nothing to write
      content_changed = next.xxh3 != prev.xxh3;
      if (!next.sha256 && !content_changed) next.sha256 = prev.sha256;
    } else if (next.type == EntryType::symlink) {
      content_changed = next.symlink_target != prev.symlink_target;
    }
    if (content_changed) {
      next.changed_cursor = cursor;
      batch.changes.push_back(change_from(path, ChangeKind::modified, next));
    } else {
      next.changed_cursor = prev.changed_cursor;
      next.type_changed = prev.type_changed;
    }
    const bool stat_changed = !same_stat(stat_of(next), stat_of(prev));
    if (stat_changed && !content_changed && next.type != EntryType::directory) {
      Change touched;
      touched.path = path;
      touched.kind = ChangeKind::stat_only;
      touched.type = next.type;
      batch.stat_only.push_back(std::move(touched));
    }
    if (content_changed || stat_changed || next.sha256 != prev.sha256) batch.writes.push_back(i);
  }
}

}  // namespace forge::scan::steps
