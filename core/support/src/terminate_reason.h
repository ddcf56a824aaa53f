#pragma once
// The part of the terminate handler both platforms share (crash_handler_posix.cpp,
// crash_handler_win32.cpp): what the exception in flight says, if there is one, logged as
// critical and flushed so the log names the failure before the process dies. Called only
// from the terminate handler; allocates (std::terminate runs with a working heap).

#include <exception>
#include <string>

#include <spdlog/spdlog.h>

namespace forge::support {

inline std::string log_terminate_reason() {
  std::string what = "unknown exception";
  if (auto current = std::current_exception()) {
    try {
      std::rethrow_exception(current);
    } catch (const std::exception& error) {
      what = error.what();
    } catch (...) {
    }
  }
  if (auto logger = spdlog::default_logger()) {
    logger->critical("fatal: std::terminate called: {}", what);
    logger->flush();
  }
  return what;
}

}  // namespace forge::support
