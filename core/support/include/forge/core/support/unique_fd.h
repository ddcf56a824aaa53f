#pragma once
// UniqueFd: sole owner of one POSIX file descriptor; closes it when destroyed.
//
// Ownership: move-only. `release()` hands the descriptor back to the caller, who then owns
// it. `reset(fd)` closes the current descriptor (if any) and adopts `fd`.
// Errors: close() failures in the destructor are ignored (nothing useful can be done with
// them there); call `close()` where a failed close must be reported (after a write, for
// example, on NFS).
// Threading: not thread-safe; one owner at a time, like the descriptor itself.

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace forge {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~UniqueFd() { reset(); }

  int get() const { return m_fd; }
  bool valid() const { return m_fd >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership without closing; returns the descriptor (-1 when empty).
  [[nodiscard]] int release() { return std::exchange(m_fd, -1); }

  // Closes the owned descriptor (if any), then owns `fd`.
  void reset(int fd = -1) {
    const int old = std::exchange(m_fd, fd);
    if (old >= 0) ::close(old);
  }

  // Closes now and reports the result: 0, or the errno of a failed close (EINTR is not
  // retried: on Linux the descriptor is released either way).
  int close() {
    const int old = std::exchange(m_fd, -1);
    if (old < 0) return 0;
    return ::close(old) == 0 ? 0 : errno;
  }

 private:
  int m_fd = -1;
};

}  // namespace forge
