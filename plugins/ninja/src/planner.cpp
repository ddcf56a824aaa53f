#include "forge/ninja/planner.h"

#include <algorithm>

#include <fmt/format.h>

#include "forge/ninja/murmur_hash.h"

namespace forge::ninja {

std::size_t Plan::dirty_commands() const {
  return static_cast<std::size_t>(
      std::count_if(edges.begin(), edges.end(),
                    [](const EdgeOutcome& e) { return e.verdict == Verdict::dirty; }));
}

std::size_t Plan::settled() const {
  return static_cast<std::size_t>(
      std::count_if(edges.begin(), edges.end(),
                    [](const EdgeOutcome& e) { return e.verdict == Verdict::settled; }));
}

std::optional<std::vector<std::string>> dirtying_inputs(const PlanContext& context,
                                                        const Edge& edge,
                                                        std::int64_t first_output_mtime) {
  std::vector<std::string> inputs(
      edge.inputs.begin(),
      edge.inputs.begin() + static_cast<std::ptrdiff_t>(edge.dirtying_inputs()));
  if (!edge.deps.empty()) {
    const DepsRecord* record = context.deps->find(edge.outputs.front());
    if (record == nullptr || first_output_mtime > record->mtime) return std::nullopt;
    for (const std::int32_t id : record->deps) {
      inputs.push_back(context.deps->paths[static_cast<std::size_t>(id)]);
    }
  } else if (!edge.depfile.empty()) {
    auto deps = context.read_depfile(edge.depfile);
    if (!deps) return std::nullopt;
    inputs.insert(inputs.end(), deps->begin(), deps->end());
  }
  return inputs;
}

namespace {

struct Node {
  NodeStat stat;
  bool dirty = false;
};

class Planner {
 public:
  Planner(const PlanContext& context, const SettleCheck& check)
      : m_context(context), m_check(check) {
    m_plan.edges.resize(context.manifest->edges.size());
    m_state.resize(context.manifest->edges.size(), State::unvisited);
  }

  Result<Plan> run() {
    for (std::size_t i = 0; i < m_context.manifest->edges.size(); ++i) FORGE_TRY_VOID(visit(i));
    return std::move(m_plan);
  }

 private:
  enum class State { unvisited, visiting, done };

  Node& node(const std::string& path) {
    auto [it, inserted] = m_nodes.try_emplace(path);
    if (inserted) it->second.stat = m_context.stat(path);
    return it->second;
  }

  // Visits the producer of `path` (if any) and returns the node, dirty flag settled.
  Result<Node*> input(const std::string& path) {
    if (const auto it = m_context.manifest->producer.find(path);
        it != m_context.manifest->producer.end()) {
      FORGE_TRY_VOID(visit(it->second));
      return &node(path);
    }
    Node& source = node(path);
    source.dirty = !source.stat.exists;
    return &source;
  }

  Result<void> visit(std::size_t index) {
    if (m_state[index] == State::done) return ok();
    const Edge& edge = m_context.manifest->edges[index];
    if (m_state[index] == State::visiting) {
      return fail(Error(ErrorCategory::validation,
                        fmt::format("dependency cycle through {}", edge.outputs.front()))
                      .with_operation("ninja.plan"));
    }
    m_state[index] = State::visiting;
    EdgeOutcome& outcome = m_plan.edges[index];
    bool dirty = false;
    auto inputs = dirtying_inputs(m_context, edge, node(edge.outputs.front()).stat.mtime);
    const bool deps_missing = !inputs;
    std::optional<std::vector<std::string>> restored_deps;  // recorded deps standing in
    if (deps_missing) {
      dirty = true;
      outcome.reason =
          fmt::format("deps for '{}' are missing or out of date", edge.outputs.front());
      inputs.emplace(edge.inputs.begin(),
                     edge.inputs.begin() + static_cast<std::ptrdiff_t>(edge.dirtying_inputs()));
      if (!edge.deps.empty() && m_check && m_context.recorded_deps) {
        restored_deps = m_context.recorded_deps(index);
        if (restored_deps)
          inputs->insert(inputs->end(), restored_deps->begin(), restored_deps->end());
      }
    }
    const Node* newest = nullptr;
    const std::string* newest_name = nullptr;
    bool input_dirty = false;
    for (const std::string& path : *inputs) {
      FORGE_TRY(const Node* in, input(path));
      if (in->dirty) {
        if (!dirty) outcome.reason = fmt::format("{} is dirty", path);
        dirty = input_dirty = true;
      } else if (newest == nullptr || in->stat.mtime > newest->stat.mtime) {
        newest = in;
        newest_name = &path;
      }
    }
    for (std::size_t i = edge.dirtying_inputs(); i < edge.inputs.size(); ++i) {
      FORGE_TRY_VOID(input(edge.inputs[i]));  // order-only: visited, never dirtying
    }
    if (edge.is_phony()) {
      for (const std::string& path : edge.outputs) {
        Node& out = node(path);
        if (!dirty && edge.inputs.empty() && !out.stat.exists) dirty = true;
        if (!out.stat.exists && newest != nullptr)
          out.stat.mtime = std::max(out.stat.mtime, newest->stat.mtime);
      }
    } else if (!dirty) {
      dirty = outputs_dirty(edge, newest, newest_name, outcome);
    }
    if (dirty && !edge.is_phony()) {
      outcome.verdict = Verdict::dirty;
      if (input_dirty || (deps_missing && !restored_deps)) {
        outcome.content = true;
        outcome.blocker = input_dirty ? "an input will be rebuilt" : "no usable deps record";
      } else if (!m_check) {
        outcome.blocker = "not checked";
      } else if (auto blocker = m_check(index, *inputs)) {
        outcome.content = true;
        outcome.blocker = std::move(*blocker);
      } else {
        settle(edge, newest, outcome, restored_deps ? &*restored_deps : nullptr);
        dirty = false;
      }
    }
    for (const std::string& path : edge.outputs) node(path).dirty = dirty;
    m_state[index] = State::done;
    return ok();
  }

  bool outputs_dirty(const Edge& edge, const Node* newest, const std::string* newest_name,
                     EdgeOutcome& outcome) {
    const std::uint64_t hash = command_hash(edge.command);
    for (const std::string& path : edge.outputs) {
      const Node& out = node(path);
      if (!out.stat.exists) {
        outcome.reason = fmt::format("output {} doesn't exist", path);
        outcome.content = true;
        return true;
      }
      const LogEntry* entry = m_context.log->find(path);
      if (newest != nullptr && out.stat.mtime < newest->stat.mtime) {
        const std::int64_t mtime = edge.restat && entry != nullptr ? entry->mtime : out.stat.mtime;
        if (mtime < newest->stat.mtime) {
          outcome.reason =
              fmt::format("output {} older than most recent input {}", path, *newest_name);
          return true;
        }
      }
      if (entry != nullptr) {
        if (!edge.generator && entry->command_hash != hash) {
          outcome.reason = fmt::format("command line changed for {}", path);
          outcome.content = true;
          return true;
        }
        if (newest != nullptr && entry->mtime < newest->stat.mtime) {
          outcome.reason = fmt::format("recorded mtime of {} older than most recent input", path);
          return true;
        }
      } else if (!edge.generator) {
        outcome.reason = fmt::format("command line not found in log for {}", path);
        return true;
      }
    }
    return false;
  }

  // `restored_deps`: the recorded deps that stood in for a missing or stale deps record.
  void settle(const Edge& edge, const Node* newest, EdgeOutcome& outcome,
              const std::vector<std::string>* restored_deps) {
    outcome.verdict = Verdict::settled;
    const std::int64_t floor = newest != nullptr ? newest->stat.mtime : 0;
    std::int64_t log_mtime = 0;
    for (const std::string& path : edge.outputs) {
      Node& out = node(path);
      if (out.stat.mtime < floor) {
        out.stat.mtime = floor;
        m_plan.touches.emplace_back(path, floor);
      }
      log_mtime = std::max(log_mtime, out.stat.mtime);
    }
    const std::uint64_t hash = command_hash(edge.command);
    for (const std::string& path : edge.outputs) {
      const LogEntry* entry = m_context.log->find(path);
      if (entry == nullptr || entry->mtime < log_mtime || entry->command_hash != hash) {
        LogEntry fresh{path, 0, 0, log_mtime, hash};
        if (entry != nullptr) {
          fresh.start_ms = entry->start_ms;
          fresh.end_ms = entry->end_ms;
        }
        m_plan.log_entries.push_back(std::move(fresh));
      }
    }
    if (!edge.deps.empty()) {
      const DepsRecord* record = m_context.deps->find(edge.outputs.front());
      const std::int64_t out_mtime = node(edge.outputs.front()).stat.mtime;
      if (restored_deps != nullptr) {
        m_plan.deps_updates.push_back({edge.outputs.front(), out_mtime, *restored_deps});
      } else if (record != nullptr && record->mtime < out_mtime) {
        m_plan.deps_updates.push_back(
            {edge.outputs.front(), out_mtime, m_context.deps->dep_paths(*record)});
      }
    }
  }

  const PlanContext& m_context;
  const SettleCheck& m_check;
  Plan m_plan;
  std::vector<State> m_state;
  std::unordered_map<std::string, Node> m_nodes;
};

}  // namespace

Result<Plan> make_plan(const PlanContext& context, const SettleCheck& check) {
  return Planner(context, check).run();
}

}  // namespace forge::ninja
