#include "forge/core/support/lifecycle.h"

#include <fcntl.h>
#include <signal.h>
#ifdef _WIN32
#include <thread>  // Windows: no self-pipe; the waiters poll the handler's flag
#else
#include <poll.h>
#include <unistd.h>
#endif

#include <cerrno>

#include <fmt/format.h>

namespace forge::support {
namespace {

std::atomic<int> g_signal_pipe{-1};
std::atomic<int> g_last_signal{0};
#ifdef _WIN32
// The CRT runs a SIGINT (Ctrl+C, Ctrl+Break) handler on a thread of its own and resets it to
// SIG_DFL first; the flag is all it sets, and wait_for_shutdown() looks at it every 20 ms.
std::atomic<bool> g_signalled{false};
void (*g_previous_int)(int) = SIG_DFL;
void (*g_previous_term)(int) = SIG_DFL;

extern "C" void on_shutdown_signal(int signal_number) {
  g_last_signal.store(signal_number);
  g_signalled.store(true);
}
#else
struct sigaction g_previous_int {};
struct sigaction g_previous_term {};

extern "C" void on_shutdown_signal(int signal_number) {
  const int saved_errno = errno;
  g_last_signal.store(signal_number);
  const int fd = g_signal_pipe.load();
  if (fd >= 0) {
    const char byte = static_cast<char>(signal_number);
    [[maybe_unused]] const ssize_t n = ::write(fd, &byte, 1);
  }
  errno = saved_errno;
}
#endif

}  // namespace

#ifdef _WIN32
Lifecycle::Lifecycle() = default;

Lifecycle::~Lifecycle() {
  if (m_installed) {
    ::signal(SIGINT, g_previous_int);
    ::signal(SIGTERM, g_previous_term);
    g_signal_pipe.store(-1);
  }
}

Result<void> Lifecycle::install_signal_handlers() {
  int expected = -1;
  if (!g_signal_pipe.compare_exchange_strong(expected, 0)) {  // 0: owned, no pipe
    return fail(Error(ErrorCategory::unknown, "another Lifecycle already handles SIGINT/SIGTERM")
                    .with_suggestion("create one Lifecycle per process"));
  }
  g_signalled.store(false);
  g_previous_int = ::signal(SIGINT, on_shutdown_signal);
  g_previous_term = ::signal(SIGTERM, on_shutdown_signal);
  m_installed = true;
  return ok();
}
#else
Lifecycle::Lifecycle() {
  int ends[2] = {-1, -1};
  if (::pipe2(ends, O_CLOEXEC | O_NONBLOCK) == 0) {
    m_pipe_read = UniqueFd(ends[0]);
    m_pipe_write = UniqueFd(ends[1]);
  }
}

Lifecycle::~Lifecycle() {
  if (m_installed) {
    sigaction(SIGINT, &g_previous_int, nullptr);
    sigaction(SIGTERM, &g_previous_term, nullptr);
    g_signal_pipe.store(-1);
  }
}

Result<void> Lifecycle::install_signal_handlers() {
  if (!m_pipe_write.valid()) return fail(Error::from_errno(EMFILE, "pipe"));
  int expected = -1;
  if (!g_signal_pipe.compare_exchange_strong(expected, m_pipe_write.get())) {
    return fail(Error(ErrorCategory::unknown, "another Lifecycle already handles SIGINT/SIGTERM")
                    .with_suggestion("create one Lifecycle per process"));
  }
  struct sigaction action {};
  action.sa_handler = on_shutdown_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
  ::signal(SIGPIPE, SIG_IGN);
  m_installed = true;
  return ok();
}
#endif

void Lifecycle::request_shutdown(std::string reason) {
  {
    std::lock_guard lock(m_mutex);
    if (m_reason.empty()) m_reason = std::move(reason);
  }
  m_stop.store(true, std::memory_order_release);
  if (m_pipe_write.valid()) {  // never on Windows: the waiters see m_stop within 20 ms
    const char byte = 0;
    [[maybe_unused]] const ssize_t n = ::write(m_pipe_write.get(), &byte, 1);
  }
}

void Lifecycle::consume_signal_bytes() {
#ifdef _WIN32
  if (!m_installed || !g_signalled.exchange(false)) return;
#else
  char bytes[64];
  ssize_t n;
  bool any = false;
  while ((n = ::read(m_pipe_read.get(), bytes, sizeof bytes)) > 0) any = true;
  if (!any) return;
#endif
  const int signal_number = g_last_signal.load();
  std::string reason = signal_number == SIGTERM  ? "SIGTERM"
                       : signal_number == SIGINT ? "SIGINT"
                                                 : "requested";
  {
    std::lock_guard lock(m_mutex);
    if (m_reason.empty()) m_reason = reason;
  }
  m_stop.store(true, std::memory_order_release);
}

bool Lifecycle::wait_for_shutdown(std::optional<std::chrono::milliseconds> timeout) {
  const auto deadline = timeout ? std::chrono::steady_clock::now() + *timeout
                                : std::chrono::steady_clock::time_point::max();
  for (;;) {
    if (stop_requested()) return true;
    int wait_ms = -1;
    if (timeout) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::max<std::int64_t>(0, left.count()));
    }
#ifdef _WIN32
    consume_signal_bytes();
    if (stop_requested()) return true;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(wait_ms < 0 ? 20 : std::min(wait_ms, 20)));
#else
    // Always look at the pipe once, even with a zero timeout: a signal may be waiting.
    pollfd fd{m_pipe_read.get(), POLLIN, 0};
    if (::poll(&fd, 1, wait_ms) > 0) consume_signal_bytes();
#endif
    if (stop_requested()) return true;
    if (timeout && std::chrono::steady_clock::now() >= deadline) return false;
  }
}

void Lifecycle::add_hook(std::string name, std::function<Result<void>()> hook) {
  std::lock_guard lock(m_mutex);
  m_hooks.emplace_back(std::move(name), std::move(hook));
}

ShutdownReport Lifecycle::shutdown(std::chrono::milliseconds timeout) {
  consume_signal_bytes();
  m_stop.store(true, std::memory_order_release);
  std::vector<std::pair<std::string, std::function<Result<void>()>>> hooks;
  ShutdownReport report;
  {
    std::lock_guard lock(m_mutex);
    hooks = m_hooks;
    report.reason = m_reason.empty() ? "requested" : m_reason;
  }
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + timeout;
  for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) {
    report.ran.push_back(it->first);
    auto result = it->second();
    if (!result) {
      report.failures.push_back(
          std::move(result).error().prefixed(fmt::format("shutdown hook '{}'", it->first)));
    } else if (std::chrono::steady_clock::now() > deadline) {
      report.failures.push_back(
          Error(ErrorCategory::timeout,
                fmt::format("shutdown hook '{}' finished after the {} ms deadline", it->first,
                            timeout.count()))
              .with_suggestion("raise the shutdown timeout or make the hook faster"));
    }
  }
  report.clean = report.failures.empty();
  report.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  std::lock_guard lock(m_mutex);
  m_clean = report.clean;
  return report;
}

int Lifecycle::exit_code() const {
  std::lock_guard lock(m_mutex);
  return m_clean.value_or(false) ? 0 : 1;
}

}  // namespace forge::support
