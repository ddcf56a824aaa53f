// The request handlers of HttpServer: authorization, dispatch by route, and GET/HEAD.
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include <fmt/format.h>
#include <boost/asio/redirect_error.hpp>

#include "entry_key.h"
#include "forge/core/hash/digest.h"
#include "forge/core/support/metrics.h"
#include "forge/core/support/unique_fd.h"
#include "http_body.h"
#include "http_headers.h"
#include "http_response.h"
#include "http_server_impl.h"

namespace forge::bazel_remote {

std::string HttpServer::Impl::unknown_route_text(std::string_view target) const {
  const auto shown = target.substr(0, 200);
  if (!routes.raw_prefix) {
    return fmt::format(
        "no such resource: {}; use /cas/<sha256>, /ac/<sha256>, /status, "
        "/metrics or /healthz (raw entries are off: --raw-prefix off)\n",
        shown);
  }
  return fmt::format(
      "no such resource: {}; use /cas/<sha256>, /ac/<sha256>, /status, "
      "/metrics, /healthz or a raw entry {}<name> (--raw-prefix)\n",
      shown, *routes.raw_prefix);
}

template <typename Stream>
Task<Outcome> HttpServer::Impl::handle(Stream& stream, Connection& connection,
                                       beast::flat_buffer& buffer, Parser& parser,
                                       const Route& route) {
  const auto& message = parser.get();
  const RequestInfo request{message.version(), message.keep_alive(),
                            message.method() == http::verb::head,
                            accepts_coding(view(message[http::field::accept_encoding]), "zstd")};
  // A body this server cannot decode cannot be skipped either: answer and close.
  if (const auto codings = message.count(http::field::transfer_encoding); codings > 0) {
    if (codings > 1 || !is_plain_chunked(view(message[http::field::transfer_encoding]))) {
      co_return co_await send_text(
          stream, request, http::status::not_implemented,
          fmt::format("Transfer-Encoding '{}' is not supported; send the body with "
                      "Content-Length or plain 'Transfer-Encoding: chunked'\n",
                      view(message[http::field::transfer_encoding]).substr(0, 100)),
          false);
    }
  }
  // Only PUT takes a body. Any other request's body is read and dropped (within a bound),
  // never left in the buffer to be parsed as the next request (request smuggling).
  bool body_pending = !parser.is_done();
  if (body_pending && message.method() != http::verb::put) {
    std::uint64_t dropped = 0;
    const Drained drained =
        co_await discard_body(stream, buffer, parser, k_discarded_body_limit, dropped);
    switch (drained) {
      case Drained::whole: body_pending = false; break;
      case Drained::too_large:
        co_return co_await send_text(
            stream, request, http::status::bad_request,
            fmt::format("a {} request carries a body of more than {} bytes; send no body\n",
                        view(message.method_string()).substr(0, 20), k_discarded_body_limit),
            false);
      case Drained::malformed:
        co_return co_await send_text(stream, request, http::status::bad_request,
                                     "malformed chunked body\n", false);
      case Drained::failed:
      default: co_return Outcome{http::status::bad_request, dropped, 0, false};
    }
  }
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
  const bool read_only_endpoint =
      route.kind == RouteKind::healthz || route.kind == RouteKind::metrics ||
      route.kind == RouteKind::status || route.kind == RouteKind::turbo_status;
  if (read_only_endpoint && message.method() != http::verb::get &&
      message.method() != http::verb::head) {
    co_return co_await send_method_not_allowed(stream, request, "GET, HEAD", keep);
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
    case RouteKind::turbo_status:
      // Turborepo asks before a run whether remote caching is on.
      co_return co_await send_text(stream, request, http::status::ok, "{\"status\":\"enabled\"}",
                                   keep, "application/json");
    case RouteKind::turbo_events:
      // Turborepo reports its cache hits and misses here; they are not kept (the server's
      // own metrics count what it served).
      if (message.method() != http::verb::post) {
        co_return co_await send_method_not_allowed(stream, request, "POST", keep);
      }
      co_return co_await send_text(stream, request, http::status::ok, "", keep);
    case RouteKind::unknown:
      co_return co_await send_text(stream, request, http::status::not_found,
                                   unknown_route_text(view(message.target())), keep);
    case RouteKind::cas:
    case RouteKind::ac:
      if (!hash::is_hex64(route.hash)) {
        co_return co_await send_text(stream, request, http::status::bad_request,
                                     fmt::format("'{}' is not a SHA-256: expected 64 hex digits\n",
                                                 route.hash.substr(0, 100)),
                                     keep);
      }
      break;
    case RouteKind::raw:
    case RouteKind::turbo_artifact: break;
  }
  switch (message.method()) {
    case http::verb::get: co_return co_await handle_get(stream, connection, request, route, false);
    case http::verb::head: co_return co_await handle_get(stream, connection, request, route, true);
    case http::verb::put: co_return co_await handle_put(stream, buffer, parser, route);
    default: co_return co_await send_method_not_allowed(stream, request, "GET, HEAD, PUT", keep);
  }
}

template <typename Stream>
Task<Outcome> HttpServer::Impl::handle_get(Stream& stream, Connection& connection,
                                           const RequestInfo& request, const Route& route,
                                           bool head) {
  const bool keep = !stopping;
  // cas and ac: the hash in lower case (handle() checked it is 64 hex digits).
  const bool hashed = route.kind == RouteKind::cas || route.kind == RouteKind::ac;
  std::array<char, 64> lower_hex{};
  if (hashed) {
    std::transform(route.hash.begin(), route.hash.end(), lower_hex.begin(), [](char c) {
      return static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
    });
  }
  const std::string_view lower(lower_hex.data(), hashed ? lower_hex.size() : 0);
  auto opened = [&]() -> Result<std::optional<cache::BlobReader>> {
    if (route.kind == RouteKind::cas) {
      FORGE_TRY(const auto sha, hash::Digest::parse(hash::Algorithm::sha256, lower));
      return cache->cas().open_blob(sha);  // one index lookup, counted as a cas hit or miss
    }
    const auto space = route.kind == RouteKind::ac && !options.ac_uses_raw ? cache::Keyspace::ac
                                                                           : cache::Keyspace::raw;
    FORGE_TRY(auto found, cache->lookup(space, route.key));  // counted by the action cache
    if (!found) return std::optional<cache::BlobReader>();
    return cache->cas().open_blob(*found, /*keyspace=*/{});
  }();
  if (!opened) {
    co_return co_await send_text(stream, request, status_for(opened.error()),
                                 error_body(opened.error()), keep);
  }
  auto& reader = *opened;
  // What a miss names: "blob <hex>", "action <hex>", "entry <path>", "artifact <hash>".
  std::string subject;
  switch (route.kind) {
    case RouteKind::cas: subject = fmt::format("blob {}", lower); break;
    case RouteKind::ac: subject = fmt::format("action {}", lower); break;
    case RouteKind::raw: subject = fmt::format("entry {}", route.path.substr(0, 200)); break;
    default: subject = fmt::format("artifact {}", route.hash.substr(0, 200));
  }
  if (!reader) {
    co_return co_await send_text(stream, request, http::status::not_found,
                                 subject + " is not in the cache\n", keep);
  }
  const std::uint64_t size = reader->size();
  // A signed Turborepo artifact carries its tag back (an unsigned one has none; a tag that
  // is not a valid header value is left out, which Turborepo treats as unverified: a miss).
  std::string tag;
  if (route.kind == RouteKind::turbo_artifact) {
    auto stored = cache->get_uncounted(cache::Keyspace::raw, route.tag_key);
    if (stored && stored->has_value() && is_valid_artifact_tag(stored->value())) {
      tag = std::move(stored->value());
    }
  }
  // Corrupt bytes are never served: a body held in memory is checked before it is sent, a
  // streamed one is checked in full first (the page cache serves the second read). A blob
  // that fails is quarantined by the check and answered as a miss, so the client uploads it
  // again. HEAD answers from the index alone.
  const auto corrupt_miss = [&](const Error& error) {
    return send_text(stream, request,
                     cache::is_corrupt_blob(error) ? http::status::not_found : status_for(error),
                     fmt::format("{} is not in the cache: {}\n", subject, error.message()), keep);
  };
  if (!head && size > k_in_memory_response_limit) {
    if (auto checked = reader->verify_all(); !checked) {
      co_return co_await corrupt_miss(checked.error());
    }
  }
  if (request.accepts_zstd && route.kind == RouteKind::cas && !head) {
    if (size <= k_in_memory_response_limit) {
      if (auto checked = reader->verify_all(); !checked) {
        co_return co_await corrupt_miss(checked.error());
      }
    }
    co_return co_await send_zstd(stream, request, *reader, keep);
  }
  if (head) {
    http::response<http::empty_body> response{http::status::ok, request.version};
    response.set(http::field::server, "forge");
    response.set(http::field::content_type, "application/octet-stream");
    response.content_length(size);
    if (!tag.empty()) response.set("x-artifact-tag", tag);
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
    auto check = reader->verifier();
    check.update(std::as_bytes(std::span(body.data(), size)));
    if (auto checked = check.finish(); !checked) co_return co_await corrupt_miss(checked.error());
    reader.reset();  // unpin and close before the network wait
    BlobHead head{};
    const std::size_t head_size =
        format_blob_head(head, request.version, size, outcome.keep_alive,
                         tag.empty() ? std::string() : fmt::format("x-artifact-tag: {}\r\n", tag));
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
  if (!tag.empty()) response.set("x-artifact-tag", tag);
  response.keep_alive(outcome.keep_alive);
  UniqueFd copy(::dup(reader->fd()));
  beast::error_code ec;
  if (!copy) {
    ec = beast::error_code(errno, beast::system_category());
  } else {
    beast::file_posix file;
    file.native_handle(copy.release());  // the file owns it from here
    response.body().reset(std::move(file), ec);
  }
  if (ec) {
    co_return co_await send_text(stream, request, http::status::internal_server_error,
                                 fmt::format("cannot read blob: {}\n", ec.message()), false);
  }
  response.prepare_payload();
  if (auto write_ec = co_await write_message(stream, response); write_ec)
    outcome.keep_alive = false;
  co_return outcome;
}

template Task<Outcome> HttpServer::Impl::handle<Socket>(Socket&, Connection&, beast::flat_buffer&,
                                                        Parser&, const Route&);
template Task<Outcome> HttpServer::Impl::handle<TlsStream>(TlsStream&, Connection&,
                                                           beast::flat_buffer&, Parser&,
                                                           const Route&);

}  // namespace forge::bazel_remote
