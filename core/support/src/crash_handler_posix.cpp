// install_crash_handler() on POSIX (log.h): a terminate handler and fatal-signal handlers that
// write a backtrace to stderr. crash_handler_win32.cpp is the Windows one.
#include <execinfo.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>

#include <spdlog/spdlog.h>

#include "forge/core/support/log.h"
#include "terminate_reason.h"

namespace forge::support {
namespace {

void write_all(int fd, const char* text) {
  std::size_t length = std::strlen(text);
  while (length > 0) {
    const ssize_t n = ::write(fd, text, length);
    if (n <= 0) return;
    text += n;
    length -= static_cast<std::size_t>(n);
  }
}

extern "C" void fatal_signal_handler(int signal_number) {
  // Only async-signal-safe calls here: write(2), backtrace_symbols_fd, signal, raise.
  char message[64] = "forge: fatal signal ";
  std::size_t at = std::strlen(message);
  if (signal_number >= 10) message[at++] = static_cast<char>('0' + signal_number / 10);
  message[at++] = static_cast<char>('0' + signal_number % 10);
  message[at++] = '\n';
  message[at] = '\0';
  write_all(STDERR_FILENO, message);
  void* frames[64];
  const int depth = backtrace(frames, 64);
  backtrace_symbols_fd(frames, depth, STDERR_FILENO);
  ::signal(signal_number, SIG_DFL);
  ::raise(signal_number);
}

void terminate_handler() {
  log_terminate_reason();
  write_all(STDERR_FILENO, "forge: fatal: std::terminate called\n");
  void* frames[64];
  backtrace_symbols_fd(frames, backtrace(frames, 64), STDERR_FILENO);
  std::abort();
}

}  // namespace

void install_crash_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    // backtrace() loads libgcc on its first call, which is not async-signal-safe: do it now.
    void* frames[2];
    (void)backtrace(frames, 2);
    std::set_terminate(terminate_handler);
    struct sigaction action {};
    action.sa_handler = fatal_signal_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESETHAND;
    for (int signal_number : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) {
      sigaction(signal_number, &action, nullptr);
    }
  });
}

}  // namespace forge::support
