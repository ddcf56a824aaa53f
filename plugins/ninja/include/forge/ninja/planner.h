#pragma once
// Planner: decides, edge by edge, what Ninja 1.11 would run, by Ninja's own rules
// (graph.cc RecomputeDirty / RecomputeOutputDirty), and lets a caller turn a dirty edge
// clean when its content is unchanged ("settle").
//
// Ninja's rules, as modelled (for every edge, inputs first, in topological order):
// - Inputs are the explicit and implicit inputs plus, for `deps =` rules, the newest
//   .ninja_deps record of the first output (for `depfile =` only rules, the depfile).
//   A deps record that is missing, or older than the first output's mtime, makes the edge
//   dirty. Order-only inputs never make an edge dirty.
// - An input is dirty if its producing edge is dirty, or if it has none and is missing.
// - Otherwise, with M = the newest mtime among the (clean) inputs, an output is dirty when
//   it is missing; when its mtime < M (for restat rules the log entry's mtime is compared
//   instead); when its log entry's command hash differs (not for generator rules); when
//   its log entry's mtime < M; or when it has no log entry (not for generator rules).
// - A phony edge is dirty only through a dirty input, or when it has no inputs and its
//   output is missing; its missing output takes M as its mtime.
// A dirty non-phony edge whose inputs are all clean is offered to the SettleCheck; when the
// check accepts, the plan makes it clean the way Ninja itself leaves a finished edge: each
// output's mtime becomes max(its mtime, M), a log entry (current command hash, that mtime)
// and, for deps rules, a deps record (same deps — or the recorded_deps when Ninja's record
// was missing or out of date — with the first output's new mtime) are added,
// and the edge's outputs count as clean with their new mtimes for the edges after it.
//
// Threading: a pure computation over its arguments; the callbacks run on the caller's
// thread. Errors: a dependency cycle is a Validation error naming an output on it.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "forge/ninja/build_log.h"
#include "forge/ninja/deps_log.h"
#include "forge/ninja/manifest.h"

namespace forge::ninja {

struct NodeStat {
  bool exists = false;
  std::int64_t mtime = 0;  // ns
};

enum class Verdict { clean, settled, dirty };

struct EdgeOutcome {
  Verdict verdict = Verdict::clean;
  std::string reason;    // Ninja's reason for a dirty or settled edge (as -d explain words it)
  std::string blocker;   // settled: empty; dirty: why it could not be settled
  bool content = false;  // dirty for a reason settling cannot remove (content, command, missing)
};

struct Plan {
  std::vector<EdgeOutcome> edges;                             // by manifest edge index
  std::vector<std::pair<std::string, std::int64_t>> touches;  // output -> new mtime
  std::vector<LogEntry> log_entries;
  std::vector<DepsUpdate> deps_updates;
  std::size_t dirty_commands() const;  // non-phony edges left dirty: what Ninja will run
  std::size_t settled() const;
};

struct PlanContext {
  const Manifest* manifest = nullptr;
  const BuildLog* log = nullptr;
  const DepsLog* deps = nullptr;
  // stat(2) of a canonical path relative to the build dir; called at most once per path.
  std::function<NodeStat(const std::string&)> stat;
  // Reads a depfile's dependencies (nullopt when missing or unreadable).
  std::function<std::optional<std::vector<std::string>>(const std::string&)> read_depfile;
  // Optional (settle): the deps last recorded for a `deps =` edge whose .ninja_deps record
  // is missing or out of date (nullopt when none are known). With it, such an edge is
  // checked on those deps like any other and, if settled, gets a fresh deps record of them.
  std::function<std::optional<std::vector<std::string>>(std::size_t edge)> recorded_deps;
};

// Returns nullopt when `edge` (dirty, every input clean) may be made clean, else the reason
// it may not. `inputs` are the edge's dirtying inputs (manifest + deps) in Ninja's order.
using SettleCheck = std::function<std::optional<std::string>(std::size_t edge,
                                                             std::span<const std::string> inputs)>;

// With `check` empty, a pure simulation: what Ninja would run now.
Result<Plan> make_plan(const PlanContext& context, const SettleCheck& check);

// The dirtying inputs Ninja sees for `edge`: explicit, implicit, then deps-log / depfile
// entries. Empty optional when the deps are missing or out of date.
std::optional<std::vector<std::string>> dirtying_inputs(const PlanContext& context,
                                                        const Edge& edge,
                                                        std::int64_t first_output_mtime);

}  // namespace forge::ninja
