#pragma once
// The scan index (core/scan) that covers a build's source files, as the clean stamp
// (clean_stamp.h) uses it: a stamp written at cursor C asks the index, at the next settle,
// which files changed since C (content or stat: SinceOptions::stat_only), and stats only
// those instead of every source path (issue 11).
//
// Which index: the deepest ancestor of the canonical build dir (the dir itself included)
// that has a scan index at scan::default_index_dir(ancestor) - the index that
// `forge watch --update-index` and `forge agent` keep warm, and `forge scan` writes. A
// build whose sources lie outside it keeps the per-path stat for those paths.
//
// When its answer is trusted: only when a live keeper (watch/index_sync.h) synced with the
// call, so the index holds every change made before it, and the cursor is of the same
// instance and still in the journal. Otherwise the caller falls back to the stat walk; no
// full scan is run instead, because a scan stats the whole tree, more than the stamp's
// per-path stat. A path counts as covered ("tracked") only when the index has a record
// of type file for it at the cursor (a symlink, an ignored or unscanned path is stat'ed).
//
// Errors: none are returned: any failure (no index, unreadable, no keeper) is a reason in
// the answer and the caller stats instead. Threading: blocking; each call opens the index.

#include <filesystem>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "forge/core/io/platform_io.h"

namespace forge::ninja {

struct SourceCursor {
  std::filesystem::path root;  // the tree the index describes (canonical)
  std::string cursor;          // "<instance>:<number>", read after syncing with the keeper
};

// The index covering `dir` and its cursor now, synced with its keeper when one runs;
// nullopt when there is no usable index. Call it before taking the stats a stamp records.
std::optional<SourceCursor> find_source_cursor(const std::filesystem::path& dir);

// For each absolute, lexically normal path: true when the index of `at` has a file record
// for it (see above).
std::vector<bool> tracked_paths(const SourceCursor& at, const std::vector<std::string>& paths);

struct ChangedSince {
  bool usable = false;  // false: stat every path; `why` says why
  std::string why;      // for reports: "no live index keeper", "fresh instance", ...
  std::unordered_set<std::string> paths;  // absolute paths changed since the cursor
};

// Every file changed in content or stat since `at.cursor`, if a live keeper syncs. `io` is
// the Scanner's (since() reads the index alone).
ChangedSince changed_since(const SourceCursor& at, io::PlatformIO& io);

}  // namespace forge::ninja
