#pragma once
// BuildState: everything Forge reads from one Ninja build directory for one run: the
// manifest, .ninja_log, .ninja_deps, the record store, and one stat per path Ninja knows
// (batch statx through PlatformIO). It also resolves content digests: a path whose stat
// equals its stored FileState, and was not racily clean when hashed (mtime or ctime within
// the racy margin of the hash time, as in scan/scanner.h), keeps its stored digest; every
// other path is re-hashed with the batch hasher (XXH3-128).
//
// Errors from load(): the directory has no build.ninja (not a Ninja build), no
// .ninja_log (never built), a log or deps log that does not parse, or a log version Forge
// does not append to (a newer Ninja) - each a clear Error; callers fall back to plain Ninja.
// Threading: single-threaded use; the build-dir lock serialises processes.

#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

#include "forge/core/hash/digest.h"
#include "forge/core/io/platform_io.h"
#include "forge/ninja/build_log.h"
#include "forge/ninja/deps_log.h"
#include "forge/ninja/manifest.h"
#include "forge/ninja/planner.h"
#include "forge/ninja/record_store.h"

namespace forge::ninja {

struct PathStat {
  bool exists = false;
  io::FileStat stat;
};

class BuildState {
 public:
  static Result<BuildState> load(io::PlatformIO& io, const std::filesystem::path& dir,
                                 std::int64_t racy_margin_ns);

  const std::filesystem::path& dir() const { return m_dir; }
  const Manifest& manifest() const { return m_manifest; }
  const BuildLog& log() const { return m_log; }
  DepsLog& deps() { return m_deps; }
  RecordStore& store() { return m_store; }

  // A PlanContext over this state (stat from the batch taken at load).
  PlanContext plan_context();
  const PathStat& stat(const std::string& path);
  // Every stat taken so far (the batch at load, plus later single ones), by path.
  const std::unordered_map<std::string, PathStat>& stats() const { return m_stats; }
  // The wall clock just before load's batch stat (ns since the epoch).
  std::int64_t stats_taken_ns() const { return m_stats_taken_ns; }

  // Digests of `paths` (nullopt entries: missing or unreadable). Hashes what it must in
  // one batch; remembers fresh digests for write_file_states().
  std::unordered_map<std::string, std::optional<hash::Digest>> digests(
      const std::vector<std::string>& paths);
  std::size_t hashed() const { return m_hashed; }
  Result<void> write_file_states(const std::vector<std::pair<std::string, EdgeRecord>>& edges = {});

  std::filesystem::path full_path(const std::string& path) const;

 private:
  BuildState(io::PlatformIO& io, RecordStore store) : m_io(&io), m_store(std::move(store)) {}
  static void stat_following(const std::filesystem::path& path, PathStat& entry);

  io::PlatformIO* m_io;
  std::filesystem::path m_dir;
  std::int64_t m_racy_margin_ns = 0;
  std::int64_t m_stats_taken_ns = 0;
  Manifest m_manifest;
  BuildLog m_log;
  DepsLog m_deps;
  RecordStore m_store;
  std::unordered_map<std::string, PathStat> m_stats;
  std::unordered_map<std::string, FileState> m_files;
  std::vector<std::pair<std::string, FileState>> m_fresh;
  std::size_t m_hashed = 0;
};

// Reads the dependencies of a Makefile-style depfile ("out: a b \\\n c"); nullopt if absent.
std::optional<std::vector<std::string>> read_depfile(const std::filesystem::path& path);

}  // namespace forge::ninja
