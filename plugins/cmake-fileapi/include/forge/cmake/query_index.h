#pragma once
// The query index: what `forge cmake affected` needs from a Model, split so that a cached
// answer decodes only the changed files' entries and a small summary instead of the whole
// model (every source, header and compile flag of every target).
//
// - QueryIndex (the summary): the model without its targets' bulk (each target keeps its
//   id, name and type; sources, compile groups, artifacts, link lists and headers are
//   dropped), every target's consumers (the targets that take its objects or link its
//   library: affected.h's propagation), and for targets whose headers are unknown the
//   directories that make a changed file theirs conservatively (include directories, and
//   the directories of their compiled sources).
// - FileUses: for every source and header path of the model, the targets that list it and
//   whether it is some target's compiled source.
// compute_affected() over (QueryIndex, a FileUse lookup) equals compute_affected() over
// the Model it was built from (affected.h).
//
// Encodings (integers little-endian, model_codec.h's string/strings/index):
//   QueryIndex : u32 k_query_index_version; encode_model(slim model); u32 n, n x (u32 m,
//                m x u32 target) consumers; u32 k, k x (string dir, u32 m, m x u32
//                target) include_dirs; the same for source_dirs
//   FileUse    : u8 compiled; u32 m, m x u32 target
// Another version or bytes that do not decode are a miss for the model cache.
//
// Pure functions; thread-safe.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "forge/cmake/model.h"
#include "forge/core/support/error.h"

namespace forge::cmake {

inline constexpr std::uint32_t k_query_index_version = 1;
static_assert(k_query_index_version == 1,
              "bump k_query_index_version when the QueryIndex or FileUse layout changes");

struct FileUse {
  bool compiled = false;               // a compiled source of some target
  std::vector<std::uint32_t> targets;  // targets listing it as a source or header, ascending
  bool operator==(const FileUse&) const = default;
};

// Directory -> targets, sorted by directory (no trailing '/', except "/").
using DirTargets = std::map<std::string, std::vector<std::uint32_t>>;

struct QueryIndex {
  Model slim;
  std::vector<std::vector<std::uint32_t>> consumers;  // per target
  DirTargets include_dirs;  // headers-unknown targets: a file below the dir is theirs
  DirTargets source_dirs;   // headers-unknown targets: a file in the dir is theirs
};

using FileUses = std::unordered_map<std::string, FileUse>;

struct BuiltIndex {
  QueryIndex index;
  FileUses files;
};
BuiltIndex build_query_index(const Model& model);

// `path` up to its last '/' ("" for "/x" and for a name without one): the key of source_dirs.
std::string_view parent_dir(std::string_view path);

std::string encode_query_index(const QueryIndex& index);
Result<QueryIndex> decode_query_index(std::string_view bytes);
std::string encode_file_use(const FileUse& use);
// `targets`: the model's target count (every index must be below it).
Result<FileUse> decode_file_use(std::string_view bytes, std::size_t targets);

}  // namespace forge::cmake
