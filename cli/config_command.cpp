// `forge config check FILE` and `forge config show`: validate and print configuration.
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "args.h"
#include "command.h"
#include "forge/core/support/config_loader.h"

namespace forge::cli {
namespace {

constexpr std::string_view k_usage =
    "usage: forge config check FILE [--json] [--set KEY=VALUE]...\n"
    "       forge config show [--config FILE] [--set KEY=VALUE]...\n\n"
    "check: validates FILE and lists every invalid field at once (field, problem, expected\n"
    "       range or form, suggestion); exit 0 when valid, 1 when not, 2 on usage errors.\n"
    "show:  prints the effective configuration (defaults, then FILE, then --set) as JSON.\n\n"
    "Keys are dotted paths (io.max_file_handles); durations are integer milliseconds in keys\n"
    "ending in _ms.";

int fail_with(const Error& error, int code) {
  fmt::print(stderr, "forge config: {}\n", error.to_string());
  return code;
}

int run(std::vector<std::string> tokens) {
  if (tokens.empty() || (tokens[0] != "check" && tokens[0] != "show")) {
    fmt::print(stderr, "{}\n", k_usage);
    return k_exit_usage;
  }
  const std::string action = tokens[0];
  Args args(std::vector<std::string>(tokens.begin() + 1, tokens.end()));
  const bool json_output = args.flag("json");
  auto sets = args.options("set");
  auto config_file = args.option("config");
  if (!sets) return fail_with(sets.error(), k_exit_usage);
  if (!config_file) return fail_with(config_file.error(), k_exit_usage);
  if (auto done = args.finish("--json, --set, --config"); !done)
    return fail_with(done.error(), k_exit_usage);
  const auto positional = args.positional();

  nlohmann::json document = nlohmann::json::object();
  if (action == "check") {
    if (positional.size() != 1) {
      fmt::print(stderr, "forge config check: give exactly one FILE\n\n{}\n", k_usage);
      return k_exit_usage;
    }
    auto loaded = support::read_config_file(positional[0]);
    if (!loaded) return fail_with(loaded.error(), k_exit_failure);
    document = std::move(*loaded);
  } else if (*config_file) {
    auto loaded = support::read_config_file(**config_file);
    if (!loaded) return fail_with(loaded.error(), k_exit_failure);
    document = std::move(*loaded);
  }
  for (const auto& assignment : *sets) {
    if (auto applied = support::apply_override(document, assignment); !applied) {
      return fail_with(applied.error(), k_exit_usage);
    }
  }

  if (action == "check") {
    const auto issues = support::check_config(document);
    if (json_output) {
      nlohmann::json out{{"valid", issues.empty()}, {"issues", nlohmann::json::array()}};
      for (const auto& issue : issues) {
        out["issues"].push_back({{"field", issue.field},
                                 {"problem", issue.problem},
                                 {"expected", issue.expected},
                                 {"suggestion", issue.suggestion}});
      }
      fmt::print("{}\n", out.dump(2));
    } else if (issues.empty()) {
      fmt::print("{}: OK\n", positional[0]);
    } else {
      fmt::print("{}: {} invalid field{}\n", positional[0], issues.size(),
                 issues.size() == 1 ? "" : "s");
      for (const auto& issue : issues) {
        fmt::print("  {}: {}\n      expected: {}\n      fix: {}\n", issue.field, issue.problem,
                   issue.expected, issue.suggestion);
      }
    }
    return issues.empty() ? k_exit_ok : k_exit_failure;
  }
  auto config = support::config_from_json(document);
  if (!config) return fail_with(config.error(), k_exit_failure);
  fmt::print("{}\n", support::config_to_json(*config).dump(2));
  return k_exit_ok;
}

const CommandRegistration k_registration{Command{
    .name = "config",
    .summary = "validate a config file (check) or print the effective configuration (show)",
    .usage = k_usage,
    .run = run,
}};

}  // namespace
}  // namespace forge::cli
