#include "forge/agent/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "forge/core/support/unique_fd.h"

namespace forge::agent {

Result<void> sd_notify(std::string_view state) {
  const char* target = std::getenv("NOTIFY_SOCKET");
  if (target == nullptr || target[0] == '\0') return ok();
  const std::string path = target;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if ((path[0] != '/' && path[0] != '@') || path.size() >= sizeof(address.sun_path)) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("NOTIFY_SOCKET '{}' is not a socket path", path))
                    .with_suggestion("systemd sets it to an absolute path or an @abstract name"));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  if (path[0] == '@') address.sun_path[0] = '\0';
  const socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail(Error::from_errno(errno, "socket", path));
  const ssize_t sent = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL | MSG_DONTWAIT,
                                reinterpret_cast<const sockaddr*>(&address), length);
  if (sent < 0) return fail(Error::from_errno(errno, "sendto", path));
  return ok();
}

}  // namespace forge::agent
