#pragma once
// Reading request bodies of the HTTP cache server: Content-Length bodies straight from the
// socket in big chunks, chunked bodies through Beast's parser. Internal to forge_bazel_remote.
//
// Memory: one k_chunk_size buffer per call (a BodyChunk, reused across calls), whatever the
// body's size.
// Threading: runs on the connection's thread.

#include <algorithm>
#include <cstdint>
#include <span>

#include <boost/asio/redirect_error.hpp>

#include "body_chunk.h"
#include "http_common.h"
#include "http_response.h"

namespace forge::bazel_remote {

// Reads the rest of the body, handing each piece to sink (returns false to stop early).
// Returns the transport error, if any; `complete` says whether the body was read entirely;
// `bytes` grows by the body bytes read.
template <typename Stream, typename Sink>
Task<beast::error_code> read_body(Stream& stream, beast::flat_buffer& buffer, Parser& parser,
                                  Sink&& sink, bool& complete, std::uint64_t& bytes) {
  BodyChunk chunk;
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

// After read_body failed with `ec`: a 400 (connection closed) when the body's framing was
// not valid HTTP; otherwise (transport failure) nothing can be sent.
template <typename Stream>
Task<Outcome> body_failed(Stream& stream, const RequestInfo& request, const beast::error_code& ec,
                          std::uint64_t bytes_in) {
  if (!is_parse_error(ec)) co_return Outcome{http::status::bad_request, bytes_in, 0, false};
  auto sent = co_await send_text(stream, request, http::status::bad_request,
                                 fmt::format("malformed request body: {}\n", ec.message()), false);
  sent.bytes_in = bytes_in;
  co_return sent;
}

enum class Drained : std::uint8_t { whole, too_large, malformed, failed };

// Reads and drops the rest of a body that no handler wants, if it is at most `limit` bytes
// (a Content-Length above it is refused unread: too_large). malformed: the chunked framing
// was invalid; failed: the transport failed. Only `whole` leaves the connection usable.
template <typename Stream>
Task<Drained> discard_body(Stream& stream, beast::flat_buffer& buffer, Parser& parser,
                           std::uint64_t limit, std::uint64_t& bytes) {
  if (!parser.chunked() && parser.content_length() && *parser.content_length() > limit) {
    co_return Drained::too_large;
  }
  bool complete = false;
  bool too_large = false;
  const auto ec = co_await read_body(
      stream, buffer, parser,
      [&](std::span<const char>) {
        too_large = bytes > limit;
        return !too_large;
      },
      complete, bytes);
  if (too_large) co_return Drained::too_large;
  if (ec) co_return is_parse_error(ec) ? Drained::malformed : Drained::failed;
  co_return complete ? Drained::whole : Drained::failed;
}

}  // namespace forge::bazel_remote
