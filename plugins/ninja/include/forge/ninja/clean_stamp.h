#pragma once
// The clean stamp: proof, kept in DIR/.forge/ninja-clean, that a whole Ninja build directory
// was up to date for Ninja at one moment, so that the next `forge ninja` with nothing
// changed skips settle's manifest parse, log and deps loading and planning (the no-op must
// cost well under Ninja's own no-op; issue 11).
//
// Why it is sound: the stamp is written only when the planner found every edge clean, and
// holds only while everything that could give settle something to do is unchanged:
// - manifest files and depfiles: (size, mtime, ctime, inode) equal, and the stamp is never
//   written while one of them is racily clean (mtime or ctime within the racy margin of
//   the moment the stats were taken), so a same-tick rewrite cannot hide;
// - .ninja_log and .ninja_deps: (size, mtime, ctime, inode) equal; Ninja and settle only
//   append to them (the size grows) or replace them by rename (a new inode);
// - every source path of the graph (an input or deps-log header that no edge produces):
//   existence and mtime equal (stat following symlinks, as Ninja). When a scan index covers
//   the build dir (source_index.h), the stamp also holds its cursor, taken before the
//   stats it records, and which source paths the index tracks; the check then stats only
//   the untracked ones and those the index reports changed (content or stat) since the
//   cursor - O(changed), not O(sources) - provided a live keeper syncs with the check.
//   Otherwise (no keeper, a fresh instance) it stats every source path, as before.
// Outputs are not covered: an output deleted, touched or replaced by hand is Ninja's to
// rebuild (settle would at most have spared that rebuild). So when the stamp holds,
// skipping settle leaves Ninja to decide on unchanged sources exactly as it would alone:
// it can at worst make Ninja run an edge, never mark anything clean. When anything
// differs (or the file is missing, truncated or of another version) the caller runs the
// full settle.
//
// Format (integers little-endian): u32 k_clean_stamp_version, i64 taken_ns, u64 edges
// (non-phony edges of the manifest), u32 n, n x identity (u32 length, path, NUL, u8 exists,
// u64 size, i64 mtime_ns, i64 ctime_ns, u64 ino), u32 m, m x path (u32 length, path, NUL,
// i64 mtime_ns, -1 when absent, u8 tracked by the index) of the source paths, u8 has_cursor,
// and when 1: path (the index's root) and path (its cursor). Paths are relative to the build
// dir unless absolute. Written to a temporary file and renamed into place (a reader sees the
// old or the new). Version 2 added the tracked flags and the cursor.
//
// Threading: clean_stamp_edges stats the paths on a few threads of its own and joins them
// before returning; callers hold the build-dir lock.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>

#include "forge/core/io/platform_io.h"
#include "forge/core/support/error.h"
#include "forge/ninja/build_state.h"
#include "forge/ninja/source_index.h"

namespace forge::ninja {

inline constexpr std::uint32_t k_clean_stamp_version = 2;
static_assert(k_clean_stamp_version == 2,
              "bump k_clean_stamp_version when the stamp layout above changes");

std::filesystem::path clean_stamp_path(const std::filesystem::path& dir);

// Writes the stamp for `state` (REQUIRES: the planner found every edge of state's manifest
// clean on state's stats). `edges`: the manifest's non-phony edge count. Writes nothing
// (and removes an older stamp) when a manifest file or depfile is racily clean.
// `cursor`: the covering index's cursor, read from `index` before state's stats were taken
// (nullopt: no index; every source path is stat'ed by the check); `index` then says which
// source paths it tracks.
Result<void> write_clean_stamp(BuildState& state, std::size_t edges, std::int64_t racy_margin_ns,
                               const std::optional<SourceCursor>& cursor = std::nullopt,
                               SourceIndex* index = nullptr);

struct StampCheck {
  std::optional<std::size_t> edges;  // the stamped edge count when the stamp holds
  std::size_t sources = 0;           // source paths in the stamp
  std::size_t sources_stated = 0;    // of them, stat'ed by this check (the cost counter)
  bool via_index = false;            // the index chose which sources to stat
  std::string fallback;              // why every source was stat'ed ("" when via_index)
};

// Whether DIR's stamp exists and still holds (missing, unreadable, another version, or
// anything it covers changed: it does not). With `index`, a stamp carrying a cursor asks it
// (header comment); without, every source path is stat'ed.
StampCheck check_clean_stamp(const std::filesystem::path& dir, SourceIndex* index);

// check_clean_stamp(dir, nullptr).edges.
std::optional<std::size_t> clean_stamp_edges(const std::filesystem::path& dir);

// Removes the stamp (missing is fine).
void remove_clean_stamp(const std::filesystem::path& dir);

}  // namespace forge::ninja
