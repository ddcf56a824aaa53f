#pragma once
// What every C API function shares: the mapping from forge::Error to forge_status, the
// thread-local last error, a handle's error slot, and the guard that keeps exceptions
// from crossing the C boundary. Internal to libforge.

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

#include "forge/core/hash/digest.h"
#include "forge/core/support/error.h"
#include "forge/forge.h"

namespace forge::capi {

// The message of the last failed call on one handle. Thread-safe to set; message() is
// valid until the next set() (the header tells callers to prefer forge_last_error() when
// they share a handle between threads).
class ErrorSlot {
 public:
  const char* message() const { return m_message.c_str(); }
  void set(const std::string& message) {
    std::lock_guard lock(m_mutex);
    m_message = message;
  }

 private:
  std::mutex m_mutex;
  std::string m_message;
};

inline constexpr const char* k_null_handle_message = "NULL handle (closed or never opened)";

// validation -> INVALID_ARGUMENT, file_system ENOENT -> NOT_FOUND, other file_system -> IO,
// configuration, dependency; the rest -> INTERNAL.
forge_status status_of(const Error& error);

// Records `message` as the calling thread's last error and, when `slot` is given, as the
// handle's; returns `status`. Never throws.
forge_status fail_with(forge_status status, std::string_view message, ErrorSlot* slot = nullptr);
forge_status fail_with(const Error& error, ErrorSlot* slot = nullptr);
// The common precondition failures.
forge_status null_handle();
forge_status null_argument(std::string_view function, std::string_view argument,
                           ErrorSlot* slot = nullptr);

// Runs `body` (returning forge_status); an escaping exception becomes FORGE_E_NO_MEMORY or
// FORGE_E_INTERNAL with its what() as the message.
forge_status exception_status(ErrorSlot* slot) noexcept;  // call inside a catch block
template <typename Body>
forge_status guarded(ErrorSlot* slot, Body&& body) noexcept {
  try {
    return body();
  } catch (...) {
    return exception_status(slot);
  }
}

// Writes the lower-case hex of `digest` into out[0..capacity) with a NUL; "" when the hex
// does not fit (never the case for the struct fields sized for it).
void copy_hex(const hash::Digest& digest, char* out, std::size_t capacity);

}  // namespace forge::capi
