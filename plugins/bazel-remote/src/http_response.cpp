#include "http_response.h"

#include <cerrno>

#include <fmt/format.h>

namespace forge::bazel_remote {

http::status status_for(const Error& error) {
  if (error.code() == ENOSPC || error.code() == EDQUOT) return http::status::insufficient_storage;
  if (error.code() == EFBIG) return http::status::payload_too_large;
  switch (error.category()) {
    case ErrorCategory::validation: return http::status::bad_request;
    case ErrorCategory::timeout: return http::status::gateway_timeout;
    default: return http::status::internal_server_error;
  }
}

bool is_parse_error(const beast::error_code& ec) {
  static const auto& http_category =
      beast::http::make_error_code(http::error::bad_target).category();
  return ec.category() == http_category && ec != http::error::end_of_stream &&
         ec != http::error::partial_message && ec != http::error::need_more &&
         ec != http::error::need_buffer;
}

std::optional<http::status> status_for_bad_head(const beast::error_code& ec,
                                                bool request_line_complete) {
  if (!is_parse_error(ec)) return std::nullopt;
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
    return request_line_complete ? http::status::request_header_fields_too_large
                                 : http::status::uri_too_long;
  }
  return http::status::bad_request;
}

std::string error_body(const Error& error) {
  std::string body = error.summary();
  for (const auto& suggestion : error.suggestions()) body += "; " + suggestion;
  return body + "\n";
}

std::size_t format_blob_head(BlobHead& out, unsigned version, std::uint64_t size, bool keep_alive,
                             std::string_view extra_headers) {
  if (extra_headers.size() > k_max_extra_headers) extra_headers = {};
  const std::string_view connection = version >= 11
                                          ? (keep_alive ? "" : "Connection: close\r\n")
                                          : (keep_alive ? "Connection: keep-alive\r\n" : "");
  const auto result = fmt::format_to_n(out.data(), out.size(),
                                       "HTTP/{}.{} 200 OK\r\nServer: forge\r\nContent-Type: "
                                       "application/octet-stream\r\nContent-Length: {}\r\n{}{}\r\n",
                                       version / 10, version % 10, size, connection, extra_headers);
  return result.size;
}

}  // namespace forge::bazel_remote
