#pragma once
// FileIndex: what the last scan of one root saw, persisted in LMDB (forge::store).
//
// Databases in the environment (layout version k_index_format, in meta "format"):
//   "files"      record key (below) -> FileRecord (encoding below); for a long path the
//                value is prefixed with u32 LE path length + path
//   "tombstones" record key -> u64 LE cursor at which the path was removed
//   "journal"    u64 BE cursor + record key -> u8 ChangeKind (+ the path, for a long path):
//                what each scan changed, so "since cursor C" is a range read of O(changes)
//                (trimmed below journal_floor; see journal.h); stat_only entries for files
//                and symlinks whose stat changed while their content did not
//   "meta"       "format"   -> u32 LE k_index_format; an index of format k_migrated_format
//                              is migrated at open, one of another format (or none)
//                              is emptied at open and gets a new instance: it is a cache
//                "instance" -> 16 random hex chars, fixed for the life of the index
//                "cursor"   -> u64 LE, the number of the last completed scan
//                "scan_start_ns" -> i64 LE, when that scan began statting (racy-clean check)
//                "journal_floor" -> u64 LE, the oldest cursor since() can still answer
//                "scan_incomplete" -> "<cursor>": a full scan writing in several transactions
//                                   (Scanner::update) has committed some of them; present
//                                   only between its first and last. Its records, tombstones
//                                   and journal are then a mix of two scans, so since()
//                                   answers a fresh instance and the next scan starts the
//                                   index afresh (start_afresh) under a new instance
//                "watcher_pid"   -> decimal pid of a `forge watch --update-index` keeping
//                                   this index current (absent when none)
//                "watcher_cookie"-> name of the last sync cookie that watcher applied
//                "listing_key"   -> "<k_listing_version>:<cursor>:<xxh3 of root + walk
//                                   options>": the scan at that cursor left the "files"
//                                   records a complete view of every directory listing it
//                                   walked, reusable by the next full scan (absent: not)
//
// Record keys: a path of at most k_max_inline_path bytes is its own key, so records sort
// by path; a longer path (LMDB keys hold at most 511 bytes) is keyed by a NUL byte and the
// SHA-256 of the path. Paths never contain NUL, so those keys sort first and never clash;
// records() merges them back into path order.
//
// FileRecord value, little-endian, version k_record_version:
//   u8 version | u8 type (EntryType) | u8 flags (bit0: sha256 present, bit1: type changed at
//   changed_cursor) | u8 reserved | u32 mode | u64 dev | u64 ino | u64 size | i64 mtime_ns |
//   i64 ctime_ns | u64 created_cursor | u64 changed_cursor | 16 B xxh3 | 32 B sha256 |
//   u32 target length | target bytes (symlink target; empty otherwise)
// A record with another version decodes as "absent": the file is re-hashed, never misread.
//
// Errors: every read propagates LMDB errors (a failed cursor step is an error, never the
// end of the data). Thread-safety: FileIndex is safe to share; reads run in parallel,
// writes serialise.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "forge/core/hash/digest.h"
#include "forge/core/scan/walker.h"
#include "forge/core/store/lmdb.h"

namespace forge::scan {

inline constexpr std::uint8_t k_record_version = 1;
// 2: long-path keys, journal values; 3: "scan_incomplete" (a forge that does not know it
// must not answer from a half-written index, so it rebuilds a format-3 index instead);
// 4: stat-only journal entries (ChangeKind::stat_only). A format-3 index is migrated at
// open (k_migrated_format): records and tombstones are kept, "journal_floor" moves up to
// its cursor, since its journal lacks stat-only entries; any other format is rebuilt.
inline constexpr std::uint32_t k_index_format = 4;
inline constexpr std::uint32_t k_migrated_format = 3;
static_assert(k_index_format == 4 && k_record_version == 1,
              "index layout changed: bump k_index_format (old indexes are rebuilt)");
inline constexpr std::size_t k_max_inline_path = 400;
static_assert(k_max_inline_path + 8 < 511, "journal keys (cursor + path) must fit LMDB's limit");

// The key of `path` in "files" and "tombstones" (see above).
std::string record_key(std::string_view path);

// Calls fn on the entries from `start` (a cursor positioning result) on, stepping with
// cursor.next(), while fn returns true. A failed step is returned as an error (item 8 of
// issue 16: a read error is never the end of the data).
Result<void> visit_entries(store::Cursor& cursor, Result<std::optional<store::KeyValue>> start,
                           const std::function<bool(const store::KeyValue&)>& fn);
inline constexpr std::size_t k_record_fixed_size = 4 + 4 + 8 * 7 + 16 + 32 + 4;
static_assert(k_record_fixed_size == 116, "FileRecord layout changed: bump k_record_version");

// The stat fields every record keeps: what a no-change scan compares with a fresh stat.
struct StoredStat {
  EntryType type = EntryType::file;
  std::uint32_t mode = 0;
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
};

struct FileRecord : StoredStat {
  std::uint64_t created_cursor = 0;
  std::uint64_t changed_cursor = 0;
  bool type_changed = false;           // the change at changed_cursor was a change of type
  std::optional<hash::Digest> xxh3;    // files only
  std::optional<hash::Digest> sha256;  // files, when asked for
  std::string symlink_target;          // symlinks only

  std::string encode() const;
  // nullopt for a value of another version or a truncated value.
  static std::optional<FileRecord> decode(std::string_view bytes);
};

// The stat part of an encoded FileRecord, read in place without decoding digests or the
// symlink target: a no-change scan compares every indexed entry with its fresh stat, and
// only the few that differ are decoded. nullopt exactly when FileRecord::decode would be.
struct RecordStat : StoredStat {
  bool has_xxh3 = false;
  bool has_sha256 = false;
};
std::optional<RecordStat> peek_record_stat(std::string_view bytes);

// The stat a record keeps, as an io::FileStat.
io::FileStat stat_of(const StoredStat& record);
// The one definition of "same stat" used by every comparison in forge::scan: mode (a
// chmod is a change), size, mtime, ctime, inode and device.
bool same_stat(const io::FileStat& a, const io::FileStat& b);

// Version of what "listing_key" promises about the records; a key of another version never
// matches, so an index written under other rules gets a full walk.
inline constexpr std::uint32_t k_listing_version = 1;
static_assert(k_listing_version == 1 && k_record_version == 1,
              "listing reuse reads FileRecord v1 stats: review ListingCache on a format change");
inline constexpr std::string_view k_listing_key = "listing_key";

struct IndexMeta {
  std::string instance;
  std::uint64_t cursor = 0;  // 0: never scanned
  std::int64_t scan_start_ns = 0;
  std::uint64_t journal_floor = 0;
  bool incomplete = false;  // "scan_incomplete" is set: see above
};
inline constexpr std::string_view k_incomplete_key = "scan_incomplete";

class FileIndex {
 public:
  // Opens or creates the index in `dir`; migrates or rebuilds an index of another format
  // (k_index_format above), logging which at info level.
  static Result<FileIndex> open(const std::filesystem::path& dir);

  store::Environment& env() { return m_env; }

  // The encoded FileRecord of `path` (a view into txn's map), nullopt when absent.
  Result<std::optional<std::string_view>> record(const store::ReadTxn& txn,
                                                 std::string_view path) const;
  // Every record as (path, encoded FileRecord), sorted by path; views into txn's map.
  Result<std::vector<store::KeyValue>> records(const store::ReadTxn& txn) const;
  // The records whose path starts with `prefix`, sorted by path.
  Result<std::vector<store::KeyValue>> records_under(const store::ReadTxn& txn,
                                                     std::string_view prefix) const;
  Result<void> put_record(store::WriteTxn& txn, std::string_view path,
                          std::string_view encoded) const;
  Result<bool> erase_record(store::WriteTxn& txn, std::string_view path) const;

  store::Database files() const { return m_files; }
  store::Database tombstones() const { return m_tombstones; }
  store::Database meta_db() const { return m_meta; }
  store::Database journal() const { return m_journal; }

  Result<IndexMeta> meta() const;
  static Result<IndexMeta> read_meta(const store::ReadTxn& txn, store::Database meta_db);
  // Free-form meta values (the watcher's pid, the last sync cookie it saw).
  Result<std::optional<std::string>> meta_value(std::string_view key) const;
  Result<void> set_meta_value(std::string_view key, std::optional<std::string_view> value);
  // Writes instance, cursor, scan_start_ns and journal_floor (not `incomplete`).
  static Result<void> put_meta(store::WriteTxn& txn, store::Database meta_db,
                               const IndexMeta& meta);
  // Empties records, tombstones and journal and gives the index a new instance at cursor 0
  // (old cursors then answer a fresh instance); other meta values (the watcher's) are kept.
  // Used after an interrupted scan (IndexMeta::incomplete).
  Result<void> start_afresh();

 private:
  FileIndex(store::Environment env) : m_env(std::move(env)) {}
  store::Environment m_env;
  store::Database m_files, m_tombstones, m_meta, m_journal;
};

// The default index directory for a root: $XDG_CACHE_HOME/forge/index/<xxh3 of the
// canonical root path> (or ~/.cache/...), so scanning never writes into the tree itself.
std::filesystem::path default_index_dir(const std::filesystem::path& canonical_root);

}  // namespace forge::scan
