#include "forge/core/scan/scanner.h"
#include "forge/core/support/clock.h"

#include <malloc.h>

#include <algorithm>
#include <iterator>
#include <memory>

#include <fmt/format.h>

#include "forge/core/store/encoding.h"
#include "index_listings.h"
#include "journal.h"
#include "scan_steps.h"

namespace forge::scan {
namespace {

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

using steps::change_from;

bool by_path(const Change& a, const Change& b) {
  return a.path < b.path;
}

// Removals of a partial scan: every vanished path and every record below it.
Result<void> partial_removals(const steps::Batch& batch, FileIndex& index,
                              std::vector<std::pair<std::string, FileRecord>>& removals) {
  if (batch.vanished.empty()) return ok();
  FORGE_TRY(store::ReadTxn txn, index.env().begin_read());
  for (const std::size_t i : batch.vanished) {
    const std::string& gone = batch.entries[i].path;
    if (batch.previous[i]) removals.emplace_back(gone, *batch.previous[i]);
    FORGE_TRY(auto below, index.records_under(txn, gone + "/"));
    for (const auto& [path, bytes] : below) {
      if (auto record = FileRecord::decode(bytes)) {
        removals.emplace_back(std::string(path), std::move(*record));
      }
    }
  }
  return ok();
}

}  // namespace

std::string_view to_string(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::added: return "added";
    case ChangeKind::modified: return "modified";
    case ChangeKind::removed: return "removed";
    case ChangeKind::type_changed: return "type_changed";
    case ChangeKind::stat_only: return "stat_only";
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
  // An earlier scan stopped between its transactions: a new instance, every file afresh.
  FORGE_TRY(const IndexMeta before, m_index.meta());
  if (before.incomplete) FORGE_TRY_VOID(m_index.start_afresh());
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
  // After an interrupted scan no record can be trusted: only a full scan answers.
  FORGE_TRY(const IndexMeta meta, m_index.meta());
  if (meta.incomplete) return scan(options);
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

  ChangeSet result;
  result.errors = std::move(walk_errors);
  result.fresh_instance = meta.cursor == 0;
  steps::Joined joined;
  joined.entries = std::move(entries);
  if (full) {
    steps::join_full(joined, *scan->records, *scan->settled, racy_limit, options.sha256);
    // The records point into the snapshot; nothing below reads them. Ending the snapshot
    // before the write lets Environment::write() grow the map (no transaction may be open).
    scan->snapshot->abort();
  } else {
    FORGE_TRY_VOID(steps::join_partial(joined, m_index));
  }

  // A full scan decides, writes and hands out its entries a batch at a time, so what it holds
  // (candidate records, changes, LMDB's dirty pages) is bounded by the batch, not the tree.
  // Only the last transaction publishes the cursor; in between, "scan_incomplete" makes
  // since() answer a fresh instance and the next scan start afresh (file_index.h). A
  // partial scan names few paths: one batch.
  const steps::EntryTable table(std::move(joined.entries));
  const std::size_t count = table.size();
  const std::size_t batch_size = std::max<std::size_t>(1, options.batch_entries);
  const std::size_t batches =
      full ? std::max<std::size_t>(1, (count + batch_size - 1) / batch_size) : 1;
  const bool several = batches > 1;
  IndexMeta next_meta = meta;
  next_meta.cursor = cursor;
  // A partial scan saw only some paths: it must not move the racy-clean reference point.
  if (full) next_meta.scan_start_ns = this_start;
  std::string cursor_bytes;
  store::put_le(cursor_bytes, cursor);
  std::size_t next_unmatched = 0;
  for (std::size_t b = 0; b < batches; ++b) {
    const std::size_t first = full ? b * batch_size : 0;
    const std::size_t last = full ? std::min(count, first + batch_size) : count;
    const bool final_batch = b + 1 == batches;
    steps::Batch batch;
    batch.entries.reserve(last - first);
    for (std::size_t i = first; i < last; ++i) batch.entries.push_back(table.entry(i));
    batch.previous.assign(std::make_move_iterator(joined.previous.begin() + first),
                          std::make_move_iterator(joined.previous.begin() + last));
    steps::stat_entries(batch, m_io, m_root);
    steps::plan(batch, m_root, full, racy_limit, options.sha256);
    result.hashed += steps::hash_files(batch, m_io, m_root, full, options.sha256);
    steps::diff(batch, cursor);

    // Removals: a full scan's entries gone since the walk, and the records the walk did not
    // meet up to the next batch's first path, so the changes come out in path order.
    std::vector<std::pair<std::string, FileRecord>> removals;
    if (full) {
      for (std::size_t i = 0; i < batch.entries.size(); ++i) {
        if (!batch.present[i] && batch.previous[i]) {
          removals.emplace_back(batch.entries[i].path, *batch.previous[i]);
        }
      }
      auto& unmatched = joined.unmatched;
      for (; next_unmatched < unmatched.size() &&
             (final_batch || unmatched[next_unmatched].first < table.path(last));
           ++next_unmatched) {
        removals.push_back(std::move(unmatched[next_unmatched]));
      }
    } else {
      FORGE_TRY_VOID(partial_removals(batch, m_index, removals));
    }
    for (const auto& [path, record] : removals) {
      batch.changes.push_back(change_from(path, ChangeKind::removed, record));
    }
    if (!removals.empty()) std::sort(batch.changes.begin(), batch.changes.end(), by_path);
    std::move(batch.errors.begin(), batch.errors.end(), std::back_inserter(result.errors));

    FORGE_TRY_VOID(m_index.env().write([&](store::WriteTxn& txn) -> Result<void> {
      if (options.before_batch_write) FORGE_TRY_VOID(options.before_batch_write(b));
      for (const std::size_t i : batch.writes) {
        const std::string& path = batch.entries[i].path;
        FORGE_TRY_VOID(m_index.put_record(txn, path, batch.candidates[i].encode()));
        FORGE_TRY(bool had_tombstone, txn.erase(m_index.tombstones(), record_key(path)));
        (void)had_tombstone;
      }
      for (const auto& [path, record] : removals) {
        FORGE_TRY(bool erased, m_index.erase_record(txn, path));
        (void)erased;
        FORGE_TRY_VOID(txn.put(m_index.tombstones(), record_key(path), cursor_bytes));
      }
      FORGE_TRY_VOID(journal::append(txn, m_index.journal(), cursor, batch.changes));
      FORGE_TRY_VOID(journal::append(txn, m_index.journal(), cursor, batch.stat_only));
      if (several && b == 0) {
        FORGE_TRY_VOID(txn.put(m_index.meta_db(), k_incomplete_key, std::to_string(cursor)));
      }
      if (!final_batch) return ok();
      if (cursor > k_journal_cursors_kept) {
        // Trim the oldest journal entries; since() for cursors below the floor answers fresh.
        next_meta.journal_floor = cursor - k_journal_cursors_kept;
        FORGE_TRY_VOID(journal::trim(txn, m_index.journal(), next_meta.journal_floor));
      }
      if (full) {
        // Listings are reusable next time only if this walk saw every rule and every entry
        // it listed is now recorded: an unreadable file is not, and a reused listing would
        // hide it.
        if (scan->listings_reusable && result.errors.empty()) {
          FORGE_TRY_VOID(
              txn.put(m_index.meta_db(), k_listing_key, listing_key(cursor, m_root, options.walk)));
        } else {
          FORGE_TRY(bool erased, txn.erase(m_index.meta_db(), k_listing_key));
          (void)erased;
        }
      }
      if (several) {
        FORGE_TRY(bool erased, txn.erase(m_index.meta_db(), k_incomplete_key));
        (void)erased;
      }
      return FileIndex::put_meta(txn, m_index.meta_db(), next_meta);
    }));
    // The pages this batch wrote and read stay in the page cache, not in this process, and
    // the heap the batch freed (spread over the hashing threads' arenas) goes back too.
    if (several) {
      FORGE_TRY_VOID(m_index.env().release_resident_pages());
#ifdef __GLIBC__
      ::malloc_trim(0);  // glibc only (the Windows CRT heap gives pages back itself)
#endif
    }
    if (options.on_change) {
      for (const Change& change : batch.changes) options.on_change(change);
    } else {
      std::move(batch.changes.begin(), batch.changes.end(), std::back_inserter(result.changes));
    }
  }
  result.cursor = fmt::format("{}:{}", meta.instance, cursor);
  result.entries = full ? walked + scan->settled_count : count;
  result.listings_reused = full ? scan->listings_reused : 0;
  return result;
}

Result<ChangeSet> Scanner::since(std::string_view cursor_text, const SinceOptions& options) const {
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
            since_cursor <= meta.cursor && since_cursor >= meta.journal_floor &&
            !meta.incomplete;  // a scan is half written: the journal is not one scan's
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
  for (const auto& [path, all_kinds] : touched) {
    // Stat-only entries never change what a content kind says; alone they report stat_only
    // (when asked) for a path that still exists.
    std::vector<ChangeKind> kinds;
    for (const ChangeKind kind : all_kinds) {
      if (kind != ChangeKind::stat_only) kinds.push_back(kind);
    }
    if (kinds.empty() && !options.stat_only) continue;
    FORGE_TRY(auto value, m_index.record(txn, path));
    std::optional<FileRecord> record;
    if (value) record = FileRecord::decode(*value);
    if (kinds.empty()) {
      if (record) result.changes.push_back(change_from(path, ChangeKind::stat_only, *record));
      continue;
    }
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
