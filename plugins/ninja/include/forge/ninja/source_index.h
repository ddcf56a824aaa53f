#pragma once
// The scan index (core/scan) that covers a build's source files, as the clean stamp
// (clean_stamp.h) uses it: a stamp written at cursor C asks the index, at the next settle,
// which files changed since C (content or stat: SinceOptions::stat_only), and stats only
// those instead of every source path (issue 11).
//
// Which index: the one of `index_root` when given (a build dir outside the indexed tree,
// `forge ninja --index-root`), else the deepest ancestor of the canonical build dir (the
// dir itself included) that has a scan index at scan::default_index_dir(ancestor) - the
// index that `forge watch --update-index` and `forge agent` keep warm, and `forge scan`
// writes. Source paths outside the index's tree keep the per-path stat.
//
// Two ways to reach it (SourceIndex):
// - DiskSourceIndex opens the index at each call (a process that does not hold it open:
//   `forge ninja`). Its answers are trusted only when a live keeper (watch/index_sync.h)
//   synced with the call, so the index holds every change made before it.
// - OpenSourceIndex asks an index this process already holds open, through its since()
//   (the agent's workspaces: LMDB forbids a second open of an environment in one process).
//   That since() is current as of the call (the workspace syncs with its keeper, or walks).
//   Its cursor() reads the whole index once (a fresh-instance since()) to learn which paths
//   are files; it runs only before a stamp is written, after a full settle.
// Either way the cursor must be of the same instance and still in the journal; otherwise
// the caller falls back to the stat walk. No full scan is run instead, because a scan stats
// the whole tree, more than the stamp's per-path stat. A path counts as covered ("tracked")
// only when the index has a record of type file for it (a symlink, an ignored or unscanned
// path is stat'ed). Reporting a tracked path untracked is always safe (it is stat'ed).
//
// Errors: none are returned: any failure (no index, unreadable, no keeper) is a reason in
// the answer and the caller stats instead. Threading: blocking; one SourceIndex object per
// thread (OpenSourceIndex caches its last cursor()'s file set).

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "forge/core/io/platform_io.h"
#include "forge/core/scan/scanner.h"
#include "forge/core/support/error.h"

namespace forge::ninja {

struct SourceCursor {
  std::filesystem::path root;  // the tree the index describes (canonical)
  std::string cursor;          // "<instance>:<number>", read after syncing with the keeper
};

struct ChangedSince {
  bool usable = false;  // false: stat every path; `why` says why
  std::string why;      // for reports: "no live index keeper", "fresh instance", ...
  std::unordered_set<std::string> paths;  // absolute paths changed since the cursor
};

class SourceIndex {
 public:
  SourceIndex() = default;
  SourceIndex(const SourceIndex&) = delete;
  SourceIndex& operator=(const SourceIndex&) = delete;
  SourceIndex(SourceIndex&&) = delete;
  SourceIndex& operator=(SourceIndex&&) = delete;
  virtual ~SourceIndex() = default;
  // The index of `index_root` (empty: the one covering `build_dir`) and its cursor now;
  // nullopt when there is no usable index. Call it before taking the stats a stamp records.
  virtual std::optional<SourceCursor> cursor(const std::filesystem::path& build_dir,
                                             const std::filesystem::path& index_root) = 0;
  // For each absolute, lexically normal path: true when the index of `at` has a file record
  // for it (see above).
  virtual std::vector<bool> tracked(const SourceCursor& at,
                                    const std::vector<std::string>& paths) = 0;
  // Every file changed in content or stat since `at.cursor`, when the answer is current.
  virtual ChangedSince changed_since(const SourceCursor& at) = 0;
};

// The index on disk (header comment). `io` is the Scanner's (since() reads the index alone)
// and must outlive this object.
class DiskSourceIndex final : public SourceIndex {
 public:
  explicit DiskSourceIndex(io::PlatformIO& io) : m_io(io) {}
  std::optional<SourceCursor> cursor(const std::filesystem::path& build_dir,
                                     const std::filesystem::path& index_root) override;
  std::vector<bool> tracked(const SourceCursor& at, const std::vector<std::string>& paths) override;
  ChangedSince changed_since(const SourceCursor& at) override;

 private:
  io::PlatformIO& m_io;
};

// An index this process holds open: its tree and its since() (scan::Scanner::since, current
// as of the call).
struct OpenIndex {
  std::filesystem::path root;
  std::function<Result<scan::ChangeSet>(std::string_view cursor, const scan::SinceOptions&)> since;
};
// The open index whose tree holds `path` (canonical; the deepest such tree), nullopt when
// none.
using OpenIndexLookup = std::function<std::optional<OpenIndex>(const std::filesystem::path& path)>;

class OpenSourceIndex final : public SourceIndex {
 public:
  explicit OpenSourceIndex(OpenIndexLookup lookup) : m_lookup(std::move(lookup)) {}
  // The open index whose tree holds index_root (or build_dir).
  std::optional<SourceCursor> cursor(const std::filesystem::path& build_dir,
                                     const std::filesystem::path& index_root) override;
  std::vector<bool> tracked(const SourceCursor& at, const std::vector<std::string>& paths) override;
  ChangedSince changed_since(const SourceCursor& at) override;

 private:
  std::optional<OpenIndex> find(const std::filesystem::path& path);
  OpenIndexLookup m_lookup;
  SourceCursor m_files_at;                  // the cursor m_files were read at
  std::unordered_set<std::string> m_files;  // absolute paths of the file records
};

// DiskSourceIndex's parts, for tests: the index covering `dir` (or of `index_root`) and its
// cursor now, synced with its keeper when one runs; tracked_paths as tracked() above.
std::optional<SourceCursor> find_source_cursor(const std::filesystem::path& dir,
                                               const std::filesystem::path& index_root = {});
std::vector<bool> tracked_paths(const SourceCursor& at, const std::vector<std::string>& paths);

}  // namespace forge::ninja
