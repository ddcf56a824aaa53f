// GrpcChannel: gRPC over libcurl's HTTP/2 (grpc_call.h).
#include "grpc_call.h"

#include <algorithm>
#include <cerrno>
#include <charconv>

#include <fmt/format.h>

namespace forge::cache {
namespace {

constexpr std::size_t k_frame_header = 5;  // u8 compressed | u32 BE length

// Splits a reply body into messages as it arrives; at most one partial message is kept.
class FrameReader {
 public:
  FrameReader(const GrpcMessageSink& sink, std::string_view where) : m_sink(sink), m_where(where) {}

  Result<void> feed(std::span<const std::byte> data) {
    m_buffer.append(reinterpret_cast<const char*>(data.data()), data.size());
    std::size_t pos = 0;
    while (m_buffer.size() - pos >= k_frame_header) {
      const auto* header = reinterpret_cast<const unsigned char*>(m_buffer.data() + pos);
      const std::size_t length = (std::size_t{header[1]} << 24) | (std::size_t{header[2]} << 16) |
                                 (std::size_t{header[3]} << 8) | std::size_t{header[4]};
      if (header[0] != 0) return fail(bad("a compressed message, which was not asked for"));
      if (length > k_max_grpc_message) {
        return fail(
            bad(fmt::format("a message of {} bytes (at most {})", length, k_max_grpc_message)));
      }
      if (m_buffer.size() - pos - k_frame_header < length) break;
      FORGE_TRY_VOID(m_sink(std::string_view(m_buffer).substr(pos + k_frame_header, length)));
      pos += k_frame_header + length;
    }
    m_buffer.erase(0, pos);
    return ok();
  }

  Result<void> finish() const {
    if (m_buffer.empty()) return ok();
    return fail(bad(fmt::format("{} bytes of a torn message at the end", m_buffer.size())));
  }

 private:
  Error bad(std::string_view what) const {
    return Error(ErrorCategory::network, fmt::format("gRPC upstream {} answered {}", m_where, what),
                 EPROTO)
        .with_suggestion("check that the upstream URL points at a REAPI v2 gRPC cache");
  }
  const GrpcMessageSink& m_sink;
  std::string_view m_where;
  std::string m_buffer;
};

// grpc-message is percent-encoded (gRPC over HTTP/2, "Responses").
std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned value = 0;
    if (text[i] == '%' && i + 2 < text.size() &&
        std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16).ptr ==
            text.data() + i + 3) {
      out.push_back(static_cast<char>(value));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace

std::string grpc_frame(std::string_view message) {
  std::string out;
  out.reserve(k_frame_header + message.size());
  out.push_back('\0');
  const auto length = static_cast<std::uint32_t>(message.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(length >> shift));
  out.append(message);
  return out;
}

GrpcChannel::GrpcChannel(const UpstreamOptions& options, std::string base, bool tls,
                         std::vector<std::string> metadata)
    : m_client(options),
      m_base(std::move(base)),
      m_tls(tls),
      m_metadata(std::move(metadata)),
      m_timeout(options.request_timeout) {}

Result<GrpcStatus> GrpcChannel::call(std::string_view method, const BodySource* body,
                                     std::string_view whole, const GrpcMessageSink& sink) {
  CurlRequest request{.method = CurlRequest::Method::post,
                      .url = fmt::format("{}/{}", m_base, method)};
  request.http = m_tls ? CurlRequest::Http::h2_tls : CurlRequest::Http::h2_prior_knowledge;
  request.headers = {
      "content-type: application/grpc", "te: trailers", "grpc-accept-encoding: identity",
      // The server gives up when the client does (at most 8 digits).
      fmt::format("grpc-timeout: {}m", std::min<std::int64_t>(m_timeout.count(), 99'999'999))};
  request.headers.insert(request.headers.end(), m_metadata.begin(), m_metadata.end());
  request.source = body;
  request.post_body = whole;
  request.keep_headers = true;
  FrameReader frames(sink, request.url);
  const BodySink on_body = [&](std::span<const std::byte> data) { return frames.feed(data); };
  request.sink = &on_body;
  FORGE_TRY(auto response, m_client.perform(request));
  if (response.status != 200) return fail(status_error(response, "POST", request.url));
  GrpcStatus status;
  bool answered = false;
  for (const auto& [name, value] : response.headers) {
    if (name == "grpc-status") {
      answered =
          std::from_chars(value.data(), value.data() + value.size(), status.code).ec == std::errc();
    } else if (name == "grpc-message") {
      status.message = percent_decode(value);
    }
  }
  if (!answered) {
    return fail(Error(ErrorCategory::network,
                      fmt::format("gRPC call {} ended without a grpc-status", request.url),
                      ECONNRESET)
                    .with_suggestion("the stream broke or the upstream is not a gRPC server; "
                                     "it is retried with backoff"));
  }
  if (status.ok()) FORGE_TRY_VOID(frames.finish());
  return status;
}

Result<GrpcReply> GrpcChannel::unary(std::string_view method, std::string_view request) {
  const std::string body = grpc_frame(request);
  GrpcReply reply;
  std::size_t messages = 0;
  const GrpcMessageSink sink = [&](std::string_view message) -> Result<void> {
    if (messages++ == 0) reply.message = std::string(message);
    return ok();
  };
  FORGE_TRY(reply.status, call(method, nullptr, body, sink));
  if (!reply.status.ok()) reply.message.clear();
  return reply;
}

Result<GrpcStatus> GrpcChannel::server_stream(std::string_view method, std::string_view request,
                                              const GrpcMessageSink& sink) {
  const std::string body = grpc_frame(request);
  return call(method, nullptr, body, sink);
}

Result<GrpcReply> GrpcChannel::client_stream(std::string_view method,
                                             const GrpcMessageSource& messages) {
  // The frames of the messages, handed to libcurl as it asks for bytes.
  if (messages.message_bytes < 0) {
    return fail(Error(ErrorCategory::unknown,
                      fmt::format("the {} request stream did not declare its size", method), EINVAL)
                    .with_suggestion("report this as a Forge bug"));
  }
  const std::int64_t length =
      messages.message_bytes + static_cast<std::int64_t>(k_frame_header * messages.message_count);
  std::string pending;
  std::size_t pos = 0;
  std::int64_t produced = 0;
  bool ended = false;
  const auto mismatch = [&] {
    return Error(ErrorCategory::unknown,
                 fmt::format("the {} request stream gave {} bytes where {} were declared", method,
                             produced, length),
                 EPROTO)
        .with_suggestion("report this as a Forge bug");
  };
  const BodySource source{.read = [&](std::span<char> out) -> Result<std::size_t> {
                            while (pos == pending.size() && !ended) {
                              FORGE_TRY(auto next, messages.next());
                              pending = next ? grpc_frame(*next) : std::string();
                              pos = 0;
                              ended = !next;
                              produced += static_cast<std::int64_t>(pending.size());
                              if (produced > length || (ended && produced != length)) {
                                return fail(mismatch());
                              }
                            }
                            const std::size_t n = std::min(out.size(), pending.size() - pos);
                            std::copy_n(pending.data() + pos, n, out.data());
                            pos += n;
                            return n;
                          },
                          .restart =
                              [&] {
                                if (!messages.restart || !messages.restart()) return false;
                                pending.clear();
                                pos = 0;
                                produced = 0;
                                ended = false;
                                return true;
                              },
                          .length = length};
  GrpcReply reply;
  const GrpcMessageSink sink = [&](std::string_view message) -> Result<void> {
    if (reply.message.empty()) reply.message = std::string(message);
    return ok();
  };
  FORGE_TRY(reply.status, call(method, &source, {}, sink));
  if (!reply.status.ok()) reply.message.clear();
  return reply;
}

Error grpc_error(const GrpcStatus& status, std::string_view method, std::string_view where) {
  const std::string message =
      fmt::format("gRPC upstream {} answered {} to {}{}{}", where, status.code, method,
                  status.message.empty() ? "" : ": ", status.message.substr(0, 200));
  const std::string operation =
      fmt::format("upstream.grpc.{}", method.substr(method.rfind('/') + 1));
  switch (static_cast<GrpcCode>(status.code)) {
    case GrpcCode::deadline_exceeded:
      return Error(ErrorCategory::timeout, message, ETIMEDOUT)
          .with_operation(operation)
          .with_suggestion("the upstream is slow or overloaded; it is retried with backoff");
    case GrpcCode::unavailable:
    case GrpcCode::resource_exhausted:
    case GrpcCode::aborted:
    case GrpcCode::internal:
      return Error(ErrorCategory::network, message, EAGAIN)
          .with_operation(operation)
          .with_suggestion("the upstream is failing or overloaded; it is retried with backoff");
    case GrpcCode::unauthenticated:
    case GrpcCode::permission_denied:
      return Error(ErrorCategory::configuration, message, EACCES)
          .with_operation(operation)
          .with_suggestion(
              "check the upstream's bearer token (FORGE_UPSTREAM_TOKEN_FILE or "
              "FORGE_UPSTREAM_TOKEN) and TLS client certificate");
    default:
      return Error(ErrorCategory::validation, message, EPROTO)
          .with_operation(operation)
          .with_suggestion("check that the upstream URL points at a REAPI v2 cache");
  }
}

}  // namespace forge::cache
