#include "forge/core/support/error.h"

#include <fmt/format.h>
#include <cerrno>
#include <cstring>

namespace forge {
namespace {

std::string_view compiled_platform_name() {
#if defined(__linux__)
  return "Linux";
#elif defined(__APPLE__)
  return "MacOS";
#elif defined(_WIN32)
  return "Windows";
#else
  return "Unknown";
#endif
}

std::string errno_name(int error_number) {
  // strerrorname_np is glibc >= 2.32; fall back to the number.
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* name = strerrorname_np(error_number)) return name;
#endif
  return fmt::format("errno {}", error_number);
}

std::string errno_text(int error_number) {
  char buf[256];
  // GNU strerror_r returns a pointer that may or may not be buf.
  const char* text = strerror_r(error_number, buf, sizeof buf);
  return text;
}

void add_errno_suggestions(int code, std::vector<std::string>& out) {
  switch (code) {
    case EMFILE:
    case ENFILE:
      out.emplace_back(
          "Too many open files: raise the limit with `ulimit -n 65536` (or LimitNOFILE= in the "
          "systemd unit), or lower io.max_file_handles in the Forge config");
      break;
    case ENOSPC:
      out.emplace_back(
          "The device is full: free space (e.g. `forge cache gc`) or lower cache.max_size; "
          "for inotify watches raise fs.inotify.max_user_watches with sysctl");
      break;
    case EDQUOT:
      out.emplace_back("Disk quota exceeded: free space or ask for a larger quota");
      break;
    case EACCES:
    case EPERM:
      out.emplace_back(
          "Permission denied: check the owner and mode of the path (`ls -ld`), or run Forge "
          "as a user that may access it");
      break;
    case ENOENT:
      out.emplace_back("The path does not exist: check its spelling, or create it first");
      break;
    case ENOTDIR:
      out.emplace_back("A component of the path is not a directory: check the path");
      break;
    case EISDIR: out.emplace_back("The path is a directory where a file was expected"); break;
    case EROFS:
      out.emplace_back("The file system is read-only: choose a writable directory");
      break;
    case ENAMETOOLONG:
      out.emplace_back("The path is too long: shorten it or use a shorter root");
      break;
    case ELOOP:
      out.emplace_back("Too many levels of symbolic links: check for a symlink loop");
      break;
    case EAGAIN:
    case EINTR:
    case EBUSY:
      out.emplace_back("A temporary failure: try again; if it persists, check system load");
      break;
    case ENOMEM:
      out.emplace_back("Out of memory: lower io.io_uring_queue_depth in the Forge config");
      break;
    case ENOSYS:
    case EOPNOTSUPP:
      out.emplace_back(
          "The kernel does not support this operation: Forge falls back where it can; set "
          "FORGE_IO_BACKEND=fallback to force the portable backend");
      break;
    case ECONNREFUSED:
      out.emplace_back(
          "Connection refused: check that the server is running and the address "
          "and port are right");
      break;
    case ETIMEDOUT:
      out.emplace_back("Timed out: check the network and the load of the machine");
      break;
    case EADDRINUSE:
      out.emplace_back("The address is in use: stop the other process or choose another port");
      break;
    case EIO:
      out.emplace_back(
          "An I/O error from the device: check the disk (dmesg) and run "
          "`forge cache verify`");
      break;
    case EXDEV:
      out.emplace_back(
          "Cross-device rename: keep the store's temp directory on the same "
          "file system as the store");
      break;
    default: break;
  }
}

std::string_view category_suggestion(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::network:
      return "Check that the remote address is reachable and the server is running";
    case ErrorCategory::file_system:
      return "Check that the path exists and is accessible, and that the disk is healthy";
    case ErrorCategory::configuration:
      return "Run `forge config check FILE` to see every invalid setting with its valid range";
    case ErrorCategory::validation:
      return "The input was rejected as malformed: check it against the documented format";
    case ErrorCategory::dependency:
      return "A required library or kernel feature is missing: run `forge doctor`";
    case ErrorCategory::timeout:
      return "The operation timed out: check system load, the disk and the network";
    case ErrorCategory::unknown:
    default: return "Re-run with FORGE_LOG=debug and report the log if the problem persists";
  }
}

}  // namespace

std::string_view to_string(ErrorCategory category) {
  switch (category) {
    case ErrorCategory::network: return "Network";
    case ErrorCategory::file_system: return "FileSystem";
    case ErrorCategory::configuration: return "Configuration";
    case ErrorCategory::validation: return "Validation";
    case ErrorCategory::dependency: return "Dependency";
    case ErrorCategory::timeout: return "Timeout";
    case ErrorCategory::unknown:
    default: return "Unknown";
  }
}

ErrorCategory category_for_errno(int error_number) {
  switch (error_number) {
    case ENOENT:
    case EACCES:
    case EPERM:
    case EEXIST:
    case ENOTDIR:
    case EISDIR:
    case ENOSPC:
    case EDQUOT:
    case EROFS:
    case EMFILE:
    case ENFILE:
    case ENAMETOOLONG:
    case ELOOP:
    case EIO:
    case EXDEV:
    case ENOTEMPTY:
    case EBADF:
    case EFBIG:
    case ESTALE:
    case EAGAIN:
    case EINTR:
    case EBUSY:
    case ETXTBSY:
    case EMLINK:
    case ESPIPE: return ErrorCategory::file_system;
    case ECONNREFUSED:
    case ECONNRESET:
    case ECONNABORTED:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EPIPE:
    case ENOTCONN:
    case EADDRINUSE:
    case EADDRNOTAVAIL:
    case EPROTO:
    case EHOSTDOWN:
    case ENETRESET: return ErrorCategory::network;
    case ETIMEDOUT:
    case ETIME: return ErrorCategory::timeout;
    case EINVAL:
    case ERANGE:
    case EBADMSG:
    case EILSEQ:
    case EOVERFLOW:
    case E2BIG: return ErrorCategory::validation;
    case ENOSYS:
    case EOPNOTSUPP:
    case ENOPROTOOPT:
    case EPROTONOSUPPORT:
    case ENOEXEC:
    case ELIBBAD:
    case ENOPKG: return ErrorCategory::dependency;
    case ENOMEM:
    default: return ErrorCategory::unknown;
  }
}

ErrorCategory category_for_error_code(const std::error_code& code) {
  if (!code) return ErrorCategory::unknown;
  const auto condition = code.default_error_condition();
  if (condition.category() == std::generic_category()) {
    return category_for_errno(condition.value());
  }
  return ErrorCategory::unknown;
}

Error::Error(ErrorCategory category, std::string message, int code)
    : m_category(category), m_code(code), m_message(std::move(message)) {
  if (m_message.empty()) m_message = fmt::format("{} error", forge::to_string(category));
  m_context.timestamp = std::chrono::system_clock::now();
  m_context.platform = std::string(compiled_platform_name());
}

Error Error::from_errno(int error_number, std::string_view operation, std::string_view path) {
  std::string message = path.empty()
                            ? fmt::format("{} failed: {} ({})", operation, errno_text(error_number),
                                          errno_name(error_number))
                            : fmt::format("{} failed for '{}': {} ({})", operation, path,
                                          errno_text(error_number), errno_name(error_number));
  Error error(category_for_errno(error_number), std::move(message), error_number);
  error.m_context.operation = std::string(operation);
  error.m_context.file = std::string(path);
  return error;
}

Error Error::from_error_code(const std::error_code& code, std::string_view operation,
                             std::string_view path) {
  const auto condition = code.default_error_condition();
  if (condition.category() == std::generic_category()) {
    return from_errno(condition.value(), operation, path);
  }
  Error error(category_for_error_code(code),
              path.empty()
                  ? fmt::format("{} failed: {}", operation, code.message())
                  : fmt::format("{} failed for '{}': {}", operation, path, code.message()));
  error.m_context.operation = std::string(operation);
  error.m_context.file = std::string(path);
  return error;
}

bool Error::is_retryable() const {
  if (m_category == ErrorCategory::network || m_category == ErrorCategory::timeout) return true;
  return m_code == EAGAIN || m_code == EWOULDBLOCK || m_code == EINTR || m_code == EBUSY;
}

std::vector<std::string> Error::suggestions() const {
  std::vector<std::string> out = m_extra_suggestions;
  add_errno_suggestions(m_code, out);
  if (out.empty()) out.emplace_back(category_suggestion(m_category));
  return out;
}

#define FORGE_ERROR_BUILDER(name, param_type, body) \
  Error& Error::name(param_type value)& {           \
    body;                                           \
    return *this;                                   \
  }                                                 \
  Error&& Error::name(param_type value)&& {         \
    body;                                           \
    return std::move(*this);                        \
  }

FORGE_ERROR_BUILDER(with_file, std::string_view, m_context.file = std::string(value))
FORGE_ERROR_BUILDER(with_operation, std::string_view, m_context.operation = std::string(value))
FORGE_ERROR_BUILDER(with_backend, std::string_view, m_context.backend = std::string(value))
FORGE_ERROR_BUILDER(with_retry_count, std::uint32_t, m_context.retry_count = value)
FORGE_ERROR_BUILDER(with_suggestion, std::string, m_extra_suggestions.push_back(std::move(value)))
FORGE_ERROR_BUILDER(prefixed, std::string_view, m_message = fmt::format("{}: {}", value, m_message))
#undef FORGE_ERROR_BUILDER

std::string Error::summary() const {
  return fmt::format("{} error: {}", forge::to_string(m_category), m_message);
}

std::string Error::to_string() const {
  std::string out = summary();
  if (!m_context.operation.empty()) out += fmt::format("\n  operation: {}", m_context.operation);
  if (!m_context.file.empty()) out += fmt::format("\n  file: {}", m_context.file);
  if (!m_context.backend.empty()) out += fmt::format("\n  backend: {}", m_context.backend);
  if (m_context.retry_count > 0) out += fmt::format("\n  retries: {}", m_context.retry_count);
  for (const auto& suggestion : suggestions()) out += fmt::format("\n  hint: {}", suggestion);
  return out;
}

}  // namespace forge
