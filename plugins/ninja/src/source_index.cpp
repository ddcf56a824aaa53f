#include "forge/ninja/source_index.h"

#include <fmt/format.h>

#include "forge/core/scan/file_index.h"
#include "forge/core/scan/scanner.h"
#include "forge/core/watch/index_sync.h"

namespace forge::ninja {
namespace {

namespace fs = std::filesystem;

// The index of the deepest ancestor of `dir` that has one.
std::optional<fs::path> covering_root(const fs::path& dir) {
  std::error_code ec;
  fs::path at = fs::canonical(dir, ec);
  if (ec) return std::nullopt;
  for (;;) {
    if (fs::is_directory(scan::default_index_dir(at), ec)) return at;
    if (!at.has_relative_path()) return std::nullopt;
    at = at.parent_path();
  }
}

}  // namespace

std::optional<SourceCursor> find_source_cursor(const fs::path& dir) {
  const auto root = covering_root(dir);
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
  const std::string prefix = at.root.string() == "/" ? "/" : at.root.string() + "/";
  for (std::size_t i = 0; i < paths.size(); ++i) {
    if (!paths[i].starts_with(prefix)) continue;
    auto value = index->record(*txn, std::string_view(paths[i]).substr(prefix.size()));
    if (!value || !*value) continue;
    const auto stat = scan::peek_record_stat(**value);
    tracked[i] = stat && stat->type == scan::EntryType::file;
  }
  return tracked;
}

ChangedSince changed_since(const SourceCursor& at, io::PlatformIO& io) {
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
  const scan::Scanner scanner(at.root, *index, io);
  auto changes = scanner.since(at.cursor, scan::SinceOptions{.stat_only = true});
  if (!changes) {
    answer.why = changes.error().summary();
    return answer;
  }
  if (changes->fresh_instance) {
    answer.why = "the stamp's index cursor is unknown to the index (fresh instance)";
    return answer;
  }
  const std::string prefix = at.root.string() == "/" ? "/" : at.root.string() + "/";
  for (const auto& change : changes->changes) answer.paths.insert(prefix + change.path);
  answer.usable = true;
  return answer;
}

}  // namespace forge::ninja
