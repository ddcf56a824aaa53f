#pragma once
// GrpcChannel: gRPC calls over HTTP/2 made with libcurl (CurlClient), for the grpc:// and
// grpcs:// upstream (upstream_grpc.cpp). Internal to forge_cache.
//
// Why not grpc++: cache/ must not depend on the REAPI code generated in
// plugins/bazel-remote, and `forge` (the CLI that runs `forge cache push/pull` and
// `forge cas download --remote`) links neither gRPC nor protobuf, whose start-up cost every
// command would pay (cli/serve_launcher.cpp). gRPC's wire protocol is small: a POST of
// length-prefixed messages (u8 compressed = 0 | u32 BE length | message) over HTTP/2 —
// h2c with prior knowledge for grpc://, ALPN h2 over TLS for grpcs:// — with the outcome in
// the grpc-status / grpc-message trailers (or headers, for a trailers-only reply). Messages
// are written with WireWriter and read with WireReader (wire.h). The connection pool,
// timeouts and TLS options are CurlClient's, as for the other upstreams (Property 26).
//
// - unary() and client_stream() return the one reply message; server_stream() hands each
//   reply message to a sink as it arrives (a large ByteStream read never sits in memory).
// - A reply message over k_max_grpc_message bytes, a compressed one (Forge never offers
//   compression), a torn frame or a reply without grpc-status is an error.
// - Errors: transport failures as CurlClient reports them (upstream.h); a non-OK status
//   comes back in GrpcStatus for the caller to read (NOT_FOUND is a miss), and
//   grpc_error() turns it into an Error with upstream.h's categories.
// Thread-safe (CurlClient is).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "upstream_curl.h"

namespace forge::cache {

// The codes of google.rpc.Code that the upstream tells apart.
enum class GrpcCode : int {
  ok = 0,
  deadline_exceeded = 4,
  not_found = 5,
  already_exists = 6,
  permission_denied = 7,
  resource_exhausted = 8,
  aborted = 10,
  internal = 13,
  unavailable = 14,
  unauthenticated = 16,
};

struct GrpcStatus {
  int code = 0;
  std::string message;
  bool ok() const { return code == 0; }
  bool is(GrpcCode c) const { return code == static_cast<int>(c); }
};

struct GrpcReply {
  GrpcStatus status;
  std::string message;  // the reply message (empty unless status is OK)
};

// Receives each reply message of a call; an error aborts the call.
using GrpcMessageSink = std::function<Result<void>(std::string_view message)>;

// A client stream's request messages: next() gives the following one, nullopt after the
// last; restart() starts over from the first (libcurl resends a request whose reused
// connection had died) and returns false when it cannot. message_bytes and message_count:
// the sum of the messages' sizes and their number, declared in advance, so that the stream
// ends with its last byte (BodySource::length) and a server that answers on the last
// message (ByteStream.Write on finish_write) never races the end of the stream. A source
// without them, or whose messages add up to another size, is an error.
struct GrpcMessageSource {
  std::function<Result<std::optional<std::string>>()> next;
  std::function<bool()> restart;
  std::int64_t message_bytes = -1;
  std::size_t message_count = 0;
};

// Reply messages are at most this large: ByteStream chunks and single-blob batches are far
// smaller (gRPC servers default to 4 MiB), and an action result is at most 16 MiB.
inline constexpr std::size_t k_max_grpc_message = 64u << 20;

class GrpcChannel {
 public:
  // base: http://HOST[:PORT] (grpc://) or https://HOST[:PORT] (grpcs://). metadata: extra
  // request headers ("authorization: Bearer ...").
  GrpcChannel(const UpstreamOptions& options, std::string base, bool tls,
              std::vector<std::string> metadata);

  // method: "package.Service/Method".
  Result<GrpcReply> unary(std::string_view method, std::string_view request);
  Result<GrpcStatus> server_stream(std::string_view method, std::string_view request,
                                   const GrpcMessageSink& sink);
  Result<GrpcReply> client_stream(std::string_view method, const GrpcMessageSource& source);

  std::size_t live_connections() const { return m_client.live_connections(); }

 private:
  // body: a streamed request; else whole is the entire request.
  Result<GrpcStatus> call(std::string_view method, const BodySource* body, std::string_view whole,
                          const GrpcMessageSink& sink);

  CurlClient m_client;
  std::string m_base;
  bool m_tls;
  std::vector<std::string> m_metadata;
  std::chrono::milliseconds m_timeout;
};

// The Error for a non-OK status (upstream.h's categories: UNAVAILABLE, DEADLINE_EXCEEDED,
// RESOURCE_EXHAUSTED, ABORTED and INTERNAL are retryable; UNAUTHENTICATED and
// PERMISSION_DENIED are Configuration errors naming the token; the rest Validation).
Error grpc_error(const GrpcStatus& status, std::string_view method, std::string_view where);

// One length-prefixed message, as it goes on the wire.
std::string grpc_frame(std::string_view message);

}  // namespace forge::cache
