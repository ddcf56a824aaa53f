#include "forge/ninja/source_index.h"

#include <fmt/format.h>

#include "forge/core/scan/file_index.h"
#include "forge/core/watch/index_sync.h"

namespace forge::ninja {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_fresh_instance =
    "the stamp's index cursor is unknown to the index (fresh instance)";

// The index of `index_root` when given, else of the deepest ancestor of `dir` that has one.
std::optional<fs::path> covering_root(const fs::path& dir, const fs::path& index_root) {
  std::error_code ec;
  fs::path at = fs::canonical(index_root.empty() ? dir : index_root, ec);
  if (ec) return std::nullopt;
  for (;;) {
    if (fs::is_directory(scan::default_index_dir(at), ec)) return at;
    if (!index_root.empty() || !at.has_relative_path()) return std::nullopt;
    at = at.parent_path();
  }
}

std::string root_prefix(const fs::path& root) {
  return root.string() == "/" ? "/" : root.string() + "/";
}

// What a since() answer says about the files under `root`: their absolute paths, or why
// the answer cannot be used.
ChangedSince changed_in(const Result<scan::ChangeSet>& changes, const fs::path& root) {
  ChangedSince answer;
  if (!changes) {
    answer.why = changes.error().summary();
    return answer;
  }
  if (changes->fresh_instance) {
    answer.why = std::string(k_fresh_instance);
    return answer;
  }
  const std::string prefix = root_prefix(root);
  for (const auto& change : changes->changes) answer.paths.insert(prefix + change.path);
  answer.usable = true;
  return answer;
}

}  // namespace

std::optional<SourceCursor> find_source_cursor(const fs::path& dir, const fs::path& index_root) {
  const auto root = covering_root(dir, index_root);
  if (!root) return std::nullopt;
  auto index = scan::FileIndex::open(scan::default_index_dir(*root));
  if (!index) return std::nullopt;
  // Current as of now when a keeper runs; a stale cursor is still sound (since() then
  // reports more), so a failed sync is no reason to give up.
  (void)watch::sync_with_keeper(*root, *index);
  auto meta = index->meta();
  if (!meta || meta->incomplete || meta->cursor == 0) return std::nullopt;
  return SourceCursor{*root, fmt::format("{}:{}", meta->instance, meta->cursor)};
}

std::vector<bool> tracked_paths(const SourceCursor& at, const std::vector<std::string>& paths) {
  std::vector<bool> tracked(paths.size(), false);
  auto index = scan::FileIndex::open(scan::default_index_dir(at.root));
  if (!index) return tracked;
  auto txn = index->env().begin_read();
  if (!txn) return tracked;
  const std::string prefix = root_prefix(at.root);
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (!paths[i].starts_with(prefix)) continue;
    auto value = index->record(*txn, std::string_view(paths[i]).substr(prefix.size()));
    if (!value || !*value) continue;
    const auto stat = scan::peek_record_stat(**value);
    tracked[i] = stat && stat->type == scan::EntryType::file;
  }
  return tracked;
}

std::optional<SourceCursor> DiskSourceIndex::cursor(const fs::path& build_dir,
                                                    const fs::path& index_root) {
  return find_source_cursor(build_dir, index_root);
}

std::vector<bool> DiskSourceIndex::tracked(const SourceCursor& at,
                                           const std::vector<std::string>& paths) {
  return tracked_paths(at, paths);
}

ChangedSince DiskSourceIndex::changed_since(const SourceCursor& at) {
  ChangedSince answer;
  auto index = scan::FileIndex::open(scan::default_index_dir(at.root));
  if (!index) {
    answer.why = "the scan index cannot be opened";
    return answer;
  }
  if (!watch::sync_with_keeper(at.root, *index)) {
    answer.why = "no live index keeper (forge watch --update-index or forge agent)";
    return answer;
  }
  const scan::Scanner scanner(at.root, *index, m_io);
  return changed_in(scanner.since(at.cursor, scan::SinceOptions{.stat_only = true}), at.root);
}

std::optional<OpenIndex> OpenSourceIndex::find(const fs::path& path) {
  if (!m_lookup) return std::nullopt;
  std::error_code ec;
  const fs::path canonical = fs::canonical(path, ec);
  if (ec) return std::nullopt;
  auto open = m_lookup(canonical);
  if (!open || !open->since) return std::nullopt;
  open->root = fs::weakly_canonical(open->root, ec);
  if (ec) return std::nullopt;
  return open;
}

std::optional<SourceCursor> OpenSourceIndex::cursor(const fs::path& build_dir,
                                                    const fs::path& index_root) {
  const auto open = find(index_root.empty() ? build_dir : index_root);
  if (!open) return std::nullopt;
  // One read of every record: the cursor, and which paths are files for tracked().
  auto all = open->since("", scan::SinceOptions{});
  if (!all) return std::nullopt;
  m_files.clear();
  const std::string prefix = root_prefix(open->root);
  for (const auto& change : all->changes) {
    if (change.type == scan::EntryType::file && change.kind != scan::ChangeKind::removed) {
      m_files.insert(prefix + change.path);
    }
  }
  m_files_at = SourceCursor{open->root, all->cursor};
  return m_files_at;
}

std::vector<bool> OpenSourceIndex::tracked(const SourceCursor& at,
                                           const std::vector<std::string>& paths) {
  std::vector<bool> tracked(paths.size(), false);
  // Only the file set read with this very cursor (else: untracked, so stat'ed: safe).
  if (at.root != m_files_at.root || at.cursor != m_files_at.cursor) return tracked;
  for (std::size_t i = 0; i < paths.size(); ++i) tracked[i] = m_files.contains(paths[i]);
  return tracked;
}

ChangedSince OpenSourceIndex::changed_since(const SourceCursor& at) {
  ChangedSince answer;
  const auto open = find(at.root);
  if (!open || open->root != at.root) {
    answer.why =
        fmt::format("the index of {} is not open in this process (no workspace)", at.root.string());
    return answer;
  }
  return changed_in(open->since(at.cursor, scan::SinceOptions{.stat_only = true}), at.root);
}

}  // namespace forge::ninja
