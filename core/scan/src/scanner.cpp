#include "forge/core/scan/scanner.h"
#include "forge/core/support/clock.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "forge/core/store/encoding.h"
#include "forge/core/support/clock.h"
#include "index_listings.h"
#include "journal.h"

namespace forge::scan {
namespace {

std::string read_link(const std::filesystem::path& path) {
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

// Names the walk whose listings the index records: a later walk may reuse them only with
// the same root and options, right after that scan (a partial scan or an older forge moves
// the cursor without maintaining listings).
std::string listing_key(std::uint64_t cursor, const std::filesystem::path& root,
                        const WalkOptions& options) {
  std::string fingerprint = root.string();
  fingerprint +=
      fmt::format("\n{}{}\n", options.use_gitignore ? 1 : 0, options.stat_entries ? 1 : 0);
  for (const auto& glob : options.excludes) fingerprint += fmt::format("x{}:{}", glob.size(), glob);
  for (const auto& dir : options.skip_dirs) {
    fingerprint += fmt::format("s{}:{}", dir.string().size(), dir.string());
  }
  return fmt::format("{}:{}:{}", k_listing_version, cursor, hash::xxh3_of(fingerprint).hex());
}

// Journal entries older than this many cursors are trimmed; since() for an older cursor
// answers a fresh instance. 100k scans of history is months of watcher updates.
constexpr std::uint64_t k_journal_cursors_kept = 100'000;

// The state of one Scanner::update, passed through its steps in order.
struct Work {
  std::vector<WalkEntry> entries;  // the entries still to decide
  // previous[i]: the record of entries[i]. Boxed: on a first scan every one is empty, and
  // an empty optional<FileRecord> per entry would cost its full size (~170 bytes).
  std::vector<std::unique_ptr<FileRecord>> previous;
  std::vector<std::pair<std::string, FileRecord>> unmatched;  // full scan: records not walked
  std::vector<Result<io::FileStat>> stats;  // freed by plan(); stat_ok says what it held
  std::vector<bool> stat_ok;
  std::vector<FileRecord> candidates;  // candidates[i]: the record entries[i] would get
  std::vector<bool> present;
  std::vector<std::size_t> to_hash;   // indexes into entries, ascending
  std::vector<std::size_t> vanished;  // partial scans: entries that are gone
  std::vector<std::size_t> writes;    // indexes into entries/candidates, ascending (= by path)
  std::vector<std::pair<std::string, FileRecord>> removals;
  ChangeSet result;
};

std::unique_ptr<FileRecord> boxed(std::optional<FileRecord> record) {
  return record ? std::make_unique<FileRecord>(std::move(*record)) : nullptr;
}

// Step 1 (full scan): merge-joins the sorted walk with the sorted index records (both in
// byte order), so no hash table of the whole tree is built. Records the walk settled, and
// entries whose stat equals their record and need no hash, are dropped here from the bytes
// in place; on a no-change scan that is every entry. Records the walk did not meet are
// `unmatched` (removed). A record of an unknown version decodes as absent: re-hashed.
void join_full(Work& work, const std::vector<store::KeyValue>& records,
               const std::vector<std::uint8_t>& walk_settled, std::int64_t racy_limit,
               bool sha256) {
  std::vector<WalkEntry> unsettled;
  std::vector<WalkEntry>& entries = work.entries;
  std::size_t i = 0;
  for (std::size_t r = 0; r < records.size(); ++r) {
    if (walk_settled[r] != 0) continue;  // present and unchanged: the walk settled it
    const std::string_view key = records[r].first;
    for (; i < entries.size() && std::string_view(entries[i].path) < key; ++i) {
      unsettled.push_back(std::move(entries[i]));
      work.previous.emplace_back();
    }
    if (i < entries.size() && entries[i].path == key) {
      const auto record = peek_record_stat(records[r].second);
      if (!entries[i].stat || !record || !settles(*record, *entries[i].stat, racy_limit, sha256)) {
        unsettled.push_back(std::move(entries[i]));
        work.previous.push_back(boxed(FileRecord::decode(records[r].second)));
      }
      ++i;
    } else if (auto record = FileRecord::decode(records[r].second)) {
      work.unmatched.emplace_back(std::string(key), std::move(*record));
    }
  }
  for (; i < entries.size(); ++i) {
    unsettled.push_back(std::move(entries[i]));
    work.previous.emplace_back();
  }
  entries = std::move(unsettled);
}

// Step 1 (partial scan): the record of each named path.
Result<void> join_partial(Work& work, FileIndex& index) {
  FORGE_TRY(store::ReadTxn txn, index.env().begin_read());
  work.previous.resize(work.entries.size());
  for (std::size_t i = 0; i < work.entries.size(); ++i) {
    FORGE_TRY(auto value, index.record(txn, work.entries[i].path));
    if (value) work.previous[i] = boxed(FileRecord::decode(*value));
  }
  return ok();
}

// Step 2: a stat per entry; those stat'ed by the walk are not stat'ed again.
void stat_entries(Work& work, io::PlatformIO& io, const std::filesystem::path& root) {
  work.stats.assign(work.entries.size(), io::FileStat{});
  std::vector<std::filesystem::path> to_stat;
  std::vector<std::size_t> to_stat_index;
  for (std::size_t i = 0; i < work.entries.size(); ++i) {
    if (work.entries[i].stat) {
      work.stats[i] = *work.entries[i].stat;
    } else {
      to_stat.push_back(root / work.entries[i].path);
      to_stat_index.push_back(i);
    }
  }
  if (to_stat.empty()) return;
  auto batch = io.batch_stat(to_stat);
  for (std::size_t k = 0; k < batch.size(); ++k) work.stats[to_stat_index[k]] = std::move(batch[k]);
}

// Step 3: the candidate record of each present entry, and which files need hashing: new,
// of another type, without a digest, with another stat, racily clean, or missing a
// SHA-256 that is asked for.
void plan(Work& work, const std::filesystem::path& root, bool full, std::int64_t racy_limit,
          bool sha256) {
  const std::size_t count = work.entries.size();
  work.candidates.assign(count, FileRecord{});
  work.present.assign(count, false);
  work.stat_ok.assign(count, false);
  for (std::size_t i = 0; i < count; ++i) {
    if (!work.stats[i]) {
      const int code = work.stats[i].error().code();
      if (code == ENOENT || code == ENOTDIR) {
        if (!full) work.vanished.push_back(i);
        continue;  // gone since the walk: treated as removed
      }
      work.result.errors.push_back(std::move(work.stats[i]).error());
      if (work.previous[i]) work.present[i] = true;  // unreadable now: keep what we knew
      continue;
    }
    work.present[i] = true;
    work.stat_ok[i] = true;
    const io::FileStat& stat = *work.stats[i];
    FileRecord& next = work.candidates[i];
    next.type = type_from_mode(stat.mode);
    next.mode = stat.mode;
    next.dev = stat.dev;
    next.ino = stat.ino;
    next.size = stat.size;
    next.mtime_ns = stat.mtime_ns;
    next.ctime_ns = stat.ctime_ns;
    if (next.type == EntryType::symlink)
      next.symlink_target = read_link(root / work.entries[i].path);
    if (next.type != EntryType::file) continue;
    const auto& prev = work.previous[i];
    bool must_hash = !prev || prev->type != EntryType::file || !prev->xxh3;
    if (!must_hash) {
      const bool racy = prev->mtime_ns >= racy_limit || prev->ctime_ns >= racy_limit;
      must_hash = !same_stat(stat_of(*prev), stat) || racy || (sha256 && !prev->sha256);
    }
    if (must_hash) work.to_hash.push_back(i);
  }
  std::vector<Result<io::FileStat>>().swap(work.stats);  // the candidates hold them now
}

// Files hashed per batch_hash call: enough to keep every read slot busy, while the paths
// and results of a batch (~350 bytes a file) stay a few MB however large the tree.
constexpr std::size_t k_hash_batch = 8192;

// Step 4: hashes the planned files in batches; the stat of the open file after reading
// belongs with the digests. A read error keeps the old record (xxh3 left empty).
void hash_files(Work& work, io::PlatformIO& io, const std::filesystem::path& root, bool full,
                bool sha256) {
  work.result.hashed = work.to_hash.size();
  std::vector<std::filesystem::path> paths;
  for (std::size_t first = 0; first < work.to_hash.size(); first += k_hash_batch) {
    const std::size_t last = std::min(work.to_hash.size(), first + k_hash_batch);
    paths.clear();
    for (std::size_t k = first; k < last; ++k)
      paths.push_back(root / work.entries[work.to_hash[k]].path);
    auto hashed = io.batch_hash(paths, hash::AlgorithmSet{sha256, true}, io::Follow::no);
    for (std::size_t k = first; k < last; ++k) {
      const std::size_t i = work.to_hash[k];
      FileRecord& next = work.candidates[i];
      auto& outcome = hashed[k - first];
      if (!outcome) {
        if (outcome.error().code() == ENOENT) {
          work.present[i] = false;
          if (!full) work.vanished.push_back(i);
        } else {
          work.result.errors.push_back(std::move(outcome).error());
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
}

// Step 5: compares each candidate with its previous record: what to report (content, not
// stat: a touch or chmod rewrites the record silently) and what to write.
void diff(Work& work, std::uint64_t cursor) {
  work.result.changes.reserve(work.entries.size());  // at most one change per entry (+ removals)
  for (std::size_t i = 0; i < work.entries.size(); ++i) {
    if (!work.present[i] || !work.stat_ok[i]) continue;
    const std::string& path = work.entries[i].path;
    FileRecord& next = work.candidates[i];
    const bool was_hashed = std::binary_search(work.to_hash.begin(), work.to_hash.end(), i);
    if (next.type == EntryType::file && was_hashed && !next.xxh3) continue;  // read error
    if (!work.previous[i]) {
      next.created_cursor = next.changed_cursor = cursor;
      work.result.changes.push_back(change_from(path, ChangeKind::added, next));
      work.writes.push_back(i);
      continue;
    }
    const FileRecord& prev = *work.previous[i];
    if (prev.type != next.type) {
      next.created_cursor = prev.created_cursor;
      next.changed_cursor = cursor;
      next.type_changed = true;
      work.result.changes.push_back(change_from(path, ChangeKind::type_changed, next));
      work.writes.push_back(i);
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
      work.result.changes.push_back(change_from(path, ChangeKind::modified, next));
    } else {
      next.changed_cursor = prev.changed_cursor;
      next.type_changed = prev.type_changed;
    }
    if (content_changed || !same_stat(stat_of(next), stat_of(prev)) || next.sha256 != prev.sha256) {
      work.writes.push_back(i);
    }
  }
}

// Step 6: removals. A full scan: every record not present. A partial scan: every vanished
// path and every record below it.
Result<void> collect_removals(Work& work, FileIndex& index, bool full) {
  if (full) {
    work.removals = std::move(work.unmatched);
    for (std::size_t i = 0; i < work.entries.size(); ++i) {
      if (!work.present[i] && work.previous[i]) {
        work.removals.emplace_back(work.entries[i].path, *work.previous[i]);
      }
    }
  } else if (!work.vanished.empty()) {
    FORGE_TRY(store::ReadTxn txn, index.env().begin_read());
    for (const std::size_t i : work.vanished) {
      const std::string& gone = work.entries[i].path;
      if (work.previous[i]) work.removals.emplace_back(gone, *work.previous[i]);
      FORGE_TRY(auto below, index.records_under(txn, gone + "/"));
      for (const auto& [path, bytes] : below) {
        if (auto record = FileRecord::decode(bytes)) {
          work.removals.emplace_back(std::string(path), std::move(*record));
        }
      }
    }
  }
  for (auto& [path, record] : work.removals) {
    work.result.changes.push_back(change_from(path, ChangeKind::removed, record));
  }
  std::sort(work.result.changes.begin(), work.result.changes.end(),
            [](const Change& a, const Change& b) { return a.path < b.path; });
  return ok();
}

}  // namespace

std::string_view to_string(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::added: return "added";
    case ChangeKind::modified: return "modified";
    case ChangeKind::removed: return "removed";
    case ChangeKind::type_changed: return "type_changed";
    default: return "unknown";
  }
}

Scanner::Scanner(std::filesystem::path root, FileIndex& index, io::PlatformIO& io)
    : m_root(std::move(root)), m_index(index), m_io(io) {}

Result<ChangeSet> Scanner::scan(const ScanOptions& options) {
  // One read transaction for the whole scan: the records' bytes stay mapped, serve as the
  // walk's ListingCache and are merge-joined with the walk without a second index pass.
  // Taken before the first statx: a file the walk stats early can change within the same
  // clock tick long before the walk ends, so the racy window must open here.
  const std::int64_t start_ns = now_ns();
  FORGE_TRY(store::ReadTxn txn, m_index.env().begin_read());
  FORGE_TRY(const IndexMeta meta, FileIndex::read_meta(txn, m_index.meta_db()));
  FORGE_TRY(auto stored_key, txn.get(m_index.meta_db(), k_listing_key));
  FORGE_TRY(const std::vector<store::KeyValue> records, m_index.records(txn));
  IndexListings listings(records, meta.scan_start_ns - options.racy_margin_ns, options.sha256);
  const bool reuse = stored_key && *stored_key == listing_key(meta.cursor, m_root, options.walk);
  FORGE_TRY(WalkResult walked, walk_tree(m_root, options.walk, reuse ? &listings : nullptr));
  FullScan full;
  full.records = &records;
  full.settled = &listings.settled();
  full.settled_count = walked.settled;
  full.snapshot = &txn;
  full.start_ns = start_ns;
  full.listings_reusable = walked.listings_reusable;
  full.listings_reused = walked.listings_reused;
  return update(std::move(walked.entries), options, std::move(walked.errors), &full);
}

Result<ChangeSet> Scanner::scan_paths(const std::vector<std::string>& paths,
                                      const ScanOptions& options) {
  std::vector<WalkEntry> entries;
  entries.reserve(paths.size());
  for (const std::string& path : paths) entries.push_back(WalkEntry{path, EntryType::other});
  std::sort(entries.begin(), entries.end(),
            [](const WalkEntry& a, const WalkEntry& b) { return a.path < b.path; });
  entries.erase(
      std::unique(entries.begin(), entries.end(),
                  [](const WalkEntry& a, const WalkEntry& b) { return a.path == b.path; }),
      entries.end());
  return update(std::move(entries), options, {}, nullptr);
}

Result<ChangeSet> Scanner::update(std::vector<WalkEntry> entries, const ScanOptions& options,
                                  std::vector<Error> walk_errors, const FullScan* scan) {
  const bool full = scan != nullptr;
  FORGE_TRY(const IndexMeta meta, m_index.meta());
  const std::uint64_t cursor = meta.cursor + 1;
  const std::int64_t racy_limit = meta.scan_start_ns - options.racy_margin_ns;
  const std::int64_t this_start = full ? scan->start_ns : now_ns();
  const std::size_t walked = entries.size();

  Work work;
  work.entries = std::move(entries);
  work.result.errors = std::move(walk_errors);
  work.result.fresh_instance = meta.cursor == 0;
  if (full) {
    join_full(work, *scan->records, *scan->settled, racy_limit, options.sha256);
    // The records point into the snapshot; nothing below reads them. Ending the snapshot
    // before the write lets Environment::write() grow the map (no transaction may be open).
    scan->snapshot->abort();
  } else {
    FORGE_TRY_VOID(join_partial(work, m_index));
  }
  stat_entries(work, m_io, m_root);
  plan(work, m_root, full, racy_limit, options.sha256);
  hash_files(work, m_io, m_root, full, options.sha256);
  diff(work, cursor);
  FORGE_TRY_VOID(collect_removals(work, m_index, full));

  IndexMeta next_meta = meta;
  next_meta.cursor = cursor;
  // A partial scan saw only some paths: it must not move the racy-clean reference point.
  if (full) next_meta.scan_start_ns = this_start;
  ChangeSet& result = work.result;
  FORGE_TRY_VOID(m_index.env().write([&](store::WriteTxn& txn) -> Result<void> {
    for (const std::size_t i : work.writes) {
      const std::string& path = work.entries[i].path;
      FORGE_TRY_VOID(m_index.put_record(txn, path, work.candidates[i].encode()));
      FORGE_TRY(bool had_tombstone, txn.erase(m_index.tombstones(), record_key(path)));
      (void)had_tombstone;
    }
    std::string cursor_bytes;
    store::put_le(cursor_bytes, cursor);
    for (const auto& [path, record] : work.removals) {
      FORGE_TRY(bool erased, m_index.erase_record(txn, path));
      (void)erased;
      FORGE_TRY_VOID(txn.put(m_index.tombstones(), record_key(path), cursor_bytes));
    }
    FORGE_TRY_VOID(journal::append(txn, m_index.journal(), cursor, result.changes));
    if (cursor > k_journal_cursors_kept) {
      // Trim the oldest journal entries; since() for cursors below the floor answers fresh.
      next_meta.journal_floor = cursor - k_journal_cursors_kept;
      FORGE_TRY_VOID(journal::trim(txn, m_index.journal(), next_meta.journal_floor));
    }
    if (full) {
      // Listings are reusable next time only if this walk saw every rule and every entry it
      // listed is now recorded: an unreadable file is not, and a reused listing would hide it.
      if (scan->listings_reusable && result.errors.empty()) {
        FORGE_TRY_VOID(
            txn.put(m_index.meta_db(), k_listing_key, listing_key(cursor, m_root, options.walk)));
      } else {
        FORGE_TRY(bool erased, txn.erase(m_index.meta_db(), k_listing_key));
        (void)erased;
      }
    }
    return FileIndex::put_meta(txn, m_index.meta_db(), next_meta);
  }));
  result.cursor = fmt::format("{}:{}", meta.instance, cursor);
  result.entries = full ? walked + scan->settled_count : work.entries.size();
  result.listings_reused = full ? scan->listings_reused : 0;
  return std::move(result);
}

Result<ChangeSet> Scanner::since(std::string_view cursor_text) const {
  FORGE_TRY(const IndexMeta meta, m_index.meta());
  ChangeSet result;
  result.cursor = fmt::format("{}:{}", meta.instance, meta.cursor);
  std::uint64_t since_cursor = 0;
  bool known = false;
  if (const auto colon = cursor_text.rfind(':'); colon != std::string_view::npos) {
    const std::string_view instance = cursor_text.substr(0, colon);
    const std::string number(cursor_text.substr(colon + 1));
    char* end = nullptr;
    since_cursor = std::strtoull(number.c_str(), &end, 10);
    known = instance == meta.instance && !number.empty() && end != nullptr && *end == '\0' &&
            since_cursor <= meta.cursor && since_cursor >= meta.journal_floor;
  }
  FORGE_TRY(store::ReadTxn txn, m_index.env().begin_read());
  if (!known) {
    result.fresh_instance = true;
    FORGE_TRY(const auto records, m_index.records(txn));
    for (const auto& [path, bytes] : records) {
      if (auto record = FileRecord::decode(bytes)) {
        result.changes.push_back(change_from(std::string(path), ChangeKind::added, *record));
      }
    }
    return result;
  }
  // Collapse the journal after the cursor to one entry per path.
  FORGE_TRY(const auto touched, journal::read_after(txn, m_index.journal(), since_cursor));
  for (const auto& [path, kinds] : touched) {
    FORGE_TRY(auto value, m_index.record(txn, path));
    std::optional<FileRecord> record;
    if (value) record = FileRecord::decode(*value);
    if (!record) {
      if (kinds.front() == ChangeKind::added) continue;  // born and gone after the cursor
      Change change;
      change.path = path;
      change.kind = ChangeKind::removed;
      result.changes.push_back(std::move(change));
      continue;
    }
    ChangeKind kind = ChangeKind::modified;
    if (record->created_cursor > since_cursor && kinds.front() == ChangeKind::added) {
      kind = ChangeKind::added;
    } else if (std::find(kinds.begin(), kinds.end(), ChangeKind::type_changed) != kinds.end()) {
      kind = ChangeKind::type_changed;
    } else if (std::find(kinds.begin(), kinds.end(), ChangeKind::removed) != kinds.end() &&
               record->created_cursor > since_cursor) {
      kind = ChangeKind::modified;  // removed and re-created after the cursor
    }
    result.changes.push_back(change_from(path, kind, *record));
  }
  return result;
}

}  // namespace forge::scan
