#pragma once
// Runs a real process for CLI and integration tests: `sh -c COMMAND`, with optional stdin,
// capturing stdout, stderr and the exit status. Blocks until the process exits.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace forge::test {

struct ProcessResult {
  int exit_code = -1;  // -1 if killed by a signal
  std::string out;
  std::string err;
};

ProcessResult run_shell(const std::string& command, const std::string& input = {});

// Quotes `text` for sh (single quotes, embedded quotes escaped).
std::string shell_quote(const std::string& text);

// A long-running child (a server) started with argv, stdout+stderr appended to `log`.
// stop() signals it and reaps it; the destructor SIGKILLs a child still running.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::filesystem::path& log);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return m_pid; }
  bool running();
  // Sends `signal`, waits up to `timeout` for the exit; returns the exit code, 128 + signal
  // if killed by a signal, or -1 on timeout (the child is then SIGKILLed).
  int stop(int signal, std::chrono::milliseconds timeout);

 private:
  pid_t m_pid = -1;
};

// Polls until `path` exists and is non-empty, or `timeout` passes; false on timeout.
bool wait_for_file(const std::filesystem::path& path, std::chrono::milliseconds timeout);

}  // namespace forge::test
