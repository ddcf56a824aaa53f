#pragma once
// Writing responses of the HTTP cache server: text answers, the fixed head of a blob, and a
// blob compressed on the fly. Internal to forge_bazel_remote.
//
// Every writer returns an Outcome whose keep_alive is false when the write failed (the
// connection must then close). Threading: runs on the connection's thread.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <boost/asio/redirect_error.hpp>

#include "forge/cache/cas_store.h"
#include "http_common.h"
#include "zstd_stream.h"

namespace forge::bazel_remote {

// The head of a 200 blob response. Its fields are fixed, so it is formatted directly instead
// of through Beast's field container (an allocation per field, on the hottest path).
// `extra_headers`: complete "Name: value\r\n" lines to add (at most k_max_extra_headers bytes;
// longer ones are left out, so the caller bounds what it passes).
inline constexpr std::size_t k_max_extra_headers = 320;
using BlobHead = std::array<char, 160 + k_max_extra_headers>;
std::size_t format_blob_head(BlobHead& out, unsigned version, std::uint64_t size, bool keep_alive,
                             std::string_view extra_headers = {});

template <typename Stream, typename Body>
Task<beast::error_code> write_message(Stream& stream, http::response<Body>& response) {
  beast::error_code ec;
  co_await http::async_write(stream, response, asio::redirect_error(use_task, ec));
  co_return ec;
}

// A text response; `keep_alive` is and-ed with what the request asked for.
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

// 405 with an Allow header listing `allowed` ("GET, HEAD").
template <typename Stream>
Task<Outcome> send_method_not_allowed(Stream& stream, const RequestInfo& request,
                                      std::string_view allowed, bool keep_alive) {
  http::response<http::string_body> response{http::status::method_not_allowed, request.version};
  response.set(http::field::server, "forge");
  response.set(http::field::allow, beast::string_view(allowed.data(), allowed.size()));
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.keep_alive(keep_alive && request.keep_alive);
  response.body() = fmt::format("method not allowed here; use {}\n", allowed);
  const std::uint64_t size = response.body().size();
  response.prepare_payload();
  if (request.head) response.body().clear();
  Outcome outcome{http::status::method_not_allowed, 0, size, response.keep_alive()};
  if (auto ec = co_await write_message(stream, response); ec) outcome.keep_alive = false;
  co_return outcome;
}

// The answer to a request whose head could not be parsed (`ec` from reading it), or nullopt
// when there is nobody to answer (the peer closed, the read was cancelled or timed out).
// `request_line_complete`: whether the bytes read so far hold a whole request line
// (distinguishes 414 from 431 when the head is too long).
std::optional<http::status> status_for_bad_head(const beast::error_code& ec,
                                                bool request_line_complete);
// Whether `ec` says the bytes were not valid HTTP (as opposed to a transport failure).
bool is_parse_error(const beast::error_code& ec);

// Sends a blob zstd-compressed on the fly as a chunked response: memory stays at one chunk.
// A read error after the head went out cuts the connection (a 200 cannot carry an error).
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

}  // namespace forge::bazel_remote
