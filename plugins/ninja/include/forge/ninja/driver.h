#pragma once
// The process-level jobs behind `forge ninja`: the build-dir lock, the settle -> ninja ->
// record wrapper, and keep-if-same for code generators.
//
// Threading: each function runs on the caller's thread and blocks until its child exits.
// Child processes inherit stdin/stdout/stderr; their exit code is passed through
// (128 + N when killed by signal N).

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "forge/core/io/platform_io.h"
#include "forge/core/support/error.h"
#include "forge/core/support/unique_fd.h"

namespace forge::ninja {

// An exclusive flock(2) on DIR/.forge/ninja.lock, held until destruction. acquire() blocks
// while another `forge ninja` holds it (so two in one build dir run one after the other).
class BuildDirLock {
 public:
  static Result<BuildDirLock> acquire(const std::filesystem::path& dir);

 private:
  explicit BuildDirLock(UniqueFd fd) : m_fd(std::move(fd)) {}
  UniqueFd m_fd;
};

// Runs argv (argv[0] looked up in PATH); returns its exit status as a shell would.
Result<int> run_process(const std::vector<std::string>& argv);

struct WrapOptions {
  std::filesystem::path dir = ".";
  std::vector<std::string> ninja_args;  // passed to ninja after "-C DIR"
  std::string ninja = "ninja";          // $FORGE_NINJA overrides in the CLI
  std::filesystem::path index_root;     // SettleOptions::index_root, for settle and record
};

// settle (unless the arguments ask for a dry run or a tool), ninja, then record after a
// successful build that ran something (or when nothing is recorded yet). A settle or record
// failure is reported on `messages` and never stops the build: ninja then decides alone.
// Returns ninja's exit status.
int run_wrapped(io::PlatformIO& io, const WrapOptions& options, std::FILE* messages);

// Runs `command`; afterwards every output in `outputs` whose content is byte-for-byte what
// it was before gets its old mtime back (so `restat = 1` prunes its dependents). Returns
// the command's exit status; on failure outputs are left as the command left them.
Result<int> keep_if_same(io::PlatformIO& io, const std::vector<std::filesystem::path>& outputs,
                         const std::vector<std::string>& command);

}  // namespace forge::ninja
