#pragma once
// Scanner: brings a FileIndex up to date with the tree and says what changed.
//
// A scan walks the root, statx()es every entry in batches, and re-hashes (XXH3-128, plus
// SHA-256 when asked) only the files whose stat differs from the index or that are "racily
// clean": their mtime or ctime is not older than the previous scan's start minus
// k_racy_margin_ns. File timestamps come from the kernel's coarse clock (one jiffy, up to
// 4-10 ms behind), so a write during the previous scan can leave a stat identical to what
// that scan recorded (git's racy-git problem; ccache #1215 is the same race for its inode
// cache). Such files are re-hashed until a later scan starts well after their mtime.
// A full scan plans, hashes and commits its entries in batches of batch_entries, each in
// its own LMDB write transaction, and can hand its changes out batch by batch (on_change),
// so its memory is bounded by the batch, not the tree. The new cursor is published by the
// last transaction only; until then the index is marked incomplete ("scan_incomplete" in
// file_index.h): since() answers a fresh instance, and after an interrupted scan the next
// scan starts the index afresh under a new instance (every file reported, flagged). A
// scan that fits one batch, and a partial scan, commit in one transaction.
//
// A full scan right after another full scan with the same root and options reuses the
// listings of directories whose stat is unchanged and not racy (see ListingCache in
// walker.h): it still statx()es every entry, but reads and filters only changed directories.
//
// Change sets compare content, not stat: a scan reports only created, content-modified,
// removed and type-changed paths. A touch or chmod of a file or symlink (stat changed,
// content not) is journaled as ChangeKind::stat_only, which since() reports only when
// asked (SinceOptions::stat_only): `forge ninja settle` needs exactly those (Ninja decides
// by mtime), other consumers never see them.
//
// Cursors are "<instance>:<number>". since(cursor) answers from the index alone, in time
// proportional to the index (no tree walk): every record carries the cursor of its last
// content change and removals leave tombstones. A cursor of another index instance, or
// newer than the index, yields a fresh-instance answer (every file, flagged) — never a
// silent partial answer.
//
// Thread-safety: one scan at a time per index (LMDB serialises each write); since() may run
// concurrently with a scan and sees the state before or after it, or, while a scan of
// several batches is half written, answers a fresh instance.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "forge/core/io/platform_io.h"
#include "forge/core/scan/file_index.h"
#include "forge/core/scan/walker.h"

namespace forge::scan {

// 50 ms: well over one jiffy at HZ=100 (10 ms), so the coarse-clock lag is covered.
inline constexpr std::int64_t k_racy_margin_ns = 50'000'000;
// 8k entries a batch: ~2 MB of candidate records and changes plus LMDB's dirty pages, and
// enough files per batch_hash call to keep every read slot busy.
inline constexpr std::size_t k_scan_batch_entries = 8192;

// On disk in the journal as u8 (docs/FORMATS.md): never renumber.
enum class ChangeKind : std::uint8_t { added, modified, removed, type_changed, stat_only };
std::string_view to_string(ChangeKind kind);

struct Change {
  std::string path;
  ChangeKind kind = ChangeKind::modified;
  EntryType type = EntryType::file;    // the current type (the old one for removals)
  std::optional<hash::Digest> xxh3;    // files
  std::optional<hash::Digest> sha256;  // files, when the index has it
  std::string symlink_target;          // symlinks
};

struct ChangeSet {
  std::string cursor;           // the cursor to pass next time
  bool fresh_instance = false;  // everything listed as added: the old cursor was unknown
  std::vector<Change> changes;  // sorted by path
  // Scan statistics (zero for since()).
  std::size_t entries = 0;
  std::size_t hashed = 0;
  std::size_t listings_reused = 0;  // directories not read: their listing was unchanged
  std::vector<Error> errors;        // paths that could not be read; they keep their old record
};

struct SinceOptions {
  // Also report files and symlinks whose stat (mtime, ctime, mode, size, inode) changed
  // while their content did not (ChangeKind::stat_only; a path that also changed content
  // gets its content kind). Directories' stat changes are never reported.
  bool stat_only = false;
};

struct ScanOptions {
  WalkOptions walk;
  bool sha256 = false;  // fill SHA-256 as well as XXH3
  // Files whose mtime or ctime is not older than the previous scan's start minus this are
  // re-hashed even when their stat is unchanged. Tests on a controlled clock may pass 0.
  std::int64_t racy_margin_ns = k_racy_margin_ns;
  // Full scans: entries decided and committed per write transaction (at least 1).
  std::size_t batch_entries = k_scan_batch_entries;
  // When set, every change is passed here, in path order, once its batch is committed, and
  // ChangeSet::changes stays empty: a caller that prints them never holds the whole list.
  // If the scan then fails, the changes already passed belong to no cursor (the index is
  // marked incomplete). Called on the scanning thread.
  std::function<void(const Change&)> on_change;
  // Fault injection for tests: called in each batch's write transaction (batch number from
  // 0) before anything is written; an error fails that write and the scan, as an LMDB error
  // would.
  std::function<Result<void>(std::size_t batch)> before_batch_write;
};

class Scanner {
 public:
  // REQUIRES: root is an existing directory. `io` and `index` must outlive the Scanner.
  Scanner(std::filesystem::path root, FileIndex& index, io::PlatformIO& io);

  // Full scan; the change set is relative to the previous scan (all files on the first).
  Result<ChangeSet> scan(const ScanOptions& options);
  // Re-checks only `paths` (root-relative), e.g. from a watcher; others are trusted.
  Result<ChangeSet> scan_paths(const std::vector<std::string>& paths, const ScanOptions& options);
  // What changed since `cursor`, from the index alone.
  Result<ChangeSet> since(std::string_view cursor, const SinceOptions& options = {}) const;

 private:
  // What a full scan adds to its walk. `records`: every record, sorted, pointing into
  // `snapshot`, which update() aborts once it has joined them with the walk; `settled`: one
  // byte per record, set for those the walk settled (see ListingCache::settle).
  struct FullScan {
    const std::vector<store::KeyValue>* records = nullptr;
    const std::vector<std::uint8_t>* settled = nullptr;
    std::size_t settled_count = 0;
    store::ReadTxn* snapshot = nullptr;
    std::int64_t start_ns = 0;       // wall clock before the walk's first statx
    bool listings_reusable = false;  // the next full scan may reuse directory listings
    std::size_t listings_reused = 0;
  };
  // `scan` is null for a partial scan.
  Result<ChangeSet> update(std::vector<WalkEntry> entries, const ScanOptions& options,
                           std::vector<Error> walk_errors, const FullScan* scan);
  std::filesystem::path m_root;
  FileIndex& m_index;
  io::PlatformIO& m_io;
};

}  // namespace forge::scan
