// install_crash_handler() on Windows (log.h): a terminate handler and an unhandled-exception
// filter that name the failure on stderr (and in the log) before the process dies. Windows
// has no backtrace_symbols_fd; the exception code and address are what can be written
// safely from a crashing process. crash_handler_posix.cpp is the POSIX one.
#include <windows.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>

#include <spdlog/spdlog.h>

#include "forge/core/support/log.h"
#include "terminate_reason.h"

namespace forge::support {
namespace {

void write_stderr(const char* text, DWORD length) {
  DWORD written = 0;
  (void)WriteFile(GetStdHandle(STD_ERROR_HANDLE), text, length, &written, nullptr);
}

LONG WINAPI unhandled_exception_filter(EXCEPTION_POINTERS* info) {
  // No allocation: the heap may be what failed. snprintf into a stack buffer only.
  char message[128];
  const int length =
      std::snprintf(message, sizeof message, "forge: fatal exception 0x%08lx at %p\n",
                    static_cast<unsigned long>(info->ExceptionRecord->ExceptionCode),
                    info->ExceptionRecord->ExceptionAddress);
  if (length > 0) write_stderr(message, static_cast<DWORD>(length));
  return EXCEPTION_CONTINUE_SEARCH;  // Windows error reporting ends the process as usual
}

void terminate_handler() {
  const std::string what = log_terminate_reason();
  const std::string line = "forge: fatal: std::terminate called: " + what + "\n";
  write_stderr(line.data(), static_cast<DWORD>(line.size()));
  std::abort();
}

}  // namespace

void install_crash_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::set_terminate(terminate_handler);
    SetUnhandledExceptionFilter(unhandled_exception_filter);
  });
}

}  // namespace forge::support
