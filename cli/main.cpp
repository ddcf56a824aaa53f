// The `forge` executable: parses global options, dispatches to a registered subcommand.
#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#endif

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.h"
#include "forge/core/support/error.h"
#include "forge/core/support/log.h"
#include "forge/version.h"

namespace forge::cli {
namespace {

std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

std::vector<std::string>& saved_arguments() {
  static std::vector<std::string> arguments;
  return arguments;
}

support::ConfigInputs& saved_inputs() {
  static support::ConfigInputs inputs;
  return inputs;
}

support::EffectiveConfig& saved_config() {
  static support::EffectiveConfig config;
  return config;
}

constexpr std::string_view k_global_options =
    "--config FILE, --set KEY=VALUE, --log-level LEVEL, --log-format json|human, --log-file PATH";

// Reads the global options before the command name into `inputs`; returns false (having
// said why) on a malformed one. The --log-* options are flags over logging.* keys.
bool read_global_options(std::vector<std::string>& args, support::ConfigInputs& inputs) {
  while (!args.empty() && args.front().starts_with("--") && args.front() != "--help" &&
         args.front() != "--version") {
    const std::string option = args.front();
    const auto equals = option.find('=');
    const std::string name = option.substr(0, equals);
    std::string value;
    if (equals != std::string::npos) {
      value = option.substr(equals + 1);
      args.erase(args.begin());
    } else if (args.size() >= 2) {
      value = args[1];
      args.erase(args.begin(), args.begin() + 2);
    } else {
      fmt::print(stderr, "forge: {} needs a value (global options: {})\n", name, k_global_options);
      return false;
    }
    const auto quoted = [](const std::string& text) {
      return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    if (name == "--config") {
      inputs.config_file = value;
    } else if (name == "--set") {
      inputs.flags.push_back({value, "--set"});
    } else if (name == "--log-level") {
      inputs.flags.push_back({"logging.level=" + quoted(value), name});
    } else if (name == "--log-format") {
      inputs.flags.push_back({"logging.format=" + quoted(value), name});
    } else if (name == "--log-file") {
      inputs.flags.push_back({"logging.file=" + quoted(value), name});
    } else {
      fmt::print(stderr, "forge: unknown global option {} (valid: {})\n", name, k_global_options);
      return false;
    }
  }
  return true;
}

void print_help(std::FILE* out) {
  fmt::print(out,
             "forge {} — content-addressed build cache and change-detection engine\n\n"
             "usage: forge [--version] [--help] [--config FILE] [--set KEY=VALUE]...\n"
             "             [--log-level LEVEL] [--log-format json|human] [--log-file PATH]\n"
             "             COMMAND [ARGS...]\n\n"
             "The config file is --config FILE, else $FORGE_CONFIG, else\n"
             "$XDG_CONFIG_HOME/forge/config.json (~/.config/forge/config.json); settings layer\n"
             "defaults < file < environment < flags (`forge config show` says which is which).\n"
             "\ncommands:\n",
             k_version);
  for (const Command& command : all_commands()) {
    fmt::print(out, "  {:<10} {}\n", command.name, command.summary);
  }
  fmt::print(out, "\n`forge help COMMAND` or `forge COMMAND --help` shows a command's usage.\n");
}

const Command* find_command(std::string_view name) {
  for (const Command& command : all_commands()) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

}  // namespace

CommandRegistration::CommandRegistration(const Command& command) {
  auto& commands = registry();
  commands.push_back(command);
  std::sort(commands.begin(), commands.end(),
            [](const Command& a, const Command& b) { return a.name < b.name; });
}

std::span<const Command> all_commands() {
  return registry();
}

std::span<const std::string> original_arguments() {
  return saved_arguments();
}

const support::EffectiveConfig& effective_config() {
  return saved_config();
}

const support::ConfigInputs& config_inputs() {
  return saved_inputs();
}

std::optional<std::filesystem::path> command_root(std::string_view command,
                                                  const std::vector<std::string>& positional) {
  const std::filesystem::path given = positional.empty() ? effective_config().config.project_root
                                                         : std::filesystem::path(positional[0]);
  std::error_code ec;
  auto root = std::filesystem::canonical(given, ec);
  if (ec) {
    fmt::print(stderr, "forge {}: {}\n", command,
               Error::from_error_code(ec, std::string(command), given.string()).to_string());
    return std::nullopt;
  }
  return root;
}

}  // namespace forge::cli

int main(int argc, char** argv) {
  using namespace forge::cli;
  namespace support = forge::support;
#ifdef _WIN32
  // Bytes as on Linux: no CRLF in output (`forge hash` lines, JSON), no ^Z end of stdin.
  (void)_setmode(_fileno(stdout), _O_BINARY);
  (void)_setmode(_fileno(stdin), _O_BINARY);
#endif
  std::vector<std::string> args(argv + 1, argv + argc);
  saved_arguments() = args;
  if (args.empty()) {
    print_help(stderr);
    return k_exit_usage;
  }
  if (!read_global_options(args, saved_inputs())) return k_exit_usage;
  support::install_crash_handler();
  if (args.empty()) {
    print_help(stderr);
    return k_exit_usage;
  }
  const std::string& first = args.front();
  if (first == "--version" || first == "-V" || first == "version") {
    fmt::print("forge {}\n", forge::k_version);
    return k_exit_ok;
  }
  if (first == "--help" || first == "-h") {
    print_help(stdout);
    return k_exit_ok;
  }
  if (first == "help") {
    if (args.size() < 2) {
      print_help(stdout);
      return k_exit_ok;
    }
    if (const Command* command = find_command(args[1])) {
      fmt::print("{}\n", command->usage);
      return k_exit_ok;
    }
  }
  const Command* command = find_command(first);
  if (command == nullptr) {
    fmt::print(stderr, "forge: unknown command '{}'\n\n", first);
    print_help(stderr);
    return k_exit_usage;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (std::find(rest.begin(), rest.end(), "--help") != rest.end() ||
      std::find(rest.begin(), rest.end(), "-h") != rest.end()) {
    fmt::print("{}\n", command->usage);
    return k_exit_ok;
  }
  // `forge config` reads and reports configuration itself, broken or not.
  if (command->name != "config") {
    auto loaded = support::load_effective_config(saved_inputs());
    if (!loaded) {
      fmt::print(stderr, "forge: {}\n", loaded.error().to_string());
      return k_exit_usage;
    }
    saved_config() = std::move(*loaded);
  }
  if (command->name == "config") saved_config().config.logging.level = "warn";
  if (auto initialised = support::init_logging(saved_config().config.logging); !initialised) {
    fmt::print(stderr, "forge: {}\n", initialised.error().to_string());
    return k_exit_usage;
  }
  return command->run(std::move(rest));
}
