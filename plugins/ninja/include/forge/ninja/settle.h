#pragma once
// The three jobs of `forge ninja` on one build directory:
// - record(): after a successful build, for every edge Ninja now considers clean, store its
//   command hash and the content digests of its inputs (explicit, implicit, deps log) and
//   outputs, keyed by its first output.
// - settle(): before a build, make clean every edge Ninja would run only because of mtimes:
//   its command hash equals the recorded one, every input's and output's content equals
//   the record, and all of its inputs are clean (planner.h); then set output mtimes and
//   append .ninja_log / .ninja_deps records as Ninja leaves a finished edge. Cascades:
//   settled outputs keep their content, so the edges after them are checked the same way.
// - explain(): settle's decisions without writing anything.
// When settle or record finds every edge clean it writes a clean stamp (clean_stamp.h);
// the next settle answers from it while it holds, at the cost of one stat per source path,
// or, when the scan index covering the build dir (or options.index_root) is kept warm by a
// live keeper (source_index.h), one stat per source path changed since the stamp's cursor.
//
// Guarantees: never marks clean an edge whose inputs or outputs changed content, whose
// output is missing, whose command changed or whose inputs will be rebuilt; never writes
// outside the build directory (edges with an output outside it are never settled); every
// write is an mtime change of an existing output or an append to Ninja's logs, each of
// which leaves Ninja at worst rebuilding (a crash half way is safe).
// REQUIRES: the caller holds the BuildDirLock of the directory, so one thread (of one
// process) works on a build directory at a time.
// Errors: BuildState::load's (not a Ninja dir, missing/corrupt logs, newer log version),
// store and I/O errors. On any error nothing has been written yet, or the writes done are
// individually safe as above.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "forge/core/io/platform_io.h"
#include "forge/core/support/error.h"
#include "forge/ninja/planner.h"
#include "forge/ninja/source_index.h"

namespace forge::ninja {

// 50 ms, as scan::k_racy_margin_ns: well over the kernel's coarse-clock lag (one jiffy).
inline constexpr std::int64_t k_default_racy_margin_ns = 50'000'000;

struct SettleOptions {
  std::filesystem::path dir;
  bool dry_run = false;  // explain: decide, write nothing
  std::int64_t racy_margin_ns = k_default_racy_margin_ns;
  // Answer "all clean" from a clean stamp that still holds (clean_stamp.h) without loading
  // the build state; false forces the full check.
  bool use_clean_stamp = true;
  // Let the scan index covering the build dir (source_index.h) choose which source paths
  // the stamp check stats, and record its cursor in a new stamp. False: every one is stat'ed.
  bool use_source_index = true;
  // How to reach that index: nullptr opens it on disk (a DiskSourceIndex over `io`). A
  // process that holds the index open itself (the agent's workspaces) passes an
  // OpenSourceIndex over them: LMDB forbids a second open in one process. Not owned.
  SourceIndex* source_index = nullptr;
  // The tree whose scan index covers the sources, for a build dir outside every indexed
  // tree (`forge ninja --index-root`); empty: the index covering the build dir.
  std::filesystem::path index_root;
};

struct EdgeReport {
  std::string output;  // first output
  Verdict verdict = Verdict::clean;
  std::string reason;   // why Ninja would run it
  std::string blocker;  // why it could not be settled (empty when settled)
  bool content = false;
};

struct SettleReport {
  std::size_t edges = 0;           // non-phony edges in the manifest
  std::size_t settled = 0;         // made clean (or, dry run: would be)
  std::size_t dirty = 0;           // left for Ninja to run
  std::size_t hashed = 0;          // files read and hashed
  std::vector<EdgeReport> report;  // every settled or dirty edge, manifest order
  bool from_stamp = false;         // answered by the clean stamp (nothing else was read)
  // The clean stamp's check (clean_stamp.h), run first when use_clean_stamp: how many
  // source paths it stat'ed, whether the scan index chose them, and if not, why not.
  std::size_t stamp_sources = 0;
  std::size_t stamp_sources_stated = 0;
  bool stamp_via_index = false;
  std::string stamp_fallback;
};

Result<SettleReport> settle(io::PlatformIO& io, const SettleOptions& options);

struct RecordOptions {
  std::filesystem::path dir;
  // When the build started (ns since the epoch), 0 if unknown: an edge with a source input
  // modified after that is not recorded (it may have been built from the older content).
  std::int64_t build_started_ns = 0;
  std::int64_t racy_margin_ns = k_default_racy_margin_ns;
  // As SettleOptions': the index whose cursor a clean stamp written by record() carries.
  SourceIndex* source_index = nullptr;
  std::filesystem::path index_root;
};

struct RecordReport {
  std::size_t recorded = 0;
  std::size_t skipped = 0;  // dirty, or touched during the build
  std::size_t hashed = 0;
};

Result<RecordReport> record(io::PlatformIO& io, const RecordOptions& options);

}  // namespace forge::ninja
