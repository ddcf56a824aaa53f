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
//   existence and mtime equal (stat following symlinks, as Ninja).
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
// i64 mtime_ns, -1 when absent) of the source paths. Paths are relative to the build dir unless
// absolute. Written to a temporary file and renamed into place (a reader sees the old or the new).
//
// Threading: clean_stamp_edges stats the paths on a few threads of its own and joins them
// before returning; callers hold the build-dir lock.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>

#include "forge/core/support/error.h"
#include "forge/ninja/build_state.h"

namespace forge::ninja {

inline constexpr std::uint32_t k_clean_stamp_version = 1;
static_assert(k_clean_stamp_version == 1,
              "bump k_clean_stamp_version when the stamp layout above changes");

std::filesystem::path clean_stamp_path(const std::filesystem::path& dir);

// Writes the stamp for `state` (REQUIRES: the planner found every edge of state's manifest
// clean on state's stats). `edges`: the manifest's non-phony edge count. Writes nothing
// (and removes an older stamp) when a manifest file or depfile is racily clean.
Result<void> write_clean_stamp(BuildState& state, std::size_t edges, std::int64_t racy_margin_ns);

// The stamped edge count when DIR's stamp exists and still holds; nullopt otherwise
// (missing, unreadable, another version, or anything it covers changed).
std::optional<std::size_t> clean_stamp_edges(const std::filesystem::path& dir);

// Removes the stamp (missing is fine).
void remove_clean_stamp(const std::filesystem::path& dir);

}  // namespace forge::ninja
