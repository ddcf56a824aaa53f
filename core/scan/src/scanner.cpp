#include "forge/core/scan/scanner.h"
#include "forge/core/support/clock.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>

#include <fmt/format.h>

namespace forge::scan {
namespace {

// Journal keys: 8-byte big-endian cursor, then the path, so a cursor seek lists the
// changes after it in order. Value: one byte, the ChangeKind.
std::string journal_key(std::uint64_t cursor, std::string_view path) {
  std::string key(8, '\0');
  for (int i = 0; i < 8; ++i) key[i] = static_cast<char>((cursor >> (8 * (7 - i))) & 0xff);
  key += path;
  return key;
}

std::uint64_t journal_cursor(std::string_view key) {
  std::uint64_t cursor = 0;
  for (int i = 0; i < 8; ++i) cursor = (cursor << 8) | static_cast<unsigned char>(key[i]);
  return cursor;
}

EntryType type_from_mode(std::uint32_t mode) {
  if (S_ISREG(mode)) return EntryType::file;
  if (S_ISDIR(mode)) return EntryType::directory;
  if (S_ISLNK(mode)) return EntryType::symlink;
  return EntryType::other;
}

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

// True when `record` (the index's) and `stat` (fresh) show an entry needing neither a hash
// nor a rewrite: same type, same stat, and for a file a digest from outside the racy
// window. Symlinks (target read on every scan) and type changes never settle.
bool settles(const RecordStat& record, const io::FileStat& stat, std::int64_t racy_limit,
             bool sha256) {
  const EntryType type = type_from_mode(stat.mode);
  if (record.type != type || (type != EntryType::file && type != EntryType::directory)) {
    return false;
  }
  const bool same_stat = record.mode == stat.mode && record.size == stat.size &&
                         record.mtime_ns == stat.mtime_ns && record.ctime_ns == stat.ctime_ns &&
                         record.ino == stat.ino && record.dev == stat.dev;
  if (!same_stat) return false;
  if (type == EntryType::directory) return true;
  const bool racy = record.mtime_ns >= racy_limit || record.ctime_ns >= racy_limit;
  return record.has_xxh3 && !racy && (!sha256 || record.has_sha256);
}

// The index's records, sorted by path, as the walk's ListingCache. The string_views point
// into the memory map of a read transaction the caller keeps open for the whole scan.
class IndexListings final : public ListingCache {
 public:
  IndexListings(const std::vector<store::KeyValue>& records, std::int64_t racy_limit, bool sha256)
      : m_records(records),
        m_racy_limit(racy_limit),
        m_sha256(sha256),
        m_settled(records.size(), 0) {}

  // settled()[i]: records[i] was settled by the walk (present, unchanged, not in entries).
  const std::vector<std::uint8_t>& settled() const { return m_settled; }

  bool settle(std::size_t id, const io::FileStat& stat) override {
    const auto record = peek_record_stat(m_records[id].second);
    if (!record || !settles(*record, stat, m_racy_limit, m_sha256)) return false;
    m_settled[id] = 1;  // one byte per record: threads settling different ids never share one
    return true;
  }

  bool children(std::string_view dir, const io::FileStat& stat,
                std::vector<Child>& out) const override {
    const auto record = clean(dir, stat);
    if (!record || record->type != EntryType::directory) return false;
    std::string prefix(dir);
    prefix.push_back('/');
    const std::size_t first = out.size();
    auto it = lower_bound(prefix);
    while (it != m_records.end() && it->first.starts_with(prefix)) {
      const std::string_view rest = it->first.substr(prefix.size());
      const std::size_t slash = rest.find('/');
      if (slash == std::string_view::npos) {
        const auto child = peek_record_stat(it->second);
        if (!child) {
          out.resize(first);
          return false;  // a record of another version: read the directory instead
        }
        out.push_back(Child{rest, child->type, static_cast<std::size_t>(it - m_records.begin())});
        ++it;
      } else {
        // Skip the grandchildren: '0' is the byte after '/'.
        std::string next = prefix;
        next.append(rest.substr(0, slash));
        next.push_back('0');
        it = lower_bound(next);
      }
    }
    return true;
  }

  bool unchanged(std::string_view path, const io::FileStat& stat) const override {
    return clean(path, stat).has_value();
  }

  bool known(std::string_view path) const override {
    const auto it = lower_bound(path);
    return it != m_records.end() && it->first == path;
  }

 private:
  std::vector<store::KeyValue>::const_iterator lower_bound(std::string_view key) const {
    return std::lower_bound(
        m_records.begin(), m_records.end(), key,
        [](const store::KeyValue& record, std::string_view k) { return record.first < k; });
  }
  // The record of `path` if it has exactly `stat` and was not taken in the racy window.
  std::optional<RecordStat> clean(std::string_view path, const io::FileStat& stat) const {
    const auto it = lower_bound(path);
    if (it == m_records.end() || it->first != path) return std::nullopt;
    auto record = peek_record_stat(it->second);
    if (!record || record->mode != stat.mode || record->size != stat.size ||
        record->mtime_ns != stat.mtime_ns || record->ctime_ns != stat.ctime_ns ||
        record->ino != stat.ino || record->dev != stat.dev || record->mtime_ns >= m_racy_limit ||
        record->ctime_ns >= m_racy_limit) {
      return std::nullopt;
    }
    return record;
  }

  const std::vector<store::KeyValue>& m_records;
  std::int64_t m_racy_limit;
  bool m_sha256;
  std::vector<std::uint8_t> m_settled;
};

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
  std::vector<store::KeyValue> records;
  {
    FORGE_TRY(store::Cursor cursor, txn.cursor(m_index.files()));
    for (auto entry = cursor.first(); entry && entry->has_value(); entry = cursor.next()) {
      records.push_back(**entry);
    }
  }
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

  // previous[i]: the indexed record of entries[i]. A full scan merge-joins the sorted walk
  // with the index cursor (both in byte order), so no hash table of the whole tree is built;
  // index records the walk did not meet are `unmatched` (removed). A record of an unknown
  // version decodes as absent: the file is hashed again and rewritten.
  //
  // An entry whose walk stat equals its record and that needs no hash is settled during the
  // join, from the record's bytes in place (peek_record_stat): it is present, unchanged and
  // not rewritten, so it is dropped from `entries` before any per-entry state is built.
  // On a no-change scan that is every entry, and the rest of this function sees none.
  const std::size_t walked = entries.size();
  std::vector<std::optional<FileRecord>> previous;
  std::vector<std::pair<std::string, FileRecord>> unmatched;
  {
    FORGE_TRY(store::ReadTxn txn, m_index.env().begin_read());
    if (full) {
      auto settled = [&](const WalkEntry& walk_entry, std::string_view bytes) {
        if (!walk_entry.stat) return false;
        const auto record = peek_record_stat(bytes);
        return record && settles(*record, *walk_entry.stat, racy_limit, options.sha256);
      };
      std::vector<WalkEntry> unsettled;
      std::size_t i = 0;
      const std::vector<store::KeyValue>& records = *scan->records;
      const std::vector<std::uint8_t>& walk_settled = *scan->settled;
      for (std::size_t r = 0; r < records.size(); ++r) {
        if (walk_settled[r] != 0) continue;  // present and unchanged: the walk settled it
        const auto* entry = &records[r];
        const std::string_view key = entry->first;
        for (; i < entries.size() && std::string_view(entries[i].path) < key; ++i) {
          unsettled.push_back(std::move(entries[i]));
          previous.emplace_back();
        }
        if (i < entries.size() && entries[i].path == key) {
          if (!settled(entries[i], entry->second)) {
            unsettled.push_back(std::move(entries[i]));
            previous.push_back(FileRecord::decode(entry->second));
          }
          ++i;
        } else if (auto record = FileRecord::decode(entry->second)) {
          unmatched.emplace_back(std::string(key), std::move(*record));
        }
      }
      for (; i < entries.size(); ++i) {
        unsettled.push_back(std::move(entries[i]));
        previous.emplace_back();
      }
      entries = std::move(unsettled);
      // The records point into the snapshot; nothing below reads them. Ending the snapshot
      // before the write lets Environment::write() grow the map (no transaction may be open).
      scan->snapshot->abort();
    } else {
      previous.resize(entries.size());
      for (std::size_t i = 0; i < entries.size(); ++i) {
        FORGE_TRY(auto value, txn.get(m_index.files(), entries[i].path));
        if (value) previous[i] = FileRecord::decode(*value);
      }
    }
  }

  // Absolute paths are built only for the few entries that need a syscall by path.
  auto absolute = [&](std::size_t i) { return m_root / entries[i].path; };
  // Entries stat'ed during the walk are not stat'ed again; the rest go in one batch.
  std::vector<Result<io::FileStat>> stats(entries.size(), io::FileStat{});
  std::vector<std::filesystem::path> to_stat;
  std::vector<std::size_t> to_stat_index;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].stat) {
      stats[i] = *entries[i].stat;
    } else {
      to_stat.push_back(absolute(i));
      to_stat_index.push_back(i);
    }
  }
  if (!to_stat.empty()) {
    auto batch = m_io.batch_stat(to_stat);
    for (std::size_t k = 0; k < batch.size(); ++k) stats[to_stat_index[k]] = std::move(batch[k]);
  }

  ChangeSet result;
  result.errors = std::move(walk_errors);
  result.fresh_instance = meta.cursor == 0;
  std::map<std::string, FileRecord> writes;  // records to (re)write
  std::vector<std::size_t> vanished;         // partial scans: indexes of entries that are gone
  std::vector<std::size_t> to_hash;          // indexes into entries
  std::vector<FileRecord> candidates(entries.size());
  std::vector<bool> present(entries.size(), false);

  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!stats[i]) {
      if (stats[i].error().code() == ENOENT || stats[i].error().code() == ENOTDIR) {
        if (!full) vanished.push_back(i);
        continue;  // gone since the walk: treated as removed below
      }
      result.errors.push_back(std::move(stats[i]).error());
      if (previous[i]) present[i] = true;  // unreadable now: keep what we knew
      continue;
    }
    present[i] = true;
    const io::FileStat& stat = *stats[i];
    FileRecord& next = candidates[i];
    next.type = type_from_mode(stat.mode);
    next.mode = stat.mode;
    next.dev = stat.dev;
    next.ino = stat.ino;
    next.size = stat.size;
    next.mtime_ns = stat.mtime_ns;
    next.ctime_ns = stat.ctime_ns;
    if (next.type == EntryType::symlink) next.symlink_target = read_link(absolute(i));
    if (next.type != EntryType::file) continue;
    bool must_hash = !previous[i] || previous[i]->type != EntryType::file || !previous[i]->xxh3;
    if (!must_hash) {
      const FileRecord& prev = *previous[i];
      const bool same_stat = prev.size == next.size && prev.mtime_ns == next.mtime_ns &&
                             prev.ctime_ns == next.ctime_ns && prev.ino == next.ino &&
                             prev.dev == next.dev;
      const bool racy = prev.mtime_ns >= racy_limit || prev.ctime_ns >= racy_limit;
      must_hash = !same_stat || racy || (options.sha256 && !prev.sha256);
    }
    if (must_hash) to_hash.push_back(i);
  }

  if (!to_hash.empty()) {
    std::vector<std::filesystem::path> hash_paths;
    hash_paths.reserve(to_hash.size());
    for (std::size_t i : to_hash) hash_paths.push_back(absolute(i));
    auto hashed = m_io.batch_hash(hash_paths, hash::AlgorithmSet{options.sha256, true});
    result.hashed = to_hash.size();
    for (std::size_t k = 0; k < to_hash.size(); ++k) {
      FileRecord& next = candidates[to_hash[k]];
      if (!hashed[k]) {
        if (hashed[k].error().code() == ENOENT) {
          present[to_hash[k]] = false;
          if (!full) vanished.push_back(to_hash[k]);
        } else {
          result.errors.push_back(std::move(hashed[k]).error());
          next.xxh3.reset();  // marks "keep the old record"
        }
        continue;
      }
      // The stat of the open file after reading belongs with these digests.
      const io::FileStat& stat = hashed[k]->stat;
      next.size = hashed[k]->size;
      next.mtime_ns = stat.mtime_ns;
      next.ctime_ns = stat.ctime_ns;
      next.ino = stat.ino;
      next.dev = stat.dev;
      next.xxh3 = hashed[k]->digests.xxh3;
      next.sha256 = hashed[k]->digests.sha256;
    }
  }

  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (!present[i] || !stats[i]) continue;
    const std::string& path = entries[i].path;
    FileRecord& next = candidates[i];
    const bool was_hashed = std::binary_search(to_hash.begin(), to_hash.end(), i);
    if (next.type == EntryType::file && was_hashed && !next.xxh3) continue;  // read error
    if (!previous[i]) {
      next.created_cursor = next.changed_cursor = cursor;
      result.changes.push_back(change_from(path, ChangeKind::added, next));
      writes.emplace(path, std::move(next));
      continue;
    }
    const FileRecord& prev = *previous[i];
    if (prev.type != next.type) {
      next.created_cursor = prev.created_cursor;
      next.changed_cursor = cursor;
      next.type_changed = true;
      result.changes.push_back(change_from(path, ChangeKind::type_changed, next));
      writes.emplace(path, std::move(next));
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
      result.changes.push_back(change_from(path, ChangeKind::modified, next));
    } else {
      next.changed_cursor = prev.changed_cursor;
      next.type_changed = prev.type_changed;
    }
    const bool stat_changed = next.mode != prev.mode || next.size != prev.size ||
                              next.mtime_ns != prev.mtime_ns || next.ctime_ns != prev.ctime_ns ||
                              next.ino != prev.ino || next.dev != prev.dev;
    if (content_changed || stat_changed || next.sha256 != prev.sha256) {
      writes.emplace(path, std::move(next));
    }
  }

  // Removals: for a full scan every old record not present; for a partial scan every
  // vanished path and everything below it.
  std::vector<std::pair<std::string, FileRecord>> removals;
  if (full) {
    removals = std::move(unmatched);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (!present[i] && previous[i]) removals.emplace_back(entries[i].path, *previous[i]);
    }
  } else if (!vanished.empty()) {
    FORGE_TRY(store::ReadTxn txn, m_index.env().begin_read());
    FORGE_TRY(store::Cursor records, txn.cursor(m_index.files()));
    for (const std::size_t index : vanished) {
      const std::string& gone = entries[index].path;
      if (previous[index]) removals.emplace_back(gone, *previous[index]);
      const std::string prefix = gone + "/";
      for (auto entry = records.seek(prefix); entry && entry->has_value(); entry = records.next()) {
        if (!(*entry)->first.starts_with(prefix)) break;
        if (auto record = FileRecord::decode((*entry)->second)) {
          removals.emplace_back(std::string((*entry)->first), std::move(*record));
        }
      }
    }
  }
  for (auto& [path, record] : removals) {
    result.changes.push_back(change_from(path, ChangeKind::removed, record));
  }
  std::sort(result.changes.begin(), result.changes.end(),
            [](const Change& a, const Change& b) { return a.path < b.path; });

  IndexMeta next_meta = meta;
  next_meta.cursor = cursor;
  // A partial scan saw only some paths: it must not move the racy-clean reference point.
  if (full) next_meta.scan_start_ns = this_start;
  FORGE_TRY_VOID(m_index.env().write([&](store::WriteTxn& txn) -> Result<void> {
    for (const auto& [path, record] : writes) {
      FORGE_TRY_VOID(txn.put(m_index.files(), path, record.encode()));
      FORGE_TRY(bool had_tombstone, txn.erase(m_index.tombstones(), path));
      (void)had_tombstone;
    }
    std::string cursor_bytes(8, '\0');
    for (int i = 0; i < 8; ++i) cursor_bytes[i] = static_cast<char>((cursor >> (8 * i)) & 0xff);
    for (const auto& [path, record] : removals) {
      FORGE_TRY(bool erased, txn.erase(m_index.files(), path));
      (void)erased;
      FORGE_TRY_VOID(txn.put(m_index.tombstones(), path, cursor_bytes));
    }
    for (const Change& change : result.changes) {
      const char kind = static_cast<char>(change.kind);
      FORGE_TRY_VOID(
          txn.put(m_index.journal(), journal_key(cursor, change.path), std::string_view(&kind, 1)));
    }
    if (cursor > k_journal_cursors_kept) {
      // Trim the oldest journal entries; since() for cursors below the floor answers fresh.
      const std::uint64_t floor = cursor - k_journal_cursors_kept;
      FORGE_TRY(store::Cursor journal, txn.cursor(m_index.journal()));
      std::vector<std::string> old_keys;
      for (auto entry = journal.first(); entry && entry->has_value(); entry = journal.next()) {
        if (journal_cursor((*entry)->first) >= floor) break;
        old_keys.emplace_back((*entry)->first);
      }
      for (const auto& key : old_keys) {
        FORGE_TRY(bool gone, txn.erase(m_index.journal(), key));
        (void)gone;
      }
      next_meta.journal_floor = floor;
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
  result.entries = full ? walked + scan->settled_count : entries.size();
  result.listings_reused = full ? scan->listings_reused : 0;
  return result;
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
    FORGE_TRY(store::Cursor records, txn.cursor(m_index.files()));
    for (auto entry = records.first(); entry && entry->has_value(); entry = records.next()) {
      if (auto record = FileRecord::decode((*entry)->second)) {
        result.changes.push_back(
            change_from(std::string((*entry)->first), ChangeKind::added, *record));
      }
    }
    return result;
  }
  // Collapse the journal after the cursor to one entry per path.
  std::map<std::string, std::vector<ChangeKind>> touched;
  FORGE_TRY(store::Cursor journal, txn.cursor(m_index.journal()));
  for (auto entry = journal.seek(journal_key(since_cursor + 1, "")); entry && entry->has_value();
       entry = journal.next()) {
    touched[std::string((*entry)->first.substr(8))].push_back(
        static_cast<ChangeKind>((*entry)->second.at(0)));
  }
  for (auto& [path, kinds] : touched) {
    FORGE_TRY(auto value, txn.get(m_index.files(), path));
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
