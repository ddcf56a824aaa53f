#pragma once
// The subcommand table of the `forge` executable. Each subcommand lives in its own
// cli/<name>_command.cpp and registers itself at static-initialisation time with a
// CommandRegistration, so adding a subcommand touches no shared file but cli/CMakeLists.txt.
// The CLI only parses arguments and calls libraries: no logic a test would want to call.

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "forge/core/support/config_source.h"

namespace forge::cli {

struct Command {
  std::string_view name;     // "scan"
  std::string_view summary;  // one line for `forge --help`
  std::string_view usage;    // full usage text for `forge help NAME` / `forge NAME --help`
  // Runs the subcommand on the arguments after its name; returns the process exit code.
  int (*run)(std::vector<std::string> args);
};

// Registers `command` in the table. Use only as a namespace-scope static object.
struct CommandRegistration {
  explicit CommandRegistration(const Command& command);
};

// Every registered command, sorted by name. Valid after static initialisation.
std::span<const Command> all_commands();

// The process's arguments as main() received them, global options included (argv[1..]).
std::span<const std::string> original_arguments();

// The run's configuration (defaults < config file < environment < global flags), loaded by
// main() before the command runs. Commands take their defaults from it; their own flags
// override it.
const support::EffectiveConfig& effective_config();

// What effective_config() was loaded from (`forge config` and `forge doctor` add their own
// --config/--set to it).
const support::ConfigInputs& config_inputs();

// The tree a command works on: its ROOT argument (the first of `positional`), else the
// config's project_root (default "."), made canonical. When that fails, prints
// "forge COMMAND: <error>" on stderr and returns nullopt (exit with k_exit_failure).
std::optional<std::filesystem::path> command_root(std::string_view command,
                                                  const std::vector<std::string>& positional);

// Exit codes shared by all subcommands (sysexits-style where one fits).
inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_failure = 1;  // the job ran and found/produced a failure
inline constexpr int k_exit_usage = 2;    // bad command line

}  // namespace forge::cli
