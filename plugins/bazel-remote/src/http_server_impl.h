#pragma once
// HttpServer's state, shared by the server loop (http_server.cpp) and the request handlers
// (http_handlers.cpp, http_put.cpp). Internal to forge_bazel_remote.
//
// Threading: `workers`, `options`, `cache`, `tls` and `series` are set before the first
// connection and then only read. A Connection is touched only on its worker's thread, except
// its registry entry, which `mutex` guards (with `next_id`). `stopping` is atomic.

#include <array>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "forge/bazel_remote/http_server.h"
#include "http_common.h"
#include "http_metrics.h"
#include "http_route.h"

namespace forge::bazel_remote {

// An accept() that fails for want of descriptors or memory is retried after a pause that
// doubles from 10 ms to 1 s: the queued connection keeps the listener readable, so retrying
// at once spins. Its warning is written at most once per 10 s (with the count not written).
inline constexpr std::chrono::milliseconds k_accept_backoff_min{10};
inline constexpr std::chrono::milliseconds k_accept_backoff_max{1000};
inline constexpr std::chrono::seconds k_accept_warning_interval{10};

struct HttpServer::Impl {
  // One io_context per I/O thread, each run by that thread alone.
  struct Worker {
    asio::io_context ioc{1};  // concurrency hint 1: a single thread runs it
    asio::executor_work_guard<Executor> keep_running{ioc.get_executor()};
    std::thread thread;
  };

  HttpServerOptions options;
  std::shared_ptr<cache::ActionCache> cache;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<Acceptor> acceptor;  // on workers[0]
  std::size_t next_worker = 0;       // touched only by the accept loop
  std::uint16_t bound_port = 0;
  std::optional<asio::ssl::context> tls;  // set when a certificate and key were given
  RouteOptions routes;                    // from options
  // One per RouteKind (kinds that share an endpoint label share its counters).
  std::vector<EndpointSeries> series;
  const EndpointSeries& series_for(RouteKind kind) const {
    return series[static_cast<std::size_t>(kind)];
  }
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  // A live connection. Everything but the registry entry is touched only on its worker's
  // thread. Timeouts are lazy: each request moves `deadline` (a plain store), and one timer
  // per connection wakes at the old deadline, re-arms if it moved, and closes the socket if
  // it passed. That is one timer operation per timeout period instead of one per read/write.
  struct Connection {
    explicit Connection(Socket& s) : executor(s.get_executor()), socket(&s), timer(executor) {}
    Executor executor;
    Socket* socket;  // null once the session ended
    // Read by the accept loop to pick a connection to shed (shed_idle_connection).
    std::atomic<bool> idle{true};
    std::atomic<std::chrono::steady_clock::rep> idle_since{0};
    std::chrono::steady_clock::time_point deadline;
    Timer timer;
    std::chrono::steady_clock::time_point armed;  // when `timer` fires next
    std::vector<char> scratch;                    // small response bodies, reused
    // For a deadline sooner than usual (TLS close): wake the watchdog now to re-arm.
    void tighten_deadline(std::chrono::steady_clock::time_point when) {
      deadline = when;
      if (when < armed) timer.cancel();
    }
  };
  std::mutex mutex;
  std::condition_variable drained;
  std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> connections;  // GUARDED_BY mutex
  std::uint64_t next_id = 0;                                                   // GUARDED_BY mutex
  std::atomic<bool> stopping{false};
  bool stopped = false;

  Impl(HttpServerOptions o, std::shared_ptr<cache::ActionCache> c);

  // http_server.cpp: the server loop.
  Task<void> accept_loop();
  Task<void> session(Socket socket);
  Task<void> watchdog(std::shared_ptr<Connection> connection);
  template <typename Stream>
  Task<void> serve_requests(Stream& stream, Connection& connection, const std::string& remote);
  nlohmann::json status_json();
  // Closes the connection idle longest (if any), to free a descriptor when accept() fails
  // for want of one. Any thread.
  void shed_idle_connection();

  // The 404 text for a path that is no route (it says where raw entries live).
  std::string unknown_route_text(std::string_view target) const;
  // http_handlers.cpp / http_put.cpp: one request, whose head `parser` has read. Explicitly
  // instantiated for Socket and TlsStream.
  template <typename Stream>
  Task<Outcome> handle(Stream& stream, Connection& connection, beast::flat_buffer& buffer,
                       Parser& parser, const Route& route);
  template <typename Stream>
  Task<Outcome> handle_get(Stream& stream, Connection& connection, const RequestInfo& request,
                           const Route& route, bool head);
  template <typename Stream>
  Task<Outcome> handle_put(Stream& stream, beast::flat_buffer& buffer, Parser& parser,
                           const Route& route);
};

}  // namespace forge::bazel_remote
