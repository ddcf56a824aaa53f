#pragma once
// Lifecycle: graceful shutdown and honest exit codes.
//
// - install_signal_handlers(): SIGINT and SIGTERM only set a flag and write one byte to a
//   self-pipe (async-signal-safe); SIGPIPE is ignored so a closed socket is an EPIPE error,
//   not a death. At most one Lifecycle may own the handlers at a time. On Windows the CRT's
//   SIGINT (Ctrl+C, Ctrl+Break) and SIGTERM set a flag that the waiters check every 20 ms
//   (there is no self-pipe to poll there).
// - Hooks are registered in start-up order (open store, start workers, accept requests)
//   and run in REVERSE at shutdown: stop accepting, finish in-flight writes, flush logs,
//   persist state (Property 21).
// - shutdown(timeout) runs every hook even after one fails; a hook that returns an Error, or
//   finishes after the deadline, makes the shutdown unclean. exit_code() is 0 if and only if
//   the shutdown was clean (Property 22); 1 otherwise; 130/143 are not used, because the
//   signal was handled and the process exits by itself.
// Thread-safe: request_shutdown / stop_requested / wait_for_shutdown from any thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "forge/core/support/error.h"
#include "forge/core/support/unique_fd.h"

namespace forge::support {

struct ShutdownReport {
  bool clean = true;
  std::string reason;            // "SIGTERM", "SIGINT", or what request_shutdown was given
  std::vector<std::string> ran;  // hook names, in the order they ran
  std::vector<Error> failures;   // failed or late hooks
  std::chrono::milliseconds took{0};
};

class Lifecycle {
 public:
  Lifecycle();
  ~Lifecycle();  // restores the previous signal handlers if this instance installed them
  Lifecycle(const Lifecycle&) = delete;
  Lifecycle& operator=(const Lifecycle&) = delete;

  Result<void> install_signal_handlers();
  void request_shutdown(std::string reason);
  bool stop_requested() const { return m_stop.load(std::memory_order_acquire); }
  // Blocks until shutdown is requested (true) or the timeout passes (false).
  bool wait_for_shutdown(std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  void add_hook(std::string name, std::function<Result<void>()> hook);
  ShutdownReport shutdown(std::chrono::milliseconds timeout);
  // 0 iff the last shutdown() was clean; 1 if it was not or none ran.
  int exit_code() const;

 private:
  void consume_signal_bytes();
  std::atomic<bool> m_stop{false};
  UniqueFd m_pipe_read;  // the self-pipe: the signal handler writes, the waiters read
  UniqueFd m_pipe_write;
  bool m_installed = false;
  mutable std::mutex m_mutex;
  std::string m_reason;                                                        // guarded by m_mutex
  std::vector<std::pair<std::string, std::function<Result<void>()>>> m_hooks;  // guarded
  std::optional<bool> m_clean;                                                 // guarded
};

}  // namespace forge::support
