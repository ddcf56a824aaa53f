#pragma once
// The steps of one Scanner::update batch (internal to forge::scan), in the order they run:
// join (each entry with its previous record), stat, plan (what to hash), hash, diff (what
// changed and what to write). A full scan runs them on bounded batches of its entries, so
// their memory does not grow with the tree (see Scanner::update).
//
// Threading: a Batch belongs to one thread. Errors: see each step.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "forge/core/io/platform_io.h"
#include "forge/core/scan/file_index.h"
#include "forge/core/scan/scanner.h"

namespace forge::scan::steps {

Change change_from(const std::string& path, ChangeKind kind, const FileRecord& record);

// Walk entries held compactly while they wait for their batch: the paths in one buffer and
// the stats in one array, ~60 bytes an entry less than a vector of WalkEntry.
class EntryTable {
 public:
  // Moves `entries` in; they are released as they are read.
  explicit EntryTable(std::vector<WalkEntry>&& entries);
  std::size_t size() const { return m_types.size(); }
  std::string_view path(std::size_t i) const {
    const std::size_t begin = i == 0 ? 0 : m_ends[i - 1];
    return std::string_view(m_paths).substr(begin, m_ends[i] - begin);
  }
  WalkEntry entry(std::size_t i) const;

 private:
  std::string m_paths;
  std::vector<std::size_t> m_ends;  // m_ends[i]: where path i ends in m_paths
  std::vector<EntryType> m_types;
  std::vector<io::FileStat> m_stats;
  std::vector<bool> m_has_stat;
};

// What a full scan's join leaves: the walk's entries that still need deciding, each with its
// previous record, and the records the walk did not meet (removed), both sorted by path.
struct Joined {
  std::vector<WalkEntry> entries;
  // previous[i]: the record of entries[i]. Boxed: on a first scan every one is empty, and
  // an empty optional<FileRecord> per entry would cost its full size (~170 bytes).
  std::vector<std::unique_ptr<FileRecord>> previous;
  std::vector<std::pair<std::string, FileRecord>> unmatched;
};

// Full scan: merge-joins the sorted walk with the sorted index records (both in byte
// order), compacting `joined.entries` in place. Records the walk settled, and entries whose
// stat equals their record and need no hash, are dropped; on a no-change scan that is every
// entry. A record of an unknown version decodes as absent: re-hashed.
void join_full(Joined& joined, const std::vector<store::KeyValue>& records,
               const std::vector<std::uint8_t>& walk_settled, std::int64_t racy_limit, bool sha256);

// Partial scan: the record of each named path.
Result<void> join_partial(Joined& joined, FileIndex& index);

// The state of one batch, passed through the steps below in order.
struct Batch {
  std::vector<WalkEntry> entries;
  std::vector<std::unique_ptr<FileRecord>> previous;
  std::vector<Result<io::FileStat>> stats;  // freed by plan(); stat_ok says what it held
  std::vector<bool> stat_ok;
  std::vector<FileRecord> candidates;  // candidates[i]: the record entries[i] would get
  std::vector<bool> present;
  std::vector<std::size_t> to_hash;   // indexes into entries, ascending
  std::vector<std::size_t> vanished;  // partial scans: entries that are gone
  std::vector<std::size_t> writes;    // indexes into entries/candidates, ascending (= by path)
  std::vector<Change> changes;        // of present entries, by path (removals not yet)
  std::vector<Change> stat_only;      // files and symlinks whose stat alone changed (journal)
  std::vector<Error> errors;
};

// A stat per entry; those stat'ed by the walk are not stat'ed again.
void stat_entries(Batch& batch, io::PlatformIO& io, const std::filesystem::path& root);
// The candidate record of each present entry, and which files need hashing: new, of another
// type, without a digest, with another stat, racily clean, or missing a SHA-256 asked for.
void plan(Batch& batch, const std::filesystem::path& root, bool full, std::int64_t racy_limit,
          bool sha256);
// Hashes the planned files; returns how many. A read error keeps the old record.
std::size_t hash_files(Batch& batch, io::PlatformIO& io, const std::filesystem::path& root,
                       bool full, bool sha256);
// Compares each candidate with its previous record: what to report (content, not stat: a
// touch or chmod of a file or symlink goes to stat_only, for the journal only) and what to
// write.
void diff(Batch& batch, std::uint64_t cursor);

}  // namespace forge::scan::steps
