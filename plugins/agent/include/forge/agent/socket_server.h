#pragma once
// SocketServer: the agent's Unix-socket listener.
//
// - bind(): creates the socket's directory with mode 0700 (an existing one must be owned by
//   this user and not group/other accessible — else a Configuration error naming it),
//   removes a stale socket file (one nobody answers on; a live one is an error: another
//   agent runs), binds and listens (socket mode 0600).
// - Each connection gets a thread; at most `max_connections` at once. One over the limit
//   receives an error response and is closed at once (never queued without bound).
// - The peer's uid (SO_PEERCRED) must be this process's uid, else an error response and close.
// - Lines are read up to k_max_request_line; the handler turns each request into one
//   response line. A protocol error (see protocol.h) is answered, then the connection closed.
// - stop(): stops accepting, lets every connection finish the request it is serving (a
//   `put` in flight completes), closes them, joins every thread, removes the socket file.
// Threading: bind/serve/stop from one controlling thread; the handler is called from
// connection threads concurrently and must be thread-safe.

#include <atomic>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

#include "forge/agent/protocol.h"
#include "forge/core/support/unique_fd.h"

namespace forge::agent {

// Serves one well-formed request: the result object, or an Error for an error response.
using Handler = std::function<Result<nlohmann::json>(const Request&)>;

class SocketServer {
 public:
  SocketServer() = default;
  ~SocketServer();
  SocketServer(const SocketServer&) = delete;
  SocketServer& operator=(const SocketServer&) = delete;

  Result<void> bind(const std::filesystem::path& socket_path, std::size_t max_connections);
  // Starts the accept thread. REQUIRES: bind() succeeded.
  Result<void> serve(Handler handler);
  void stop();
  std::size_t active_connections() const { return m_active.load(); }

 private:
  struct Connection {
    UniqueFd fd;
    std::thread thread;
    std::atomic<bool> done{false};
  };
  void accept_loop();
  void serve_connection(Connection& connection);
  void reap(bool all);

  std::filesystem::path m_path;
  std::size_t m_max_connections = 64;
  UniqueFd m_listen;
  UniqueFd m_wake_read, m_wake_write;
  Handler m_handler;
  std::thread m_accept;
  std::atomic<bool> m_stopping{false};
  std::atomic<std::size_t> m_active{0};
  std::mutex m_mutex;
  std::list<std::unique_ptr<Connection>> m_connections;  // guarded by m_mutex
};

}  // namespace forge::agent
