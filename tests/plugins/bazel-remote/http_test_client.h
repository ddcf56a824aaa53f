#pragma once
// Test helpers for the HTTP server: a raw TCP client on 127.0.0.1 and a fixture running an
// HttpServer in-process over a real store in a temp dir.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "forge/bazel_remote/http_server.h"
#include "forge/cache/action_cache.h"
#include "forge/test/temp_dir.h"
#include "forge/test/test_cache.h"

namespace forge::bazel_remote::test_http {

using namespace std::chrono_literals;

// A blocking client socket with a receive timeout, so a broken server fails the test instead
// of hanging it.
class Client {
 public:
  explicit Client(std::uint16_t port) {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    m_connected = ::connect(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  ~Client() { ::close(m_fd); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  bool connected() const { return m_connected; }

  void send(std::string_view data) {
    ASSERT_EQ(::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(data.size()));
  }
  // Reads until `count` complete responses (head + Content-Length body) have arrived or the
  // peer closes; returns what arrived.
  std::string read_responses(int count, std::chrono::milliseconds limit = 10s) {
    std::string data;
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (complete_responses(data) < count && std::chrono::steady_clock::now() < give_up) {
      if (!wait_readable(give_up)) break;
      char buffer[65536];
      const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      data.append(buffer, static_cast<std::size_t>(n));
    }
    return data;
  }
  // Sends as much of `data` as the peer takes (it may close first); the bytes sent.
  std::size_t send_some(std::string_view data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      const ssize_t n = ::send(m_fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    return sent;
  }
  // Everything until the peer closes (or `limit` passes; closed_by_peer() tells which).
  std::string read_all(std::chrono::milliseconds limit = 10s) {
    std::string data;
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (wait_readable(give_up)) {
      char buffer[65536];
      const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        m_closed = true;  // EOF or reset
        break;
      }
      data.append(buffer, static_cast<std::size_t>(n));
    }
    return data;
  }
  bool closed_by_peer() const { return m_closed; }
  // No more data from this side (the server reads end of input).
  void shutdown_send() { ::shutdown(m_fd, SHUT_WR); }
  // How long until the server closes the connection (nullopt: still open after `limit`).
  std::optional<std::chrono::milliseconds> time_until_closed(std::chrono::milliseconds limit) {
    const auto start = std::chrono::steady_clock::now();
    const auto give_up = start + limit;
    while (wait_readable(give_up)) {
      char buffer[4096];
      const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
      if (n <= 0) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
      }
    }
    return std::nullopt;
  }

 private:
  bool wait_readable(std::chrono::steady_clock::time_point until) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd poll_fd{m_fd, POLLIN, 0};
    return ::poll(&poll_fd, 1, static_cast<int>(left.count())) > 0;
  }
  static int complete_responses(std::string_view data) {
    int count = 0;
    for (;;) {
      const auto head_end = data.find("\r\n\r\n");
      if (head_end == std::string_view::npos) return count;
      const auto head = data.substr(0, head_end);
      std::size_t length = 0;
      if (const auto at = head.find("Content-Length: "); at != std::string_view::npos) {
        length = std::stoul(std::string(head.substr(at + 16)));
      }
      if (data.size() < head_end + 4 + length) return count;
      ++count;
      data.remove_prefix(head_end + 4 + length);
    }
  }
  int m_fd = -1;
  bool m_connected = false;
  bool m_closed = false;
};

inline std::string sha256_of(std::string_view content) {
  return cache::digest_of(content).sha256.hex();
}

class HttpServerFixture : public test::StoreTest {
 protected:
  void start(HttpServerOptions options = {}, std::shared_ptr<cache::ActionCache> cache = {}) {
    options.threads = options.threads == 0 ? 2 : options.threads;
    auto server = HttpServer::start(std::move(options), cache ? cache : m_cache);
    ASSERT_TRUE(server) << server.error().to_string();
    m_server = std::move(*server);
  }
  std::string put(std::string_view content) {
    auto stored = m_cas->put(std::as_bytes(std::span(content)), cache::digest_of(content));
    EXPECT_TRUE(stored) << stored.error().to_string();
    return sha256_of(content);
  }

  std::unique_ptr<HttpServer> m_server;
};

}  // namespace forge::bazel_remote::test_http
