#pragma once
// forge::Error — the one error type of the project, returned as Result<T> on every path
// that can fail. Exceptions are used only for a top-level fatal.
//
// Contract:
// - Every Error has exactly one ErrorCategory (Property 9), a non-empty message, a context
//   (file, operation, UTC timestamp, retry count, platform, backend) and at least one
//   specific suggestion for the user (Property 11).
// - `code()` is an errno value (0 when the failure did not come from the OS). Tests check
//   category() and code(), never message text.
// - is_retryable(): Network and Timeout errors, and temporary OS failures
//   (EAGAIN/EWOULDBLOCK, EINTR, EBUSY). Nothing else is ever retried.
// - Error is a value type: cheap to move, safe to copy, no shared state. Thread-compatible.

#include <chrono>
#include <cstdint>
#include <expected>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace forge {

enum class ErrorCategory : std::uint8_t {
  network,
  file_system,
  configuration,
  validation,
  dependency,
  timeout,
  unknown,
};

// Every category, in declaration order; used by tests and exporters.
inline constexpr ErrorCategory k_all_error_categories[] = {
    ErrorCategory::network,    ErrorCategory::file_system, ErrorCategory::configuration,
    ErrorCategory::validation, ErrorCategory::dependency,  ErrorCategory::timeout,
    ErrorCategory::unknown,
};

// "Network", "FileSystem", ... as in the design document.
std::string_view to_string(ErrorCategory category);

// The one mapping from an OS error number to a category. Unknown numbers -> unknown.
ErrorCategory category_for_errno(int error_number);

// The one mapping from a std::error_code (generic/system category errno values; anything
// else maps through its default_error_condition) to a category.
ErrorCategory category_for_error_code(const std::error_code& code);

struct ErrorContext {
  std::string file;       // the path the operation was about; empty if none
  std::string operation;  // e.g. "open", "lmdb.put", "config.load"
  std::chrono::system_clock::time_point timestamp;  // when the Error was created (UTC)
  std::uint32_t retry_count = 0;                    // attempts already retried
  std::string platform;  // "Linux", "MacOS", ... filled in by Error's constructor
  std::string backend;   // I/O backend involved ("io_uring", "fallback"), if any
};

class [[nodiscard]] Error {
 public:
  Error(ErrorCategory category, std::string message, int code = 0);

  // From an errno value: category from category_for_errno, message from strerror plus the
  // operation and path, errno-specific suggestions (EMFILE, ENOSPC, EACCES, ...).
  static Error from_errno(int error_number, std::string_view operation, std::string_view path = {});
  static Error from_error_code(const std::error_code& code, std::string_view operation,
                               std::string_view path = {});

  ErrorCategory category() const { return m_category; }
  int code() const { return m_code; }
  const std::string& message() const { return m_message; }
  const ErrorContext& context() const { return m_context; }
  bool is_retryable() const;

  // Suggestions added with with_suggestion() come first, then the ones derived from the
  // code and category. Never empty.
  std::vector<std::string> suggestions() const;

  // Builders: return *this so they chain on a temporary.
  Error& with_file(std::string_view file) &;
  Error&& with_file(std::string_view file) &&;
  Error& with_operation(std::string_view operation) &;
  Error&& with_operation(std::string_view operation) &&;
  Error& with_backend(std::string_view backend) &;
  Error&& with_backend(std::string_view backend) &&;
  Error& with_retry_count(std::uint32_t retry_count) &;
  Error&& with_retry_count(std::uint32_t retry_count) &&;
  Error& with_suggestion(std::string suggestion) &;
  Error&& with_suggestion(std::string suggestion) &&;
  // Prefixes the message ("while loading config: ...") keeping category and code.
  Error& prefixed(std::string_view what) &;
  Error&& prefixed(std::string_view what) &&;

  // "FileSystem error: open failed for 'x': Too many open files (EMFILE)" plus context and
  // suggestions, one per line, for terminals.
  std::string to_string() const;
  // One line, no suggestions: for log messages.
  std::string summary() const;

 private:
  ErrorCategory m_category;
  int m_code;
  std::string m_message;
  ErrorContext m_context;
  std::vector<std::string> m_extra_suggestions;
};

template <typename T>
using Result = std::expected<T, Error>;

// Result<void> success value: `return ok();`
inline Result<void> ok() {
  return {};
}

// Wraps an Error for return from a function returning Result<T>.
inline std::unexpected<Error> fail(Error error) {
  return std::unexpected<Error>(std::move(error));
}

}  // namespace forge

// Evaluates a Result-returning expression; on error returns it from the enclosing function.
#define FORGE_TRY_VOID(expr)                                                            \
  do {                                                                                  \
    auto forge_try_result_ = (expr);                                                    \
    if (!forge_try_result_) return ::forge::fail(std::move(forge_try_result_).error()); \
  } while (0)

#define FORGE_CONCAT_INNER_(a, b) a##b
#define FORGE_CONCAT_(a, b) FORGE_CONCAT_INNER_(a, b)
// `FORGE_TRY(auto value, expr);` declares `value` from a Result or returns its error.
#define FORGE_TRY(decl, expr) FORGE_TRY_IMPL_(decl, expr, FORGE_CONCAT_(forge_try_, __LINE__))
#define FORGE_TRY_IMPL_(decl, expr, tmp)                  \
  auto tmp = (expr);                                      \
  if (!tmp) return ::forge::fail(std::move(tmp).error()); \
  decl = std::move(tmp).value()
