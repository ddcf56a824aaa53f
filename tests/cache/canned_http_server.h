#pragma once
// CannedHttpServer: a real TCP server on 127.0.0.1 that answers every request with bytes a
// test chooses — for upstream faults a real cache server cannot be made to produce on
// demand (corrupt bodies, 500s, answers that never come). One connection per request
// ("Connection: close"). Header-only; for tests.
//
// The handler gets the request line and headers ("GET /cas/... HTTP/1.1\r\n...") and
// returns the whole raw response, or std::nullopt to hang until the server stops.

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "forge/core/support/unique_fd.h"

namespace forge::test {

class CannedHttpServer {
 public:
  using Handler = std::function<std::optional<std::string>(const std::string& head)>;

  explicit CannedHttpServer(Handler handler) : m_handler(std::move(handler)) {
    m_listen = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    ::bind(m_listen.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(m_listen.get(), 64);
    ::getsockname(m_listen.get(), reinterpret_cast<sockaddr*>(&address), &length);
    m_port = ntohs(address.sin_port);
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) == 0) {
      m_stop_read = UniqueFd(pipe_fds[0]);
      m_stop_write = UniqueFd(pipe_fds[1]);
    }
    m_acceptor = std::thread([this] { accept_loop(); });
  }
  ~CannedHttpServer() { stop(); }
  CannedHttpServer(const CannedHttpServer&) = delete;
  CannedHttpServer& operator=(const CannedHttpServer&) = delete;

  int port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  int requests() const { return m_requests.load(); }

  void stop() {
    if (!m_acceptor.joinable()) return;
    [[maybe_unused]] auto written = ::write(m_stop_write.get(), "x", 1);
    m_acceptor.join();
    std::lock_guard lock(m_mutex);
    for (auto& connection : m_connections) connection.join();
    m_connections.clear();
  }

 private:
  bool stopping(int fd, short events, int timeout_ms) const {
    pollfd fds[2] = {{fd, events, 0}, {m_stop_read.get(), POLLIN, 0}};
    ::poll(fds, 2, timeout_ms);
    return (fds[1].revents & POLLIN) != 0;
  }

  void accept_loop() {
    for (;;) {
      if (stopping(m_listen.get(), POLLIN, -1)) return;
      int fd = ::accept4(m_listen.get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::lock_guard lock(m_mutex);
      m_connections.emplace_back([this, fd] { serve(UniqueFd(fd)); });
    }
  }

  void serve(UniqueFd fd) {
    std::string data;
    char buffer[65536];
    std::size_t head_end = std::string::npos;
    while (head_end == std::string::npos) {
      if (stopping(fd.get(), POLLIN, -1)) return;
      const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
      if (n <= 0) return;
      data.append(buffer, static_cast<std::size_t>(n));
      head_end = data.find("\r\n\r\n");
    }
    const std::string head = data.substr(0, head_end + 4);
    // Drain a request body (PUT) so the client sees the answer, not a reset.
    std::size_t body = 0;
    for (const char* name : {"Content-Length: ", "content-length: "}) {
      if (auto at = head.find(name); at != std::string::npos) {
        body = std::stoul(head.substr(at + std::string(name).size()));
      }
    }
    while (data.size() < head_end + 4 + body) {
      if (stopping(fd.get(), POLLIN, -1)) return;
      const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
      if (n <= 0) return;
      data.append(buffer, static_cast<std::size_t>(n));
    }
    ++m_requests;
    const auto response = m_handler(head);
    if (!response) {
      stopping(m_stop_read.get(), POLLIN, -1);  // hang until the server stops
      return;
    }
    std::size_t done = 0;
    while (done < response->size()) {
      const ssize_t n = ::write(fd.get(), response->data() + done, response->size() - done);
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  }

  Handler m_handler;
  UniqueFd m_listen, m_stop_read, m_stop_write;
  int m_port = 0;
  std::atomic<int> m_requests{0};
  std::thread m_acceptor;
  std::mutex m_mutex;
  std::vector<std::thread> m_connections;
};

// A complete response with a body.
inline std::string canned_response(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

}  // namespace forge::test
