// `forge ninja`: content-based up-to-date checks for Ninja builds (plugins/ninja).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.h"
#include "forge/core/io/backend_selector.h"
#include "forge/ninja/driver.h"
#include "forge/ninja/settle.h"

namespace forge::cli {
namespace {

constexpr std::string_view k_usage =
    "usage: forge ninja [-C DIR] [--index-root SRC] [NINJA ARGS...]\n"
    "       forge ninja settle|record -C DIR [--index-root SRC]\n"
    "       forge ninja explain -C DIR [--json]\n"
    "       forge ninja keep-if-same OUTPUT... -- COMMAND [ARGS...]\n\n"
    "Use it where you typed `ninja`: it makes clean every edge whose inputs changed only in\n"
    "mtime (same content, same command, outputs present and unchanged), runs the real ninja\n"
    "with your arguments (its exit code is passed through), then records the contents of\n"
    "what was built (in DIR/.forge/ninja). A build dir it cannot read safely (no\n"
    "build.ninja, a missing or corrupt .ninja_log/.ninja_deps, a log of a newer ninja) runs\n"
    "with plain ninja. It never writes outside DIR and never marks clean an edge whose\n"
    "inputs, outputs or command changed.\n\n"
    "  settle        only the settle step        record   only the record step\n"
    "  explain       for each edge ninja would run: content or mtime-only, and why\n"
    "  keep-if-same  run a code generator; outputs it rewrote with identical content get\n"
    "                their old mtime back (use with `restat = 1`, e.g. CMake's\n"
    "                RULE_LAUNCH_CUSTOM)\n\n"
    "--index-root SRC: a build dir outside the tree whose scan index `forge watch\n"
    "--update-index SRC` (or `forge agent`) keeps warm: a no-op then stats only the sources\n"
    "changed since the last clean run (default: the index of the build dir or an ancestor).\n\n"
    "Environment: FORGE_NINJA names the ninja binary (default: ninja from PATH).";

// Takes "-C DIR" / "-CDIR" out of `args` (the last one wins); "." if absent.
std::string take_dir(std::vector<std::string>& args) {
  std::string dir = ".";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") break;
    if (args[i] == "-C" && i + 1 < args.size()) {
      dir = args[i + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
                 args.begin() + static_cast<std::ptrdiff_t>(i) + 2);
      --i;
    } else if (args[i].starts_with("-C") && args[i].size() > 2) {
      dir = args[i].substr(2);
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
      --i;
    }
  }
  return dir;
}

// Takes "--index-root DIR" / "--index-root=DIR" out of `args` (before any "--").
Result<std::filesystem::path> take_index_root(std::vector<std::string>& args) {
  std::filesystem::path root;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") break;
    std::size_t taken = 0;
    if (args[i] == "--index-root") {
      if (i + 1 == args.size()) {
        return fail(Error(ErrorCategory::validation, "--index-root needs a directory")
                        .with_suggestion("--index-root /path/to/the/source/tree"));
      }
      root = args[i + 1];
      taken = 2;
    } else if (args[i].starts_with("--index-root=")) {
      root = args[i].substr(std::string_view("--index-root=").size());
      taken = 1;
    }
    if (taken == 0) continue;
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(i),
               args.begin() + static_cast<std::ptrdiff_t>(i + taken));
    --i;
  }
  std::error_code ec;
  if (!root.empty() && !std::filesystem::is_directory(root, ec)) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("--index-root {}: not a directory", root.string()))
                    .with_file(root.string())
                    .with_suggestion("name the source tree that `forge watch --update-index` "
                                     "or `forge agent` watches"));
  }
  return root;
}

std::string_view verdict_name(ninja::Verdict verdict) {
  switch (verdict) {
    case ninja::Verdict::settled: return "mtime-only";
    case ninja::Verdict::dirty: return "run";
    default: return "clean";
  }
}

int explain(io::PlatformIO& io, const std::string& dir, bool json) {
  ninja::SettleOptions options;
  options.dir = dir;
  options.dry_run = true;
  auto report = ninja::settle(io, options);
  if (!report) {
    fmt::print(stderr, "forge ninja explain: {}\n", report.error().to_string());
    return k_exit_failure;
  }
  if (json) {
    nlohmann::json edges = nlohmann::json::array();
    for (const auto& edge : report->report) {
      nlohmann::json entry{{"output", edge.output},
                           {"verdict", verdict_name(edge.verdict)},
                           {"cause", edge.content ? "content" : "mtime"},
                           {"reason", edge.reason}};
      if (!edge.blocker.empty()) entry["blocker"] = edge.blocker;
      edges.push_back(std::move(entry));
    }
    nlohmann::json out{{"edges", report->edges},
                       {"would_settle", report->settled},
                       {"would_run", report->dirty},
                       {"details", std::move(edges)}};
    fmt::print("{}\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return k_exit_ok;
  }
  for (const auto& edge : report->report) {
    if (edge.verdict == ninja::Verdict::settled) {
      fmt::print("{}: mtime only ({}); content unchanged\n", edge.output, edge.reason);
    } else {
      fmt::print("{}: runs ({}): {}\n", edge.output, edge.reason, edge.blocker);
    }
  }
  fmt::print("{} edges: {} mtime-only, {} to run\n", report->edges, report->settled, report->dirty);
  return k_exit_ok;
}

int run(std::vector<std::string> args) {
  auto io = io::create_platform_io(support::IoConfig{});
  if (!io) {
    fmt::print(stderr, "forge ninja: {}\n", io.error().to_string());
    return k_exit_failure;
  }
  std::string sub = args.empty() ? "" : args.front();
  if (sub == "keep-if-same") {
    const auto separator = std::find(args.begin(), args.end(), "--");
    std::vector<std::filesystem::path> outputs(args.begin() + 1, separator);
    if (separator == args.end() || separator + 1 == args.end() || outputs.empty()) {
      fmt::print(stderr, "forge ninja keep-if-same: need OUTPUT... -- COMMAND\n\n{}\n", k_usage);
      return k_exit_usage;
    }
    auto status =
        ninja::keep_if_same(**io, outputs, std::vector<std::string>(separator + 1, args.end()));
    if (!status) {
      fmt::print(stderr, "forge ninja keep-if-same: {}\n", status.error().to_string());
      return k_exit_failure;
    }
    return *status;
  }
  auto index_root = take_index_root(args);
  if (!index_root) {
    fmt::print(stderr, "forge ninja: {}\n\n{}\n", index_root.error().to_string(), k_usage);
    return k_exit_usage;
  }
  sub = args.empty() ? "" : args.front();
  if (sub == "settle" || sub == "record" || sub == "explain") {
    args.erase(args.begin());
    const std::string dir = take_dir(args);
    const bool json = std::erase(args, "--json") > 0 && sub == "explain";
    if (!args.empty()) {
      fmt::print(stderr, "forge ninja {}: unexpected argument '{}'\n\n{}\n", sub, args.front(),
                 k_usage);
      return k_exit_usage;
    }
    if (sub == "explain") return explain(**io, dir, json);
    auto lock = ninja::BuildDirLock::acquire(dir);
    if (!lock) {
      fmt::print(stderr, "forge ninja {}: {}\n", sub, lock.error().to_string());
      return k_exit_failure;
    }
    if (sub == "settle") {
      ninja::SettleOptions options;
      options.dir = dir;
      options.index_root = *index_root;
      auto report = ninja::settle(**io, options);
      if (!report) {
        fmt::print(stderr, "forge ninja settle: {}\n", report.error().to_string());
        return k_exit_failure;
      }
      fmt::print("{} edges: {} made clean (mtime-only changes), {} left to run, {} files hashed\n",
                 report->edges, report->settled, report->dirty, report->hashed);
      if (report->stamp_sources > 0) {
        fmt::print("clean stamp {}: {} of {} sources stat'ed ({})\n",
                   report->from_stamp ? "held" : "did not hold", report->stamp_sources_stated,
                   report->stamp_sources,
                   report->stamp_via_index ? "chosen by the scan index"
                                           : "all: " + report->stamp_fallback);
      }
      return k_exit_ok;
    }
    ninja::RecordOptions options;
    options.dir = dir;
    options.index_root = *index_root;
    auto report = ninja::record(**io, options);
    if (!report) {
      fmt::print(stderr, "forge ninja record: {}\n", report.error().to_string());
      return k_exit_failure;
    }
    fmt::print("{} edges recorded, {} not (dirty), {} files hashed\n", report->recorded,
               report->skipped, report->hashed);
    return k_exit_ok;
  }
  ninja::WrapOptions options;
  options.dir = take_dir(args);
  options.index_root = *index_root;
  options.ninja_args = std::move(args);
  if (const char* ninja = std::getenv("FORGE_NINJA"); ninja != nullptr && *ninja != '\0') {
    options.ninja = ninja;
  }
  return ninja::run_wrapped(**io, options, stderr);
}

const CommandRegistration k_registration{
    {"ninja", "content-based up-to-date checks for Ninja builds (settle, ninja, record)", k_usage,
     &run}};

}  // namespace
}  // namespace forge::cli
