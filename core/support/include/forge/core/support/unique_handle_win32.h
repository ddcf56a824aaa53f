#pragma once
// UniqueHandle: sole owner of one Win32 kernel HANDLE (file, event, completion port...);
// CloseHandle()s it when destroyed. The Windows counterpart of forge::UniqueFd.
//
// Ownership: move-only. `release()` hands the handle back to the caller, who then owns it.
// `reset(h)` closes the current handle (if any) and adopts `h`. Both null and
// INVALID_HANDLE_VALUE mean "no handle" (CreateFileW fails with the one, most others with the
// other), so a failed Create* call can be adopted and tested with valid().
// Errors: a failed CloseHandle in the destructor is ignored; close() reports it as a
// GetLastError() value.
// Threading: not thread-safe; one owner at a time, like the handle itself.

#ifndef _WIN32
#error "unique_handle_win32.h is for the Windows build only"
#endif

#include <windows.h>

#include <utility>

namespace forge {

class UniqueHandle {
 public:
  UniqueHandle() = default;
  explicit UniqueHandle(HANDLE handle) : m_handle(handle) {}
  UniqueHandle(const UniqueHandle&) = delete;
  UniqueHandle& operator=(const UniqueHandle&) = delete;
  UniqueHandle(UniqueHandle&& other) noexcept : m_handle(other.release()) {}
  UniqueHandle& operator=(UniqueHandle&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~UniqueHandle() { reset(); }

  HANDLE get() const { return m_handle; }
  bool valid() const { return m_handle != nullptr && m_handle != INVALID_HANDLE_VALUE; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing; returns the handle (null when empty).
  [[nodiscard]] HANDLE release() { return std::exchange(m_handle, nullptr); }

  // Closes the owned handle (if any), then owns `handle`.
  void reset(HANDLE handle = nullptr) {
    const HANDLE old = std::exchange(m_handle, handle);
    if (old != nullptr && old != INVALID_HANDLE_VALUE) ::CloseHandle(old);
  }

  // Closes now and reports the result: 0, or GetLastError() of a failed CloseHandle.
  DWORD close() {
    const HANDLE old = std::exchange(m_handle, nullptr);
    if (old == nullptr || old == INVALID_HANDLE_VALUE) return 0;
    return ::CloseHandle(old) ? 0 : ::GetLastError();
  }

 private:
  HANDLE m_handle = nullptr;
};

}  // namespace forge
