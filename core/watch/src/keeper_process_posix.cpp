// The POSIX half of keeper_process.h.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>

#include "forge/core/support/unique_fd.h"
#include "forge/core/watch/index_sync.h"
#include "keeper_process.h"

namespace forge::watch {

pid_t this_process_id() {
  return ::getpid();
}

namespace detail {

bool process_alive(long pid) {
  // EPERM: it exists but is not ours to signal.
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH;
}

bool create_new_file(const std::filesystem::path& path) {
  const UniqueFd fd(::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
  return static_cast<bool>(fd);
}

}  // namespace detail
}  // namespace forge::watch
