#pragma once
// The types every part of the HTTP cache server shares (see http_server.h for the contract):
// the Asio/Beast aliases, what a handler reports about a request, and how a store error maps
// to a status. Internal to forge_bazel_remote.
//
// Threading: each I/O thread runs its own single-threaded io_context (nginx's worker model):
// a connection lives on one thread from accept to close, so it needs no strand and no locks,
// and the concrete executor type spares every operation the type-erased any_io_executor.

#include <chrono>
#include <cstdint>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "forge/core/support/error.h"

namespace forge::bazel_remote {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using TlsStream = beast::ssl_stream<Socket&>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>, Executor>;
template <typename T>
using Task = asio::awaitable<T, Executor>;
inline constexpr asio::use_awaitable_t<Executor> use_task;

using Parser = http::request_parser<http::buffer_body>;

// Bodies move through buffers of this size (memory per connection stays at one chunk).
inline constexpr std::size_t k_chunk_size = 256 * 1024;
// Blobs up to this size are answered from a per-connection buffer in one gather write.
inline constexpr std::uint64_t k_in_memory_response_limit = 64 * 1024;

// A request head (request line and fields) may be this long; longer ones get 414 or 431.
inline constexpr std::size_t k_header_limit = 64 * 1024;
// The read buffer holds bytes read but not yet parsed: a request head, a chunk-size line with
// its extensions, the trailers. It never grows past this, so no line a client sends can grow
// the server's memory: a longer one fails the read and is answered 400 (431 for a head).
inline constexpr std::size_t k_read_buffer_limit = k_header_limit + 16 * 1024;
// A body on a request that takes none (GET, HEAD, ...) is read and dropped up to this size,
// keeping the connection; a larger one is refused with 400 and the connection closed.
inline constexpr std::uint64_t k_discarded_body_limit = 64 * 1024;

// What a handler did, for the access log, the metrics and the connection.
struct Outcome {
  http::status status = http::status::ok;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
  bool keep_alive = true;  // false when the request body was not (fully) read
};

// What a response needs to know about its request.
struct RequestInfo {
  unsigned version = 11;
  bool keep_alive = true;
  bool head = false;
  bool accepts_zstd = false;  // Accept-Encoding lists zstd
};

// The status for a store error: 507 when out of space, 400 for invalid input, 504 for a
// timeout, 500 otherwise.
http::status status_for(const Error& error);
// One line of text: the error's summary and its suggestions.
std::string error_body(const Error& error);

inline std::string_view view(beast::string_view text) {
  return {text.data(), text.size()};
}

}  // namespace forge::bazel_remote
