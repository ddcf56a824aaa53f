#pragma once
// Runs a real process for CLI and integration tests: `sh -c COMMAND`, with optional stdin,
// capturing stdout, stderr and the exit status. Blocks until the process exits.

#include <string>

namespace forge::test {

struct ProcessResult {
  int exit_code = -1;  // -1 if killed by a signal
  std::string out;
  std::string err;
};

ProcessResult run_shell(const std::string& command, const std::string& input = {});

// Quotes `text` for sh (single quotes, embedded quotes escaped).
std::string shell_quote(const std::string& text);

}  // namespace forge::test
