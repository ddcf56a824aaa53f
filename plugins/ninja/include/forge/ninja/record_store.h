#pragma once
// RecordStore: what `forge ninja record` remembers about a build, in an LMDB environment
// inside the build directory (DIR/.forge/ninja), so it lives and dies with the build.
//
// Databases and value formats (integers little-endian, store/encoding.h):
//   "meta"  : "version" -> u32 k_record_format_version. Any other version: the records
//             are dropped on open (they are a cache of hashes; losing them costs one
//             rebuild's worth of missed settles, never a wrong "clean").
//   "files" : canonical path -> FileState
//             u64 size, i64 mtime_ns, i64 ctime_ns, u64 ino, i64 hashed_at_ns, 16-byte XXH3
//   "edges" : the edge's first output -> EdgeRecord
//             u64 command_hash, u32 n, n x (u32 length, path, 16-byte XXH3) inputs,
//             u32 m, m x (u32 length, path, 16-byte XXH3) outputs
// Threading: one RecordStore per process; callers serialise processes with the build-dir
// lock (build_dir_lock.h). Errors are store errors (lmdb.h) or Validation errors for a
// value that does not decode (treated by callers as "no record").

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "forge/core/hash/digest.h"
#include "forge/core/store/lmdb.h"

namespace forge::ninja {

inline constexpr std::uint32_t k_record_format_version = 1;
static_assert(k_record_format_version == 1,
              "bump when FileState or EdgeRecord encodings change (old records are dropped)");

struct FileState {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  std::uint64_t ino = 0;
  std::int64_t hashed_at_ns = 0;  // when the digest was taken (racy-clean check)
  hash::Digest xxh3;
};

using PathDigests = std::vector<std::pair<std::string, hash::Digest>>;

struct EdgeRecord {
  std::uint64_t command_hash = 0;
  PathDigests inputs;   // explicit, implicit and deps-log inputs
  PathDigests outputs;  // every output of the edge
};

std::string encode_file_state(const FileState& state);
Result<FileState> decode_file_state(std::string_view bytes);
std::string encode_edge_record(const EdgeRecord& record);
Result<EdgeRecord> decode_edge_record(std::string_view bytes);

class RecordStore {
 public:
  // Opens (creating) `build_dir`/.forge/ninja.
  static Result<RecordStore> open(const std::filesystem::path& build_dir);

  // Every file state (a build's worth is small: one entry per path Ninja knows).
  Result<std::unordered_map<std::string, FileState>> load_files() const;
  Result<std::optional<EdgeRecord>> edge(const std::string& first_output) const;
  // True once any edge has been recorded.
  Result<bool> has_records() const;

  // One write transaction: file states and edge records to put.
  Result<void> write(const std::vector<std::pair<std::string, FileState>>& files,
                     const std::vector<std::pair<std::string, EdgeRecord>>& edges);

 private:
  RecordStore(store::Environment env, store::Database files, store::Database edges)
      : m_env(std::move(env)), m_files(files), m_edges(edges) {}
  store::Environment m_env;
  store::Database m_files;
  store::Database m_edges;
};

}  // namespace forge::ninja
