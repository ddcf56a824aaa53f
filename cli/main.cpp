// The `forge` executable: parses global options, dispatches to a registered subcommand.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "command.h"
#include "forge/core/support/log.h"

#ifndef FORGE_VERSION
#define FORGE_VERSION "0.0.0"
#endif

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

void print_help(std::FILE* out) {
  fmt::print(out,
             "forge {} — content-addressed build cache and change-detection engine\n\n"
             "usage: forge [--version] [--help] [--log-level LEVEL] [--log-format json|human]\n"
             "             [--log-file PATH] COMMAND [ARGS...]\n\ncommands:\n",
             FORGE_VERSION);
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

}  // namespace forge::cli

int main(int argc, char** argv) {
  using namespace forge::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  saved_arguments() = args;
  if (args.empty()) {
    print_help(stderr);
    return k_exit_usage;
  }
  // Global options, before the subcommand: --log-level, --log-format, --log-file.
  namespace support = forge::support;
  support::LoggingConfig logging;
  logging.level = "warn";  // a CLI run is quiet unless asked; `forge serve` raises it
  logging = support::with_environment(logging);
  while (!args.empty() && args.front().starts_with("--log-")) {
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
      fmt::print(stderr, "forge: {} needs a value\n", name);
      return k_exit_usage;
    }
    if (name == "--log-level") {
      logging.level = value;
    } else if (name == "--log-format" && (value == "json" || value == "human")) {
      logging.format = value == "json" ? support::LogFormat::json : support::LogFormat::human;
    } else if (name == "--log-file") {
      logging.file = value;
    } else {
      fmt::print(stderr,
                 "forge: bad global option {} {} (valid: --log-level LEVEL, --log-format "
                 "json|human, --log-file PATH)\n",
                 name, value);
      return k_exit_usage;
    }
  }
  if (auto initialised = support::init_logging(logging); !initialised) {
    fmt::print(stderr, "forge: {}\n", initialised.error().to_string());
    return k_exit_usage;
  }
  support::install_crash_handler();
  if (args.empty()) {
    print_help(stderr);
    return k_exit_usage;
  }
  const std::string& first = args.front();
  if (first == "--version" || first == "-V" || first == "version") {
    fmt::print("forge {}\n", FORGE_VERSION);
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
  return command->run(std::move(rest));
}
