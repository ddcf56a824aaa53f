#include "forge/bazel_remote/http_server.h"

#include <algorithm>
#include <cerrno>
#include <future>
#include <limits>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>

#include "forge/cache/upstream_tier.h"
#include "forge/core/support/log.h"
#include "forge/core/support/metrics.h"
#include "http_response.h"
#include "http_server_impl.h"

// The server loop: accepting, one session per connection with its watchdog, reading request
// heads, shutdown. Request handling is in http_handlers.cpp and http_put.cpp.
namespace forge::bazel_remote {

HttpServer::Impl::Impl(HttpServerOptions o, std::shared_ptr<cache::ActionCache> c)
    : options(std::move(o)), cache(std::move(c)) {
  routes.raw_prefix = options.raw_prefix;
  routes.instances = options.instances;
  series.reserve(k_route_kinds);
  for (std::size_t kind = 0; kind < k_route_kinds; ++kind) {
    series.emplace_back(endpoint_name(static_cast<RouteKind>(kind)));
  }
  for (unsigned i = 0; i < options.threads; ++i) workers.push_back(std::make_unique<Worker>());
  acceptor.emplace(workers.front()->ioc);
}

Task<void> HttpServer::Impl::accept_loop() {
  Timer pause(acceptor->get_executor());
  std::chrono::milliseconds backoff{0};
  std::chrono::steady_clock::time_point last_warning{};
  std::uint64_t unreported = 0;
  for (;;) {
    beast::error_code ec;
    // Round robin over the workers: each connection stays on the thread that accepted it.
    auto& worker = *workers[next_worker];
    Socket socket = co_await acceptor->async_accept(worker.ioc, asio::redirect_error(use_task, ec));
    if (!ec) {
      next_worker = (next_worker + 1) % workers.size();
      backoff = std::chrono::milliseconds(0);
      auto executor = socket.get_executor();
      asio::co_spawn(executor, session(std::move(socket)), asio::detached);
      continue;
    }
    if (stopping || ec == asio::error::operation_aborted) co_return;
    // The pending connection stays queued and the listening socket readable: retrying at
    // once would spin (and log) as fast as the CPU allows. Out of descriptors, make room by
    // closing the connection idle longest, and wait before the next try.
    const bool out_of_resources =
        ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
        ec == asio::error::no_memory ||
        (ec.category() == asio::error::get_system_category() && ec.value() == ENFILE);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_warning >= k_accept_warning_interval) {
      support::log(spdlog::level::warn, "http: accept failed",
                   {{"error", ec.message()},
                    {"repeats_not_logged", unreported},
                    {"hint", out_of_resources ? "raise the open-file limit (ulimit -n); idle "
                                                "connections are closed to make room"
                                              : "the connection was dropped"}});
      last_warning = now;
      unreported = 0;
    } else {
      ++unreported;
    }
    if (!out_of_resources) continue;  // one failed connection (ECONNABORTED): the next may work
    shed_idle_connection();
    backoff = std::clamp(backoff * 2, k_accept_backoff_min, k_accept_backoff_max);
    pause.expires_after(backoff);
    co_await pause.async_wait(asio::redirect_error(use_task, ec));
    if (stopping) co_return;
  }
}

void HttpServer::Impl::shed_idle_connection() {
  std::shared_ptr<Connection> victim;
  {
    std::lock_guard lock(mutex);
    for (const auto& [id, connection] : connections) {
      if (connection->idle && (!victim || connection->idle_since < victim->idle_since)) {
        victim = connection;
      }
    }
  }
  if (!victim) return;
  asio::post(victim->executor, [victim] {
    if (victim->socket == nullptr || !victim->idle) return;  // it became busy meanwhile
    beast::error_code ignored;
    victim->socket->cancel(ignored);
    victim->socket->close(ignored);
  });
}

Task<void> HttpServer::Impl::watchdog(std::shared_ptr<Connection> connection) {
  // Never sleep past now + the shorter timeout: every deadline the session sets is at least
  // that far away, so the timer always fires by the deadline, and re-arms at most once per
  // timeout period while the connection is busy.
  const auto horizon =
      std::min<std::chrono::steady_clock::duration>(options.idle_timeout, options.request_timeout);
  while (connection->socket != nullptr) {
    connection->armed = std::min(connection->deadline, std::chrono::steady_clock::now() + horizon);
    connection->timer.expires_at(connection->armed);
    beast::error_code ec;
    co_await connection->timer.async_wait(asio::redirect_error(use_task, ec));
    if (connection->socket == nullptr) break;  // the session ended and cancelled us
    if (std::chrono::steady_clock::now() >= connection->deadline) {
      connection->socket->cancel(ec);  // the pending read or write fails: the session ends
      connection->socket->close(ec);
      break;
    }
  }
}

Task<void> HttpServer::Impl::session(Socket socket) {
  beast::error_code no_delay_ec;  // best effort: a client already gone fails the first read
  socket.set_option(tcp::no_delay(true), no_delay_ec);
  auto connection = std::make_shared<Connection>(socket);
  connection->deadline = std::chrono::steady_clock::now() + options.request_timeout;
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex);
    id = next_id++;
    connections.emplace(id, connection);
  }
  asio::co_spawn(connection->executor, watchdog(connection), asio::detached);
  std::string remote;
  {
    beast::error_code ec;
    const auto endpoint = socket.remote_endpoint(ec);
    if (!ec) remote = fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
  }
  try {
    if (tls) {
      beast::ssl_stream<Socket&> secure(socket, *tls);
      beast::error_code ec;
      co_await secure.async_handshake(asio::ssl::stream_base::server,
                                      asio::redirect_error(use_task, ec));
      if (!ec) {
        co_await serve_requests(secure, *connection, remote);
        connection->tighten_deadline(std::chrono::steady_clock::now() + std::chrono::seconds(5));
        co_await secure.async_shutdown(asio::redirect_error(use_task, ec));
      } else {
        support::log(spdlog::level::warn, "http: TLS handshake failed",
                     {{"remote", remote}, {"error", ec.message()}});
      }
    } else {
      co_await serve_requests(socket, *connection, remote);
    }
  } catch (const std::exception& e) {
    support::log(spdlog::level::err, "http: connection failed", {{"error", e.what()}});
  }
  beast::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_send, ignored);
  connection->socket = nullptr;
  connection->timer.cancel();
  {
    std::lock_guard lock(mutex);
    connections.erase(id);
  }
  drained.notify_all();
}

template <typename Stream>
Task<void> HttpServer::Impl::serve_requests(Stream& stream, Connection& connection,
                                            const std::string& remote) {
  beast::flat_buffer buffer(k_read_buffer_limit);
  while (!stopping) {
    Parser parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // checked per route
    parser.header_limit(k_header_limit);
    connection.idle_since = std::chrono::steady_clock::now().time_since_epoch().count();
    connection.idle = true;
    connection.deadline = std::chrono::steady_clock::now() + options.idle_timeout;
    beast::error_code ec;
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(use_task, ec));
    if (ec) {
      // Closed, idle timeout or cancelled by shutdown: nobody to answer. Not HTTP: say so.
      const auto data = buffer.data();
      const std::string_view read(static_cast<const char*>(data.data()), data.size());
      if (const auto status = status_for_bad_head(ec, read.find('\n') != read.npos)) {
        connection.idle = false;
        const auto begin = std::chrono::steady_clock::now();
        const auto outcome = co_await send_text(
            stream, RequestInfo{}, *status,
            fmt::format("malformed request: {}; send an HTTP/1.1 request with a head under "
                        "{} bytes\n",
                        ec.message(), k_header_limit),
            false);
        series_for(RouteKind::unknown).record(std::chrono::steady_clock::now() - begin, outcome);
        if (support::log_enabled(spdlog::level::info)) {
          support::log(spdlog::level::info, "http request",
                       {{"status", static_cast<unsigned>(*status)},
                        {"error", ec.message()},
                        {"remote", remote}});
        }
      }
      break;
    }
    connection.idle = false;
    const auto begin = std::chrono::steady_clock::now();
    connection.deadline = begin + options.request_timeout;
    const auto& request = parser.get();
    const bool logging = support::log_enabled(spdlog::level::info);
    const std::string method(logging ? view(request.method_string()) : std::string_view());
    const std::string target(logging ? view(request.target()) : std::string_view());
    const Route route = parse_route(view(request.target()), routes);  // once per request
    Outcome outcome = co_await handle(stream, connection, buffer, parser, route);
    const auto elapsed = std::chrono::steady_clock::now() - begin;
    series_for(route.kind).record(elapsed, outcome);
    if (logging) {
      support::log(
          spdlog::level::info, "http request",
          {{"method", method},
           {"target", target},
           {"status", static_cast<unsigned>(outcome.status)},
           {"bytes_in", outcome.bytes_in},
           {"bytes_out", outcome.bytes_out},
           {"duration_us", std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()},
           {"remote", remote}});
    }
    if (!outcome.keep_alive) break;
  }
}

nlohmann::json HttpServer::Impl::status_json() {
  nlohmann::json status{
      {"server", "forge"},
      {"version", "0.1.0"},
      {"uptime_seconds",
       std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
           .count()},
      {"store", cache->cas().options().dir.string()},
      {"max_size", cache->cas().options().max_size},
      {"read_only", options.read_only},
      {"ac_uses_raw", options.ac_uses_raw},
      {"raw_prefix", options.raw_prefix ? nlohmann::json(*options.raw_prefix) : "off"},
      {"instances", instance_mode_name(options.instances)},
      {"http", fmt::format("{}:{}", options.address, bound_port)},
      {"tls", tls.has_value()},
      {"auth", std::string(!options.auth                                  ? "off"
                           : options.auth->mode() == AuthMode::write_only ? "write_only"
                                                                          : "all")},
  };
  if (!options.grpc_address.empty()) status["grpc"] = options.grpc_address;
  if (auto stats = cache->cas().stats()) {
    status["entries"] = stats->entries;
    status["bytes"] = stats->bytes;
  }
  const auto metrics = support::Metrics::global().to_json();
  status["cache_hit_rate"] = metrics["cache_hit_rate"];
  const auto filter = cache->cas().digest_filter_stats();
  status["digest_filter"] = {{"ready", filter.ready},
                             {"trusted", filter.trusted},
                             {"rebuilds", filter.rebuilds},
                             {"lookups_skipped", filter.lookups_skipped}};
  {
    std::lock_guard lock(mutex);
    status["connections"] = connections.size();
  }
  if (const auto* tier = cache->cas().upstream()) status["upstream"] = tier->status_json();
  return status;
}

// --- public API -----------------------------------------------------------------------------
HttpServer::HttpServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

HttpServer::~HttpServer() {
  shutdown(std::chrono::milliseconds(0));
}

std::uint16_t HttpServer::port() const {
  return m_impl->bound_port;
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(HttpServerOptions options,
                                                      std::shared_ptr<cache::ActionCache> cache) {
  if (options.threads == 0) options.threads = std::max(1u, std::thread::hardware_concurrency());
  if (options.max_body_size == 0 || options.request_timeout.count() <= 0 ||
      options.idle_timeout.count() <= 0) {
    return fail(Error(ErrorCategory::configuration,
                      "http server: max_body_size and timeouts must be positive")
                    .with_suggestion("omit them to use the defaults"));
  }
  if (options.raw_prefix) {
    auto checked = parse_raw_prefix(*options.raw_prefix);
    if (!checked || !*checked) {
      return fail(Error(ErrorCategory::configuration,
                        fmt::format("raw entry prefix '{}' is not a path prefix",
                                    options.raw_prefix->substr(0, 100)))
                      .with_suggestion("use '/', a prefix that starts and ends with '/', or "
                                       "nullopt for no raw entries"));
    }
  }
  beast::error_code ec;
  const auto address = asio::ip::make_address(options.address, ec);
  if (ec) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("'{}' is not an IP address", options.address))
                    .with_suggestion("use an address such as 127.0.0.1 or 0.0.0.0"));
  }
  auto impl = std::make_unique<Impl>(options, std::move(cache));
  if (options.tls_cert_file || options.tls_key_file) {
    if (!options.tls_cert_file || !options.tls_key_file) {
      return fail(Error(ErrorCategory::configuration, "TLS needs both a certificate and a key")
                      .with_suggestion("give --tls-cert FILE and --tls-key FILE together"));
    }
    impl->tls.emplace(asio::ssl::context::tls_server);
    impl->tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1);
    impl->tls->use_certificate_chain_file(options.tls_cert_file->string(), ec);
    if (!ec)
      impl->tls->use_private_key_file(options.tls_key_file->string(), asio::ssl::context::pem, ec);
    if (ec) {
      return fail(Error(ErrorCategory::configuration,
                        fmt::format("cannot load TLS certificate {} / key {}: {}",
                                    options.tls_cert_file->string(), options.tls_key_file->string(),
                                    ec.message()))
                      .with_suggestion("give PEM files; the key must match the certificate"));
    }
  }
  const tcp::endpoint endpoint(address, options.port);
  auto bind_error = [&](std::string_view step) {
    return fail(
        Error(ErrorCategory::network,
              fmt::format("cannot {} {}:{}: {}", step, options.address, options.port, ec.message()),
              ec.value())
            .with_suggestion("choose another port with --http-port, or stop the process "
                             "that holds this one"));
  };
  impl->acceptor->open(endpoint.protocol(), ec);
  if (ec) return bind_error("open a socket for");
  impl->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  impl->acceptor->bind(endpoint, ec);
  if (ec) return bind_error("bind");
  impl->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return bind_error("listen on");
  impl->bound_port = impl->acceptor->local_endpoint().port();
  Impl* raw = impl.get();
  asio::co_spawn(impl->workers.front()->ioc, raw->accept_loop(), asio::detached);
  for (auto& worker : impl->workers) {
    worker->thread = std::thread([&ioc = worker->ioc] { ioc.run(); });
  }
  support::log(spdlog::level::info, "http: listening",
               {{"address", fmt::format("{}:{}", options.address, impl->bound_port)}});
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

bool HttpServer::shutdown(std::chrono::milliseconds deadline) {
  Impl& impl = *m_impl;
  if (impl.stopped) return true;
  impl.stopping = true;
  // Stop listening before anything else, and wait for it: a connect after shutdown() began
  // must be refused, not left in the backlog of a socket nobody accepts from.
  std::promise<void> listener_closed;
  asio::post(impl.acceptor->get_executor(), [&impl, &listener_closed] {
    beast::error_code ignored;
    impl.acceptor->close(ignored);
    listener_closed.set_value();
  });
  listener_closed.get_future().wait();
  auto close_connections = [&impl](bool idle_only) {
    std::lock_guard lock(impl.mutex);
    for (auto& [id, connection] : impl.connections) {
      asio::post(connection->executor, [connection, idle_only] {
        if (connection->socket == nullptr || (idle_only && !connection->idle)) return;
        beast::error_code ignored;
        connection->socket->cancel(ignored);
        connection->socket->close(ignored);
      });
    }
  };
  close_connections(/*idle_only=*/true);
  bool finished = false;
  {
    std::unique_lock lock(impl.mutex);
    finished = impl.drained.wait_for(lock, deadline, [&] { return impl.connections.empty(); });
  }
  if (!finished) {
    std::size_t running = 0;
    {
      std::lock_guard lock(impl.mutex);
      running = impl.connections.size();
    }
    support::log(spdlog::level::warn, "http: requests still running at the shutdown deadline",
                 {{"connections", running}});
    close_connections(/*idle_only=*/false);
    std::unique_lock lock(impl.mutex);
    impl.drained.wait_for(lock, std::chrono::seconds(5), [&] { return impl.connections.empty(); });
  }
  for (auto& worker : impl.workers) {
    worker->keep_running.reset();
    worker->ioc.stop();
  }
  for (auto& worker : impl.workers) {
    if (worker->thread.joinable()) worker->thread.join();
  }
  impl.stopped = true;
  return finished;
}

}  // namespace forge::bazel_remote
