#include "forge/agent/socket_server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

namespace forge::agent {
namespace {

// A client that sends nothing for this long is closed: it would hold a connection slot.
constexpr int k_idle_timeout_ms = 60'000;

Result<void> prepare_directory(const std::filesystem::path& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return fail(Error::from_errno(errno, "mkdir", dir.string()));
  }
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return fail(Error::from_errno(errno, "stat", dir.string()));
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 077) != 0) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("socket directory {} must be a directory of uid {} with mode "
                                  "0700 (it is uid {} mode {:o})",
                                  dir.string(), ::getuid(), st.st_uid, st.st_mode & 07777))
                    .with_file(dir.string())
                    .with_suggestion(
                        fmt::format("chmod 700 {} (or choose another \"socket\")", dir.string())));
  }
  return ok();
}

sockaddr_un address_of(const std::filesystem::path& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.native().size());
  return address;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

Result<void> SocketServer::bind(const std::filesystem::path& socket_path,
                                std::size_t max_connections) {
  if (socket_path.native().size() >= sizeof(sockaddr_un{}.sun_path)) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("socket path {} is longer than {} bytes", socket_path.string(),
                                  sizeof(sockaddr_un{}.sun_path) - 1))
                    .with_suggestion("choose a shorter \"socket\" path"));
  }
  FORGE_TRY_VOID(prepare_directory(socket_path.parent_path()));
  const sockaddr_un address = address_of(socket_path);
  {
    // A socket file someone answers on belongs to a running agent; one nobody answers on is
    // stale (a crash) and is replaced.
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe &&
        ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0) {
      return fail(Error(ErrorCategory::configuration,
                        fmt::format("an agent already answers on {}", socket_path.string()))
                      .with_suggestion("stop it first, or give this one another \"socket\""));
    }
    ::unlink(socket_path.c_str());
  }
  m_listen.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!m_listen) return fail(Error::from_errno(errno, "socket", socket_path.string()));
  const mode_t old_umask = ::umask(077);
  const int bound =
      ::bind(m_listen.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int bind_errno = errno;
  ::umask(old_umask);
  if (bound != 0) return fail(Error::from_errno(bind_errno, "bind", socket_path.string()));
  if (::listen(m_listen.get(), 128) != 0) {
    return fail(Error::from_errno(errno, "listen", socket_path.string()));
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) return fail(Error::from_errno(errno, "pipe"));
  m_wake_read.reset(pipe_fds[0]);
  m_wake_write.reset(pipe_fds[1]);
  m_path = socket_path;
  m_max_connections = max_connections;
  return ok();
}

Result<void> SocketServer::serve(Handler handler) {
  m_handler = std::move(handler);
  m_accept = std::thread([this] { accept_loop(); });
  return ok();
}

void SocketServer::accept_loop() {
  while (!m_stopping.load(std::memory_order_acquire)) {
    pollfd fds[2] = {{m_listen.get(), POLLIN, 0}, {m_wake_read.get(), POLLIN, 0}};
    if (::poll(fds, 2, 1000) < 0 && errno != EINTR) break;
    reap(false);
    if ((fds[1].revents & POLLIN) != 0 || m_stopping.load()) break;
    if ((fds[0].revents & POLLIN) == 0) continue;
    UniqueFd client(::accept4(m_listen.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client) continue;  // EMFILE, ECONNABORTED...: the next poll retries
    if (m_active.load() >= m_max_connections) {
      write_all(client.get(),
                error_response(nullptr, Error(ErrorCategory::network,
                                              fmt::format("the agent serves at most {} "
                                                          "connections at once",
                                                          m_max_connections))
                                            .with_suggestion("retry later, or raise "
                                                             "\"max_connections\"")));
      continue;
    }
    auto connection = std::make_unique<Connection>();
    connection->fd = std::move(client);
    Connection& raw = *connection;
    ++m_active;
    std::lock_guard lock(m_mutex);
    m_connections.push_back(std::move(connection));
    raw.thread = std::thread([this, &raw] { serve_connection(raw); });
  }
}

void SocketServer::serve_connection(Connection& connection) {
  const int fd = connection.fd.get();
  const auto finish = [&] {
    ::shutdown(fd, SHUT_RDWR);
    --m_active;
    connection.done.store(true, std::memory_order_release);
  };
  ucred peer{};
  socklen_t length = sizeof(peer);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 || peer.uid != ::getuid()) {
    write_all(fd, error_response(nullptr, Error(ErrorCategory::configuration,
                                                fmt::format("uid {} may not use the agent of "
                                                            "uid {}",
                                                            peer.uid, ::getuid()))
                                              .with_suggestion("run your own `forge agent`")));
    finish();
    return;
  }
  std::string buffer;
  char chunk[64 * 1024];
  for (;;) {
    const auto newline = buffer.find('\n');
    if (newline == std::string::npos) {
      if (buffer.size() > k_max_request_line || m_stopping.load(std::memory_order_acquire)) {
        if (buffer.size() > k_max_request_line) {
          auto refused = parse_request(buffer);  // the size check answers
          write_all(fd, error_response(nullptr, refused.error()));
        }
        break;
      }
      pollfd pfd{fd, POLLIN, 0};
      const int ready = ::poll(&pfd, 1, k_idle_timeout_ms);
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) break;
      const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      buffer.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    const std::string line = buffer.substr(0, newline);
    buffer.erase(0, newline + 1);
    nlohmann::json id;
    auto request = parse_request(line, &id);
    if (!request) {
      write_all(fd, error_response(id, request.error()));
      break;
    }
    auto result = m_handler(*request);
    const std::string response = result ? ok_response(request->id, std::move(*result))
                                        : error_response(request->id, result.error());
    if (!write_all(fd, response)) break;
  }
  finish();
}

void SocketServer::reap(bool all) {
  std::list<std::unique_ptr<Connection>> finished;
  {
    std::lock_guard lock(m_mutex);
    for (auto it = m_connections.begin(); it != m_connections.end();) {
      if (all || (*it)->done.load(std::memory_order_acquire)) {
        finished.push_back(std::move(*it));
        it = m_connections.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& connection : finished) {
    if (connection->thread.joinable()) connection->thread.join();
  }
}

void SocketServer::stop() {
  if (!m_listen) return;
  m_stopping.store(true, std::memory_order_release);
  if (m_wake_write) {
    const char byte = 1;
    [[maybe_unused]] const ssize_t ignored = ::write(m_wake_write.get(), &byte, 1);
  }
  if (m_accept.joinable()) m_accept.join();
  {
    // Wake readers blocked in poll; a connection serving a request finishes it first and
    // writes its response (SHUT_RD leaves the write side open).
    std::lock_guard lock(m_mutex);
    for (auto& connection : m_connections) {
      if (!connection->done.load()) ::shutdown(connection->fd.get(), SHUT_RD);
    }
  }
  reap(true);
  m_listen.reset();
  ::unlink(m_path.c_str());
}

SocketServer::~SocketServer() {
  stop();
}

}  // namespace forge::agent
