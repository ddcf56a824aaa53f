#include "forge/ninja/settle.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "forge/ninja/build_state.h"
#include "forge/ninja/clean_stamp.h"
#include "forge/ninja/murmur_hash.h"
#include "forge/ninja/source_index.h"

namespace forge::ninja {
namespace {

// `root` is the build dir's absolute, canonical path (CMake names some outputs absolutely).
bool inside_build_dir(const std::string& path, const std::string& root) {
  if (path.starts_with('/')) return path.starts_with(root + "/");
  return path != ".." && !path.starts_with("../");
}

// The record of each edge, fetched once.
class Records {
 public:
  explicit Records(BuildState& state) : m_state(state) {}
  Result<const EdgeRecord*> get(std::size_t edge) {
    auto it = m_cache.find(edge);
    if (it == m_cache.end()) {
      FORGE_TRY(auto record, m_state.store().edge(m_state.manifest().edges[edge].outputs.front()));
      it = m_cache.emplace(edge, std::move(record)).first;
    }
    return it->second ? &*it->second : nullptr;
  }

 private:
  BuildState& m_state;
  std::unordered_map<std::size_t, std::optional<EdgeRecord>> m_cache;
};

// Cheap checks that need no digest: nullopt when the edge may still be settled.
std::optional<std::string> precheck(const Edge& edge, const EdgeRecord* record,
                                    const std::string& root) {
  if (record == nullptr) return "no forge record of this edge's last build";
  if (record->command_hash != command_hash(edge.command))
    return "command changed since it was recorded";
  for (const auto& output : edge.outputs) {
    if (!inside_build_dir(output, root))
      return fmt::format("output {} is outside the build dir", output);
  }
  return std::nullopt;
}

using DigestMap = std::unordered_map<std::string, std::optional<hash::Digest>>;

std::optional<std::string> compare(const Edge& edge, const EdgeRecord& record,
                                   std::span<const std::string> inputs, const DigestMap& digests) {
  auto digest_of = [&](const std::string& path) -> std::optional<hash::Digest> {
    const auto it = digests.find(path);
    return it == digests.end() ? std::nullopt : it->second;
  };
  if (record.outputs.size() != edge.outputs.size()) return "the edge's outputs changed";
  for (const auto& [path, digest] : record.outputs) {
    if (std::find(edge.outputs.begin(), edge.outputs.end(), path) == edge.outputs.end()) {
      return "the edge's outputs changed";
    }
    const auto now = digest_of(path);
    if (!now) return fmt::format("output {} is missing", path);
    if (*now != digest) return fmt::format("output {} changed content", path);
  }
  std::unordered_map<std::string_view, const hash::Digest*> recorded;
  for (const auto& [path, digest] : record.inputs) recorded.emplace(path, &digest);
  std::unordered_set<std::string_view> current(inputs.begin(), inputs.end());
  if (current.size() != recorded.size()) return "the edge's inputs changed";
  for (const std::string& path : inputs) {
    const auto it = recorded.find(path);
    if (it == recorded.end()) return fmt::format("new input {}", path);
    const auto now = digest_of(path);
    if (!now) return fmt::format("input {} is missing", path);
    if (*now != *it->second) return fmt::format("input {} changed content", path);
  }
  return std::nullopt;
}

Result<void> touch(const std::filesystem::path& path, std::int64_t mtime_ns) {
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;
  times[1].tv_sec = mtime_ns / 1'000'000'000;
  times[1].tv_nsec = mtime_ns % 1'000'000'000;
  if (::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return fail(Error::from_errno(errno, "ninja.settle.utimensat", path.string()));
  }
  return ok();
}

}  // namespace

Result<SettleReport> settle(io::PlatformIO& io, const SettleOptions& options) {
  SettleReport report;
  DiskSourceIndex disk(io);
  SourceIndex* const index = !options.use_source_index         ? nullptr
                             : options.source_index != nullptr ? options.source_index
                                                               : &disk;
  if (options.use_clean_stamp) {
    const StampCheck check = check_clean_stamp(options.dir, index);
    report.stamp_sources = check.sources;
    report.stamp_sources_stated = check.sources_stated;
    report.stamp_via_index = check.via_index;
    report.stamp_fallback = check.fallback;
    if (check.edges) {
      report.edges = *check.edges;
      report.from_stamp = true;
      return report;
    }
  }
  // Read before the stats a new stamp would record (clean_stamp.h).
  const std::optional<SourceCursor> cursor = options.dry_run || index == nullptr
                                                 ? std::nullopt
                                                 : index->cursor(options.dir, options.index_root);
  FORGE_TRY(BuildState state, BuildState::load(io, options.dir, options.racy_margin_ns));
  const Manifest& manifest = state.manifest();
  Records records(state);
  std::optional<Error> failure;
  std::error_code ec;
  const std::string root =
      std::filesystem::weakly_canonical(std::filesystem::absolute(options.dir), ec).string();

  // Pass 1: which paths' contents are needed, assuming every candidate settles.
  std::vector<std::string> needed;
  bool candidates = false;
  const SettleCheck collect =
      [&](std::size_t index, std::span<const std::string> inputs) -> std::optional<std::string> {
    auto record = records.get(index);
    if (!record) {
      if (!failure) failure = std::move(record).error();
      return "store error";
    }
    const Edge& edge = manifest.edges[index];
    if (auto blocker = precheck(edge, *record, root)) return blocker;
    candidates = true;
    needed.insert(needed.end(), inputs.begin(), inputs.end());
    needed.insert(needed.end(), edge.outputs.begin(), edge.outputs.end());
    return std::nullopt;
  };
  PlanContext context = state.plan_context();
  // A deps edge without a usable .ninja_deps record is checked on the deps Forge recorded
  // (its recorded inputs beyond the manifest's): if their contents are unchanged, so are
  // the deps the compiler would write.
  context.recorded_deps = [&](std::size_t index) -> std::optional<std::vector<std::string>> {
    auto record = records.get(index);
    if (!record || *record == nullptr) return std::nullopt;
    const Edge& edge = manifest.edges[index];
    const auto manifest_inputs = std::span(edge.inputs).first(edge.dirtying_inputs());
    std::vector<std::string> deps;
    for (const auto& [path, digest] : (*record)->inputs) {
      if (std::find(manifest_inputs.begin(), manifest_inputs.end(), path) ==
          manifest_inputs.end()) {
        deps.push_back(path);
      }
    }
    return deps;
  };
  FORGE_TRY(Plan plan, make_plan(context, collect));
  if (failure) return fail(std::move(*failure));
  const DigestMap digests = candidates ? state.digests(needed) : DigestMap{};

  // Pass 2: the real decision, on contents.
  const SettleCheck check = [&](std::size_t index,
                                std::span<const std::string> inputs) -> std::optional<std::string> {
    auto record = records.get(index);
    if (!record) return "store error";
    const Edge& edge = manifest.edges[index];
    if (auto blocker = precheck(edge, *record, root)) return blocker;
    return compare(edge, **record, inputs, digests);
  };
  // Without candidates pass 1 settled nothing and is the answer already.
  if (candidates) {
    FORGE_TRY(plan, make_plan(context, check));
  }

  for (std::size_t i = 0; i < manifest.edges.size(); ++i) {
    const Edge& edge = manifest.edges[i];
    if (edge.is_phony()) continue;
    ++report.edges;
    const EdgeOutcome& outcome = plan.edges[i];
    if (outcome.verdict == Verdict::clean) continue;
    report.report.push_back(
        {edge.outputs.front(), outcome.verdict, outcome.reason, outcome.blocker, outcome.content});
  }
  report.settled = plan.settled();
  report.dirty = plan.dirty_commands();
  report.hashed = state.hashed();
  if (!options.dry_run) {
    // Logs first, then mtimes: a crash in between leaves outputs older than their inputs,
    // which Ninja rebuilds (never the reverse).
    if (!plan.log_entries.empty()) {
      FORGE_TRY_VOID(append_build_log(options.dir / ".ninja_log", plan.log_entries));
    }
    if (!plan.deps_updates.empty()) {
      FORGE_TRY_VOID(append_deps_log(options.dir / ".ninja_deps", state.deps(), plan.deps_updates));
    }
    for (const auto& [output, mtime] : plan.touches) {
      FORGE_TRY_VOID(touch(state.full_path(output), mtime));
    }
  }
  FORGE_TRY_VOID(state.write_file_states());
  if (!options.dry_run && report.settled == 0 && report.dirty == 0) {
    FORGE_TRY_VOID(write_clean_stamp(state, report.edges, options.racy_margin_ns, cursor, index));
  }
  return report;
}

Result<RecordReport> record(io::PlatformIO& io, const RecordOptions& options) {
  DiskSourceIndex disk(io);
  SourceIndex* const index = options.source_index != nullptr ? options.source_index : &disk;
  const std::optional<SourceCursor> cursor = index->cursor(options.dir, options.index_root);
  FORGE_TRY(BuildState state, BuildState::load(io, options.dir, options.racy_margin_ns));
  const Manifest& manifest = state.manifest();
  const PlanContext context = state.plan_context();
  FORGE_TRY(const Plan plan, make_plan(context, SettleCheck()));
  RecordReport report;
  struct Candidate {
    std::size_t edge;
    std::vector<std::string> inputs;
  };
  std::vector<Candidate> candidates;
  std::vector<std::string> needed;
  const std::int64_t touched_after = options.build_started_ns - options.racy_margin_ns;
  for (std::size_t i = 0; i < manifest.edges.size(); ++i) {
    const Edge& edge = manifest.edges[i];
    if (edge.is_phony()) continue;
    if (plan.edges[i].verdict != Verdict::clean) {
      ++report.skipped;
      continue;
    }
    auto inputs = dirtying_inputs(context, edge, state.stat(edge.outputs.front()).stat.mtime_ns);
    if (!inputs) {
      ++report.skipped;
      continue;
    }
    const bool touched_during_build =
        options.build_started_ns > 0 &&
        std::any_of(inputs->begin(), inputs->end(), [&](const std::string& path) {
          return !manifest.producer.contains(path) &&
                 state.stat(path).stat.mtime_ns >= touched_after;
        });
    if (touched_during_build) {
      ++report.skipped;
      continue;
    }
    needed.insert(needed.end(), inputs->begin(), inputs->end());
    needed.insert(needed.end(), edge.outputs.begin(), edge.outputs.end());
    candidates.push_back({i, std::move(*inputs)});
  }
  const DigestMap digests = state.digests(needed);
  std::vector<std::pair<std::string, EdgeRecord>> records;
  for (Candidate& candidate : candidates) {
    const Edge& edge = manifest.edges[candidate.edge];
    EdgeRecord entry;
    entry.command_hash = command_hash(edge.command);
    bool complete = true;
    auto add = [&](PathDigests& to, const std::string& path) {
      const auto it = digests.find(path);
      if (it == digests.end() || !it->second) {
        complete = false;
        return;
      }
      to.emplace_back(path, *it->second);
    };
    for (const auto& path : candidate.inputs) add(entry.inputs, path);
    for (const auto& path : edge.outputs) add(entry.outputs, path);
    if (!complete) {
      ++report.skipped;
      continue;
    }
    records.emplace_back(edge.outputs.front(), std::move(entry));
  }
  report.recorded = records.size();
  report.hashed = state.hashed();
  FORGE_TRY_VOID(state.write_file_states(records));
  if (plan.dirty_commands() == 0) {
    const auto edges = static_cast<std::size_t>(std::count_if(
        manifest.edges.begin(), manifest.edges.end(), [](const Edge& e) { return !e.is_phony(); }));
    FORGE_TRY_VOID(write_clean_stamp(state, edges, options.racy_margin_ns, cursor, index));
  } else {
    remove_clean_stamp(options.dir);
  }
  return report;
}

}  // namespace forge::ninja
