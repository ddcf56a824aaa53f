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
    "       forge config show [--json] [--config FILE] [--set KEY=VALUE]...\n\n"
    "check: validates FILE and lists every invalid field at once (field, problem, expected\n"
    "       range or form, suggestion); exit 0 when valid, 1 when not, 2 on usage errors.\n"
    "show:  prints the effective configuration and where each value comes from: the\n"
    "       default, the config file, the environment (FORGE_LOG, FORGE_IO_BACKEND) or a\n"
    "       flag (--set, --log-level, --log-format, --log-file; later wins).\n\n"
    "The config file is --config FILE (before or after `config`), else $FORGE_CONFIG, else\n"
    "$XDG_CONFIG_HOME/forge/config.json, else ~/.config/forge/config.json (on Windows\n"
    "%APPDATA%\\forge\\config.json comes before ~/.config). Keys are dotted\n"
    "paths (io.max_file_handles); every key is optional.";

int fail_with(const Error& error, int code) {
  fmt::print(stderr, "forge config: {}\n", error.to_string());
  return code;
}

int check(const std::string& file, const std::vector<std::string>& sets, bool json_output) {
  auto loaded = support::read_config_file(file);
  if (!loaded) return fail_with(loaded.error(), k_exit_failure);
  nlohmann::json document = std::move(*loaded);
  for (const auto& assignment : sets) {
    if (auto applied = support::apply_override(document, assignment); !applied) {
      return fail_with(applied.error(), k_exit_usage);
    }
  }
  const auto issues = support::check_config(document);
  if (json_output) {
    nlohmann::json out{{"valid", issues.empty()}, {"issues", nlohmann::json::array()}};
    for (const auto& issue : issues) {
      out["issues"].push_back({{"field", issue.field},
                               {"problem", issue.problem},
                               {"expected", issue.expected},
                               {"suggestion", issue.suggestion}});
    }
    fmt::print("{}\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  } else if (issues.empty()) {
    fmt::print("{}: OK\n", support::quote_text(file, 4096));
  } else {
    fmt::print("{}: {} invalid field{}\n", support::quote_text(file, 4096), issues.size(),
               issues.size() == 1 ? "" : "s");
    for (const auto& issue : issues) {
      fmt::print("  {}: {}\n      expected: {}\n      fix: {}\n", issue.field, issue.problem,
                 issue.expected, issue.suggestion);
    }
  }
  return issues.empty() ? k_exit_ok : k_exit_failure;
}

std::string origin_text(const support::ConfigOrigin& origin) {
  if (origin.layer == support::ConfigLayer::defaults) return "default";
  return fmt::format("{} {}", support::to_string(origin.layer), origin.detail);
}

int show(const support::ConfigInputs& inputs, bool json_output) {
  auto loaded = support::load_effective_config(inputs);
  if (!loaded) return fail_with(loaded.error(), k_exit_failure);
  const nlohmann::json config = support::config_to_json(loaded->config);
  const auto& file = loaded->file;
  if (json_output) {
    nlohmann::json origins = nlohmann::json::object();
    for (const auto& [key, origin] : loaded->origins) {
      origins[key] = {{"layer", support::to_string(origin.layer)}, {"from", origin.detail}};
    }
    const nlohmann::json out{{"file",
                              {{"path", file.path.string()},
                               {"named_by", file.named_by},
                               {"loaded", loaded->file_loaded}}},
                             {"config", config},
                             {"origins", origins}};
    fmt::print("{}\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return k_exit_ok;
  }
  if (file.path.empty()) {
    fmt::print("config file: none (neither XDG_CONFIG_HOME nor HOME is set)\n");
  } else {
    fmt::print("config file: {} (from {}{})\n", file.path.string(), file.named_by,
               loaded->file_loaded ? "" : "; not present, so defaults apply");
  }
  for (const auto& [key, origin] : loaded->origins) {
    const nlohmann::json* value = support::find_key(config, key);
    fmt::print("  {:<26} {:<28} {}\n", key, value ? support::quote_json(*value, 200) : "(unset)",
               origin_text(origin));
  }
  return k_exit_ok;
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

  if (action == "check") {
    if (positional.size() != 1 || *config_file) {
      fmt::print(stderr, "forge config check: give exactly one FILE\n\n{}\n", k_usage);
      return k_exit_usage;
    }
    return check(positional[0], *sets, json_output);
  }
  if (!positional.empty()) {
    fmt::print(stderr, "forge config show: unexpected argument '{}'\n\n{}\n", positional[0],
               k_usage);
    return k_exit_usage;
  }
  support::ConfigInputs inputs = config_inputs();
  if (*config_file) inputs.config_file = **config_file;
  for (const auto& assignment : *sets) inputs.flags.push_back({assignment, "--set"});
  return show(inputs, json_output);
}

const CommandRegistration k_registration{Command{
    .name = "config",
    .summary = "validate a config file (check) or show the effective configuration (show)",
    .usage = k_usage,
    .run = run,
}};

}  // namespace
}  // namespace forge::cli
