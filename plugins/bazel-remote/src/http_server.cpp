#include "forge/bazel_remote/http_server.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <future>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include "forge/core/support/log.h"

#include <spdlog/spdlog.h>
#include "forge/core/support/metrics.h"
#include "zstd_stream.h"

namespace forge::bazel_remote {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Each I/O thread runs its own single-threaded io_context (nginx's worker model): a
// connection lives on one thread from accept to close, so it needs no strand and no locks,
// and the concrete executor type spares every operation the type-erased any_io_executor.
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>, Executor>;
template <typename T>
using Task = asio::awaitable<T, Executor>;
constexpr asio::use_awaitable_t<Executor> use_task;

constexpr std::size_t k_chunk_size = 256 * 1024;
// Blobs up to this size are answered from a per-connection buffer in one gather write.
constexpr std::uint64_t k_in_memory_response_limit = 64 * 1024;

// --- routing ----------------------------------------------------------------------------
enum class RouteKind { cas, ac, status, metrics, healthz, unknown };

struct Route {
  RouteKind kind = RouteKind::unknown;
  std::string_view hash;  // 64 lower-case hex for cas/ac
  std::string_view endpoint = "other";
};

Route parse_route(std::string_view target) {
  if (const auto query = target.find('?'); query != std::string_view::npos) {
    target = target.substr(0, query);
  }
  if (target == "/status") return {RouteKind::status, {}, "status"};
  if (target == "/metrics") return {RouteKind::metrics, {}, "metrics"};
  if (target == "/healthz") return {RouteKind::healthz, {}, "healthz"};
  // [/<instance>...]/(ac|cas)/<hash>
  const auto last = target.rfind('/');
  if (last == std::string_view::npos || last == 0) return {};
  const auto hash = target.substr(last + 1);
  const auto before = target.substr(0, last);
  const auto kind_start = before.rfind('/');
  if (kind_start == std::string_view::npos) return {};
  const auto kind = before.substr(kind_start + 1);
  if (kind == "cas") return {RouteKind::cas, hash, "cas"};
  if (kind == "ac") return {RouteKind::ac, hash, "ac"};
  return {};
}

// --- responses ----------------------------------------------------------------------------
struct Outcome {
  http::status status = http::status::ok;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  bool keep_alive = true;  // false when the request body was not (fully) read
};

http::status status_for(const Error& error) {
  if (error.code() == ENOSPC || error.code() == EDQUOT) return http::status::insufficient_storage;
  switch (error.category()) {
    case ErrorCategory::validation:
      return error.message().find("maximum size") != std::string::npos
                 ? http::status::payload_too_large
                 : http::status::bad_request;
    case ErrorCategory::timeout: return http::status::gateway_timeout;
    default: return http::status::internal_server_error;
  }
}

std::string error_body(const Error& error) {
  std::string body = error.summary();
  for (const auto& suggestion : error.suggestions()) body += "; " + suggestion;
  return body + "\n";
}

using Parser = http::request_parser<http::buffer_body>;

// What a response needs to know about its request.
struct RequestInfo {
  unsigned version = 11;
  bool keep_alive = true;
  bool head = false;
  bool accepts_zstd = false;  // Accept-Encoding lists zstd
};

bool lists_zstd(std::string_view accept_encoding) {
  // "gzip, zstd;q=0.9" -> true; "zstd;q=0" -> false.
  std::size_t pos = 0;
  while ((pos = accept_encoding.find("zstd", pos)) != std::string_view::npos) {
    auto rest = accept_encoding.substr(pos + 4);
    const auto end = rest.find(',');
    rest = rest.substr(0, end);
    if (rest.find("q=0") == std::string_view::npos || rest.find("q=0.") != std::string_view::npos) {
      return true;
    }
    pos += 4;
  }
  return false;
}

// The head of a 200 blob response. Its fields are fixed, so it is formatted directly instead
// of through Beast's field container (an allocation per field, on the hottest path).
std::size_t format_blob_head(std::array<char, 160>& out, unsigned version, std::uint64_t size,
                             bool keep_alive) {
  const std::string_view connection = version >= 11
                                          ? (keep_alive ? "" : "Connection: close\r\n")
                                          : (keep_alive ? "Connection: keep-alive\r\n" : "");
  const auto result = fmt::format_to_n(out.data(), out.size(),
                                       "HTTP/{}.{} 200 OK\r\nServer: forge\r\nContent-Type: "
                                       "application/octet-stream\r\nContent-Length: {}\r\n{}\r\n",
                                       version / 10, version % 10, size, connection);
  return result.size;
}

std::string_view view(beast::string_view text) {
  return {text.data(), text.size()};
}

}  // namespace

// Metric series of one endpoint, looked up once: the hot path only touches atomics.
struct EndpointSeries {
  support::Counter* requests;
  support::Histogram* duration;
  support::Counter* bytes_in;
  support::Counter* bytes_out;
  std::array<support::Counter*, 6> responses;  // 2xx..5xx by class, [0]: other

  explicit EndpointSeries(std::string_view endpoint) {
    auto& metrics = support::Metrics::global();
    requests = &metrics.counter(fmt::format("http_requests_total{{endpoint=\"{}\"}}", endpoint));
    duration =
        &metrics.histogram(fmt::format("http_request_duration{{endpoint=\"{}\"}}", endpoint));
    bytes_in = &metrics.counter("http_bytes_in_total", "HTTP request body bytes");
    bytes_out = &metrics.counter("http_bytes_out_total", "HTTP response body bytes");
    for (std::size_t c = 0; c < responses.size(); ++c) {
      responses[c] = &metrics.counter(
          fmt::format("http_responses_total{{endpoint=\"{}\",code=\"{}\"}}", endpoint,
                      c == 0 ? std::string("other") : fmt::format("{}xx", c)));
    }
  }
  void record(std::chrono::steady_clock::duration elapsed, const Outcome& outcome) const {
    requests->add();
    duration->record(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed));
    bytes_in->add(outcome.bytes_in);
    bytes_out->add(outcome.bytes_out);
    const auto code = static_cast<unsigned>(outcome.status);
    responses[code >= 100 && code < 600 ? code / 100 : 0]->add();
  }
};

bool access_log_enabled() {
  return spdlog::default_logger_raw()->should_log(spdlog::level::info);
}

// --- the server ---------------------------------------------------------------------------
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
  std::array<EndpointSeries, 6> series{EndpointSeries("cas"),     EndpointSeries("ac"),
                                       EndpointSeries("status"),  EndpointSeries("metrics"),
                                       EndpointSeries("healthz"), EndpointSeries("other")};
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
    bool idle = true;
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
  std::unordered_map<std::uint64_t, std::shared_ptr<Connection>> connections;
  std::uint64_t next_id = 0;
  std::atomic<bool> stopping{false};
  bool stopped = false;

  Impl(HttpServerOptions o, std::shared_ptr<cache::ActionCache> c)
      : options(std::move(o)), cache(std::move(c)) {
    for (unsigned i = 0; i < options.threads; ++i) workers.push_back(std::make_unique<Worker>());
    acceptor.emplace(workers.front()->ioc);
  }

  Task<void> accept_loop();
  Task<void> session(Socket socket);
  Task<void> watchdog(std::shared_ptr<Connection> connection);
  template <typename Stream>
  Task<void> serve_requests(Stream& stream, Connection& connection, const std::string& remote);
  template <typename Stream>
  Task<Outcome> handle(Stream& stream, Connection& connection, beast::flat_buffer& buffer,
                       Parser& parser);
  template <typename Stream>
  Task<Outcome> handle_get(Stream& stream, Connection& connection, const RequestInfo& request,
                           const Route& route, bool head);
  template <typename Stream>
  Task<Outcome> handle_put(Stream& stream, beast::flat_buffer& buffer, Parser& parser,
                           const Route& route);
  nlohmann::json status_json();
};

namespace {

template <typename Stream, typename Body>
Task<beast::error_code> write_message(Stream& stream, http::response<Body>& response) {
  beast::error_code ec;
  co_await http::async_write(stream, response, asio::redirect_error(use_task, ec));
  co_return ec;
}

template <typename Stream>
Task<Outcome> send_text(Stream& stream, const RequestInfo& request, http::status status,
                        std::string body, bool keep_alive,
                        std::string_view content_type = "text/plain; charset=utf-8") {
  http::response<http::string_body> response{status, request.version};
  response.set(http::field::server, "forge");
  response.set(http::field::content_type,
               beast::string_view(content_type.data(), content_type.size()));
  response.keep_alive(keep_alive && request.keep_alive);
  const std::uint64_t size = body.size();
  response.body() = std::move(body);
  response.prepare_payload();
  if (request.head) response.body().clear();
  Outcome outcome{status, 0, size, response.keep_alive()};
  if (auto ec = co_await write_message(stream, response); ec) outcome.keep_alive = false;
  co_return outcome;
}

// Reads the rest of the body, handing each piece to sink (returns false to stop early).
// Returns the transport error, if any; `complete` says whether the body was read entirely.
template <typename Stream, typename Sink>
Task<beast::error_code> read_body(Stream& stream, beast::flat_buffer& buffer, Parser& parser,
                                  Sink&& sink, bool& complete, std::uint64_t& bytes) {
  std::vector<char> chunk(k_chunk_size);
  beast::error_code ec;
  complete = false;
  if (!parser.chunked() && parser.content_length()) {
    // Fast path for Content-Length bodies: hand over what the header read already buffered,
    // then read straight from the socket into big chunks, never past the body's end (a
    // pipelined request may follow). The parser is not used again for this request.
    std::uint64_t remaining = *parser.content_length();
    while (remaining > 0 && buffer.size() > 0) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining, buffer.size()));
      const auto data = buffer.data();
      const std::span<const char> piece(static_cast<const char*>(data.data()), n);
      bytes += n;
      remaining -= n;
      const bool go_on = sink(piece);
      buffer.consume(n);
      if (!go_on) co_return ec;
    }
    while (remaining > 0) {
      const std::size_t want =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining, chunk.size()));
      const std::size_t n = co_await stream.async_read_some(asio::buffer(chunk.data(), want),
                                                            asio::redirect_error(use_task, ec));
      if (ec) co_return ec;
      bytes += n;
      remaining -= n;
      if (n > 0 && !sink(std::span<const char>(chunk.data(), n))) co_return ec;
    }
    complete = true;
    co_return ec;
  }
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    co_await http::async_read(stream, buffer, parser, asio::redirect_error(use_task, ec));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return ec;
    const std::size_t n = chunk.size() - parser.get().body().size;
    bytes += n;
    if (n > 0 && !sink(std::span<const char>(chunk.data(), n))) co_return ec;
  }
  complete = true;
  co_return ec;
}

// Sends a blob zstd-compressed on the fly as a chunked response: memory stays at one chunk.
template <typename Stream>
Task<Outcome> send_zstd(Stream& stream, const RequestInfo& request, const cache::BlobReader& reader,
                        bool keep) {
  http::response<http::buffer_body> response{http::status::ok, request.version};
  response.set(http::field::server, "forge");
  response.set(http::field::content_type, "application/octet-stream");
  response.set(http::field::content_encoding, "zstd");
  response.keep_alive(keep && request.keep_alive);
  response.chunked(true);
  response.body().data = nullptr;
  response.body().more = true;
  http::response_serializer<http::buffer_body> serializer(response);
  Outcome outcome{http::status::ok, 0, 0, response.keep_alive()};
  beast::error_code ec;
  co_await http::async_write_header(stream, serializer, asio::redirect_error(use_task, ec));
  ZstdCompressor compressor;
  std::vector<std::byte> chunk(k_chunk_size);
  std::string packed;
  std::uint64_t offset = 0;
  bool end = reader.size() == 0;
  while (!ec) {
    packed.clear();
    if (!end) {
      auto n = reader.read(offset, chunk);
      if (!n || *n == 0) {
        outcome.keep_alive = false;  // cannot report an error inside a 200: cut the stream
        co_return outcome;
      }
      offset += *n;
      end = offset >= reader.size();
      if (!compressor.compress(std::span(chunk).first(*n), end, packed)) {
        outcome.keep_alive = false;
        co_return outcome;
      }
    } else if (!compressor.compress({}, true, packed)) {
      outcome.keep_alive = false;
      co_return outcome;
    }
    outcome.bytes_out += packed.size();
    response.body().data = packed.data();
    response.body().size = packed.size();
    response.body().more = true;
    co_await http::async_write(stream, serializer, asio::redirect_error(use_task, ec));
    if (ec == http::error::need_buffer) ec = {};
    if (end) break;
  }
  if (!ec) {
    response.body().data = nullptr;
    response.body().size = 0;
    response.body().more = false;
    co_await http::async_write(stream, serializer, asio::redirect_error(use_task, ec));
  }
  if (ec && ec != http::error::end_of_stream) outcome.keep_alive = false;
  co_return outcome;
}

}  // namespace

Task<void> HttpServer::Impl::accept_loop() {
  for (;;) {
    beast::error_code ec;
    // Round robin over the workers: each connection stays on the thread that accepted it.
    auto& worker = *workers[next_worker];
    next_worker = (next_worker + 1) % workers.size();
    Socket socket = co_await acceptor->async_accept(worker.ioc, asio::redirect_error(use_task, ec));
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) co_return;
      support::log(spdlog::level::warn, "http: accept failed", {{"error", ec.message()}});
      continue;  // EMFILE and friends: keep serving the connections we have
    }
    auto executor = socket.get_executor();
    asio::co_spawn(executor, session(std::move(socket)), asio::detached);
  }
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
  beast::flat_buffer buffer;
  while (!stopping) {
    Parser parser;
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // checked per route
    parser.header_limit(64 * 1024);
    connection.idle = true;
    connection.deadline = std::chrono::steady_clock::now() + options.idle_timeout;
    beast::error_code ec;
    co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(use_task, ec));
    if (ec) break;  // closed, idle timeout, cancelled by shutdown, or garbage
    connection.idle = false;
    const auto begin = std::chrono::steady_clock::now();
    connection.deadline = begin + options.request_timeout;
    const auto& request = parser.get();
    const bool logging = access_log_enabled();
    const std::string method(logging ? view(request.method_string()) : std::string_view());
    const std::string target(logging ? view(request.target()) : std::string_view());
    const Route route = parse_route(view(request.target()));
    Outcome outcome = co_await handle(stream, connection, buffer, parser);
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

template <typename Stream>
Task<Outcome> HttpServer::Impl::handle(Stream& stream, Connection& connection,
                                       beast::flat_buffer& buffer, Parser& parser) {
  const auto& message = parser.get();
  const RequestInfo request{message.version(), message.keep_alive(),
                            message.method() == http::verb::head,
                            lists_zstd(view(message[http::field::accept_encoding]))};
  const Route route = parse_route(view(message.target()));
  const bool body_pending = !parser.is_done();
  const bool keep = !body_pending && !stopping;  // unread bodies cannot be skipped safely
  if (options.auth && route.kind != RouteKind::healthz) {
    const bool write = message.method() == http::verb::put;
    const auto verdict = options.auth->check(view(message[http::field::authorization]), write);
    if (verdict != AuthResult::allowed) {
      http::response<http::string_body> response{http::status::unauthorized, request.version};
      response.set(http::field::server, "forge");
      response.set(http::field::www_authenticate, "Basic realm=\"forge\"");
      response.set(http::field::content_type, "text/plain; charset=utf-8");
      response.keep_alive(keep && request.keep_alive);
      response.body() = verdict == AuthResult::missing_credentials
                            ? "credentials required: send Authorization: Basic or Bearer\n"
                            : "invalid credentials\n";
      response.prepare_payload();
      Outcome outcome{http::status::unauthorized, 0, response.body().size(), response.keep_alive()};
      if (auto ec = co_await write_message(stream, response); ec) outcome.keep_alive = false;
      co_return outcome;
    }
  }
  switch (route.kind) {
    case RouteKind::healthz:
      co_return co_await send_text(stream, request, http::status::ok, "ok\n", keep);
    case RouteKind::metrics:
      co_return co_await send_text(stream, request, http::status::ok,
                                   support::Metrics::global().to_prometheus(), keep,
                                   "text/plain; version=0.0.4");
    case RouteKind::status:
      co_return co_await send_text(stream, request, http::status::ok, status_json().dump(2) + "\n",
                                   keep, "application/json");
    case RouteKind::unknown:
      co_return co_await send_text(
          stream, request, http::status::not_found,
          fmt::format("no such resource: {}; use /cas/<sha256>, /ac/<sha256>, /status, "
                      "/metrics or /healthz\n",
                      view(message.target()).substr(0, 200)),
          keep);
    case RouteKind::cas:
    case RouteKind::ac: break;
  }
  if (!hash::is_hex64(route.hash)) {
    co_return co_await send_text(
        stream, request, http::status::bad_request,
        fmt::format("'{}' is not a SHA-256: expected 64 hex digits\n", route.hash.substr(0, 100)),
        keep);
  }
  switch (message.method()) {
    case http::verb::get: co_return co_await handle_get(stream, connection, request, route, false);
    case http::verb::head: co_return co_await handle_get(stream, connection, request, route, true);
    case http::verb::put: co_return co_await handle_put(stream, buffer, parser, route);
    default:
      co_return co_await send_text(stream, request, http::status::method_not_allowed,
                                   "use GET, HEAD or PUT\n", keep);
  }
}

template <typename Stream>
Task<Outcome> HttpServer::Impl::handle_get(Stream& stream, Connection& connection,
                                           const RequestInfo& request, const Route& route,
                                           bool head) {
  const bool keep = !stopping;
  std::array<char, 64> lower_hex;  // is_hex64 checked the length
  std::transform(route.hash.begin(), route.hash.end(), lower_hex.begin(), [](char c) {
    return static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
  });
  const std::string_view lower(lower_hex.data(), lower_hex.size());
  const auto sha = hash::Digest::parse(hash::Algorithm::sha256, lower);
  auto opened = [&]() -> Result<std::optional<cache::BlobReader>> {
    if (route.kind == RouteKind::cas) {
      return cache->cas().open_blob(*sha);  // one index lookup, counted as a cas hit or miss
    }
    const auto space = options.ac_uses_raw ? cache::Keyspace::raw : cache::Keyspace::ac;
    FORGE_TRY(auto found, cache->lookup(space, lower));  // counted by the action cache
    if (!found) return std::optional<cache::BlobReader>();
    return cache->cas().open_blob(*found, /*keyspace=*/{});
  }();
  if (!opened) {
    co_return co_await send_text(stream, request, status_for(opened.error()),
                                 error_body(opened.error()), keep);
  }
  auto& reader = *opened;
  if (!reader) {
    co_return co_await send_text(
        stream, request, http::status::not_found,
        fmt::format("{} {} is not in the cache\n", route.kind == RouteKind::cas ? "blob" : "action",
                    lower),
        keep);
  }
  const std::uint64_t size = reader->size();
  if (request.accepts_zstd && route.kind == RouteKind::cas && !head) {
    co_return co_await send_zstd(stream, request, *reader, keep);
  }
  if (head) {
    http::response<http::empty_body> response{http::status::ok, request.version};
    response.set(http::field::server, "forge");
    response.set(http::field::content_type, "application/octet-stream");
    response.content_length(size);
    response.keep_alive(keep && request.keep_alive);
    Outcome outcome{http::status::ok, 0, 0, response.keep_alive()};
    http::response_serializer<http::empty_body> serializer(response);
    serializer.split(true);
    beast::error_code ec;
    co_await http::async_write_header(stream, serializer, asio::redirect_error(use_task, ec));
    if (ec) outcome.keep_alive = false;
    co_return outcome;
  }
  Outcome outcome{http::status::ok, 0, size, keep && request.keep_alive};
  if (size <= k_in_memory_response_limit) {
    auto& body = connection.scratch;
    if (body.size() < size) body.resize(size);
    std::size_t done = 0;
    while (done < size) {
      auto n =
          reader->read(done, std::as_writable_bytes(std::span(body.data() + done, size - done)));
      if (!n || *n == 0) {
        co_return co_await send_text(stream, request, http::status::internal_server_error,
                                     "blob is shorter on disk than indexed; run `forge cache "
                                     "verify`\n",
                                     false);
      }
      done += *n;
    }
    reader.reset();  // unpin and close before the network wait
    std::array<char, 160> head{};
    const std::size_t head_size = format_blob_head(head, request.version, size, outcome.keep_alive);
    const std::array<asio::const_buffer, 2> message{asio::buffer(head.data(), head_size),
                                                    asio::buffer(body.data(), size)};
    beast::error_code ec;
    co_await asio::async_write(stream, message, asio::redirect_error(use_task, ec));
    if (ec) outcome.keep_alive = false;
    co_return outcome;
  }
  // Large blobs: stream from the pinned descriptor, memory bounded by Beast's file buffer.
  http::response<http::file_body> response{http::status::ok, request.version};
  response.set(http::field::server, "forge");
  response.set(http::field::content_type, "application/octet-stream");
  response.keep_alive(outcome.keep_alive);
  beast::file_posix file;
  file.native_handle(::dup(reader->fd()));
  beast::error_code ec;
  response.body().reset(std::move(file), ec);
  if (ec) {
    co_return co_await send_text(stream, request, http::status::internal_server_error,
                                 fmt::format("cannot read blob: {}\n", ec.message()), false);
  }
  response.prepare_payload();
  if (auto write_ec = co_await write_message(stream, response); write_ec)
    outcome.keep_alive = false;
  co_return outcome;
}

template <typename Stream>
Task<Outcome> HttpServer::Impl::handle_put(Stream& stream, beast::flat_buffer& buffer,
                                           Parser& parser, const Route& route) {
  const auto& message = parser.get();
  const RequestInfo request{message.version(), message.keep_alive(), false};
  const auto length = parser.content_length();  // none for chunked bodies
  std::string lower(route.hash);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (options.read_only) {
    co_return co_await send_text(stream, request, http::status::forbidden,
                                 "this cache is read-only; uploads are refused (server started "
                                 "with --read-only)\n",
                                 false);
  }
  const bool validated_ac = route.kind == RouteKind::ac && !options.ac_uses_raw;
  const std::uint64_t limit = validated_ac ? options.max_ac_body_size : options.max_body_size;
  if (length && *length > limit) {
    co_return co_await send_text(
        stream, request, http::status::payload_too_large,
        fmt::format("body of {} bytes exceeds the limit of {} bytes; raise --max-blob-size\n",
                    *length, limit),
        false);
  }
  const auto expect = message[http::field::expect];
  if (beast::iequals(expect, "100-continue")) {
    http::response<http::empty_body> go_on{http::status::continue_, request.version};
    if (auto ec = co_await write_message(stream, go_on); ec) co_return Outcome{{}, 0, 0, false};
  }
  Outcome outcome;
  bool complete = false;
  const auto sha = hash::Digest::parse(hash::Algorithm::sha256, lower);

  // CAS blob already present with the announced size: drain the body, skip the disk.
  if (route.kind == RouteKind::cas && length) {
    auto existing = cache->cas().find(*sha);
    if (existing && *existing && (*existing)->size == *length) {
      auto ec = co_await read_body(
          stream, buffer, parser, [](std::span<const char>) { return true; }, complete,
          outcome.bytes_in);
      if (ec || !complete) co_return Outcome{{}, outcome.bytes_in, 0, false};
      auto sent = co_await send_text(stream, request, http::status::ok, "", !stopping);
      sent.bytes_in = outcome.bytes_in;
      co_return sent;
    }
  }

  if (validated_ac) {
    std::string body;
    bool too_big = false;
    auto ec = co_await read_body(
        stream, buffer, parser,
        [&](std::span<const char> piece) {
          if (body.size() + piece.size() > limit) {
            too_big = true;
            return false;
          }
          body.append(piece.data(), piece.size());
          return true;
        },
        complete, outcome.bytes_in);
    if (ec) co_return Outcome{{}, outcome.bytes_in, 0, false};
    if (too_big) {
      co_return co_await send_text(
          stream, request, http::status::payload_too_large,
          fmt::format("action result exceeds the limit of {} bytes\n", limit), false);
    }
    auto stored = cache->put(cache::Keyspace::ac, lower, body);
    if (!stored) {
      auto sent = co_await send_text(stream, request, status_for(stored.error()),
                                     error_body(stored.error()), !stopping);
      sent.bytes_in = outcome.bytes_in;
      co_return sent;
    }
    auto sent = co_await send_text(stream, request, http::status::ok, "", !stopping);
    sent.bytes_in = outcome.bytes_in;
    co_return sent;
  }

  // Stream into the store: CAS bodies are checked against their name, raw values are not.
  // A zstd body (Content-Encoding: zstd) is decoded as it arrives; its Content-Length is the
  // compressed size, so only the hash can be checked.
  const bool compressed = beast::iequals(message[http::field::content_encoding], "zstd");
  Result<cache::BlobWriter> writer =
      route.kind == RouteKind::ac
          ? cache->cas().begin_put(std::nullopt)
          : (length && !compressed ? cache->cas().begin_put(cache::BlobDigest{*sha, *length})
                                   : cache->cas().begin_put_expecting_hash(*sha));
  std::optional<ZstdDecompressor> decompressor;
  if (compressed) decompressor.emplace();
  if (!writer) {
    co_return co_await send_text(stream, request, status_for(writer.error()),
                                 error_body(writer.error()), false);
  }
  std::optional<Error> write_error;
  auto ec = co_await read_body(
      stream, buffer, parser,
      [&](std::span<const char> piece) {
        auto written = decompressor ? decompressor->feed(std::as_bytes(piece),
                                                         [&](std::span<const std::byte> plain) {
                                                           return writer->write(plain);
                                                         })
                                    : writer->write(std::as_bytes(piece));
        if (!written) write_error = std::move(written).error();
        return written.has_value();
      },
      complete, outcome.bytes_in);
  if (ec) co_return Outcome{{}, outcome.bytes_in, 0, false};  // client gone: writer cleans up
  if (write_error) {
    auto sent = co_await send_text(stream, request, status_for(*write_error),
                                   error_body(*write_error), false);
    sent.bytes_in = outcome.bytes_in;
    co_return sent;
  }
  if (decompressor && !decompressor->at_frame_end()) {
    co_return co_await send_text(stream, request, http::status::bad_request,
                                 "the zstd body ends in the middle of a frame\n", !stopping);
  }
  auto committed = writer->commit();
  Result<void> indexed = ok();
  if (committed && route.kind == RouteKind::ac) {
    indexed = cache->put_digest(cache::Keyspace::raw, lower, *committed);
  }
  const Error* failure = !committed ? &committed.error() : !indexed ? &indexed.error() : nullptr;
  auto sent = failure != nullptr
                  ? co_await send_text(stream, request, status_for(*failure), error_body(*failure),
                                       !stopping)
                  : co_await send_text(stream, request, http::status::ok, "", !stopping);
  sent.bytes_in = outcome.bytes_in;
  co_return sent;
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
    support::log(spdlog::level::warn, "http: requests still running at the shutdown deadline",
                 {{"connections", impl.connections.size()}});
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
