#pragma once
// FileIndex: what the last scan of one root saw, persisted in LMDB (forge::store).
//
// Databases in the environment:
//   "files"      root-relative path -> FileRecord (encoding below)
//   "tombstones" root-relative path -> u64 LE cursor at which the path was removed
//   "journal"    u64 BE cursor + path -> u8 ChangeKind: what each scan changed, so
//                "since cursor C" is a range read of O(changes) (trimmed below journal_floor)
//   "meta"       "instance" -> 16 random hex chars, fixed for the life of the index
//                "cursor"   -> u64 LE, the number of the last completed scan
//                "scan_start_ns" -> i64 LE, when that scan began statting (racy-clean check)
//                "journal_floor" -> u64 LE, the oldest cursor since() can still answer
//                "watcher_pid"   -> decimal pid of a `forge watch --update-index` keeping
//                                   this index current (absent when none)
//                "watcher_cookie"-> name of the last sync cookie that watcher applied
//                "listing_key"   -> "<k_listing_version>:<cursor>:<xxh3 of root + walk
//                                   options>": the scan at that cursor left the "files"
//                                   records a complete view of every directory listing it
//                                   walked, reusable by the next full scan (absent: not)
//
// FileRecord value, little-endian, version k_record_version:
//   u8 version | u8 type (EntryType) | u8 flags (bit0: sha256 present, bit1: type changed at
//   changed_cursor) | u8 reserved | u32 mode | u64 dev | u64 ino | u64 size | i64 mtime_ns |
//   i64 ctime_ns | u64 created_cursor | u64 changed_cursor | 16 B xxh3 | 32 B sha256 |
//   u32 target length | target bytes (symlink target; empty otherwise)
// A record with another version decodes as "absent": the file is re-hashed, never misread.
//
// Thread-safety: FileIndex is safe to share; reads run in parallel, writes serialise.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "forge/core/hash/digest.h"
#include "forge/core/scan/walker.h"
#include "forge/core/store/lmdb.h"

namespace forge::scan {

inline constexpr std::uint8_t k_record_version = 1;
inline constexpr std::size_t k_record_fixed_size = 4 + 4 + 8 * 7 + 16 + 32 + 4;
static_assert(k_record_fixed_size == 116, "FileRecord layout changed: bump k_record_version");

struct FileRecord {
  EntryType type = EntryType::file;
  std::uint32_t mode = 0;
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
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
struct RecordStat {
  EntryType type = EntryType::file;
  bool has_xxh3 = false;
  bool has_sha256 = false;
  std::uint32_t mode = 0;
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
};
std::optional<RecordStat> peek_record_stat(std::string_view bytes);

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
};

class FileIndex {
 public:
  // Opens or creates the index in `dir`.
  static Result<FileIndex> open(const std::filesystem::path& dir);

  store::Environment& env() { return m_env; }
  store::Database files() const { return m_files; }
  store::Database tombstones() const { return m_tombstones; }
  store::Database meta_db() const { return m_meta; }
  store::Database journal() const { return m_journal; }

  Result<IndexMeta> meta() const;
  static Result<IndexMeta> read_meta(const store::ReadTxn& txn, store::Database meta_db);
  // Free-form meta values (the watcher's pid, the last sync cookie it saw).
  Result<std::optional<std::string>> meta_value(std::string_view key) const;
  Result<void> set_meta_value(std::string_view key, std::optional<std::string_view> value);
  static Result<void> put_meta(store::WriteTxn& txn, store::Database meta_db,
                               const IndexMeta& meta);

 private:
  FileIndex(store::Environment env) : m_env(std::move(env)) {}
  store::Environment m_env;
  store::Database m_files, m_tombstones, m_meta, m_journal;
};

// The default index directory for a root: $XDG_CACHE_HOME/forge/index/<xxh3 of the
// canonical root path> (or ~/.cache/...), so scanning never writes into the tree itself.
std::filesystem::path default_index_dir(const std::filesystem::path& canonical_root);

}  // namespace forge::scan
