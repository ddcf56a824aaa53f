#pragma once
// ServeProcess: the agent's `forge serve` — the `forge-serve` executable (HTTP and gRPC cache
// server, kept out of `forge` for its start-up cost) run as a child on the agent's store,
// with the flags from the config's "serve" list, its output going where the agent's goes.
// stop() sends SIGTERM (forge serve drains in-flight requests, then exits 0) and reaps it;
// a non-zero exit, a death by signal or a child that outlives the timeout (then SIGKILLed)
// is an Error, so the agent's own exit code stays honest.
// Threading: one controlling thread.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "forge/core/support/error.h"

namespace forge::agent {

class ServeProcess {
 public:
  // Runs `binary serve --dir STORE ARGS...`. Errors: the binary is missing (with the hint
  // to build the forge-serve target) or cannot be started.
  static Result<ServeProcess> start(const std::filesystem::path& binary,
                                    const std::filesystem::path& store_dir,
                                    const std::vector<std::string>& args);
  ServeProcess(ServeProcess&& other) noexcept;
  ServeProcess& operator=(ServeProcess&&) = delete;
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;
  ~ServeProcess();  // SIGKILLs and reaps a child still running

  pid_t pid() const { return m_pid; }
  // False once the child has exited (reaped; its status is then in exit_status()).
  bool running();
  std::optional<int> exit_status() const { return m_status; }  // exit code, or 128 + signal
  Result<void> stop(std::chrono::milliseconds timeout);

 private:
  explicit ServeProcess(pid_t pid) : m_pid(pid) {}
  pid_t m_pid = -1;
  std::optional<int> m_status;
};

}  // namespace forge::agent
