// GrpcChannel (cache/src/grpc_call.h) against Forge's own REAPI v2 gRPC server on 127.0.0.1:
// a client stream of known size ends with its last message, so a server that answers on
// that message (as ByteStream.Write servers do on finish_write) never races the stream's
// end; a source that gives more or fewer bytes than it declared, or declares nothing, is an
// error, not a hang.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "forge/cache/wire.h"
#include "forge/core/hash/digest.h"
#include "forge/test/temp_dir.h"
#include "grpc_call.h"
#include "upstream_test_support.h"

namespace forge::cache {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view k_write = "google.bytestream.ByteStream/Write";

class GrpcCallTest : public ::testing::Test {
 protected:
  GrpcChannel channel() const {
    UpstreamOptions options;
    options.connections = 1;
    options.connect_timeout = 2s;
    options.request_timeout = 10s;
    return GrpcChannel(options, fmt::format("http://127.0.0.1:{}", m_server.port()), false, {});
  }

  // The WriteRequests that upload `blob` in `pieces` parts.
  static std::vector<std::string> write_requests(const std::string& blob, std::size_t pieces) {
    const std::string resource =
        fmt::format("uploads/{}/blobs/{}/{}", "5c1e", hash::sha256_of(blob).hex(), blob.size());
    std::vector<std::string> out;
    const std::size_t step = blob.size() / pieces;
    for (std::size_t i = 0; i < pieces; ++i) {
      const std::size_t offset = i * step;
      const std::size_t end = i + 1 == pieces ? blob.size() : offset + step;
      WireWriter request;
      if (i == 0) request.bytes_field(1, resource);
      if (offset != 0) request.varint_field(2, offset);
      if (end == blob.size()) request.varint_field(3, 1);
      request.bytes_field(10, std::string_view(blob).substr(offset, end - offset));
      out.push_back(request.take());
    }
    return out;
  }

  // A source over `messages` that counts how often it is asked for the next one.
  static GrpcMessageSource source_of(const std::vector<std::string>& messages, std::size_t& asked,
                                     std::int64_t declared) {
    return GrpcMessageSource{.next = [&messages, &asked]() -> Result<std::optional<std::string>> {
                               const std::size_t i = asked++;
                               if (i >= messages.size()) return std::optional<std::string>();
                               return std::optional<std::string>(messages[i]);
                             },
                             .restart =
                                 [&asked] {
                                   asked = 0;
                                   return true;
                                 },
                             .message_bytes = declared,
                             .message_count = messages.size()};
  }

  static std::int64_t total_size(const std::vector<std::string>& messages) {
    std::int64_t total = 0;
    for (const auto& message : messages) total += static_cast<std::int64_t>(message.size());
    return total;
  }

  test::TempDir m_dir;
  test::GrpcUpstreamServer m_server{m_dir / "server"};
};

TEST_F(GrpcCallTest, AStreamOfKnownSizeEndsWithItsLastMessage) {
  const std::string blob(600u << 10, 'w');
  const auto messages = write_requests(blob, 3);
  std::size_t asked = 0;
  auto reply = channel().client_stream(k_write, source_of(messages, asked, total_size(messages)));
  ASSERT_TRUE(reply) << reply.error().to_string();
  ASSERT_TRUE(reply->status.ok()) << reply->status.message;
  // The stream ended with the last message's bytes: the source was never asked for an end.
  EXPECT_EQ(asked, messages.size());
  WireReader response(reply->message, "WriteResponse");
  auto field = response.next();
  ASSERT_TRUE(field) << field.error().to_string();
  EXPECT_EQ(field->number, 1u);
  EXPECT_EQ(field->varint, blob.size());
  EXPECT_EQ(m_server.cas().get(BlobDigest{hash::sha256_of(blob), blob.size()}).value(), blob);
}

TEST_F(GrpcCallTest, ASourceThatBreaksItsDeclaredSizeIsAnErrorNotAHang) {
  const std::string blob(300u << 10, 's');
  const auto messages = write_requests(blob, 2);
  const auto try_declared = [&](std::int64_t declared) {
    std::size_t asked = 0;
    auto reply = channel().client_stream(k_write, source_of(messages, asked, declared));
    ASSERT_FALSE(reply);
    EXPECT_NE(reply.error().message().find("declare"), std::string::npos)
        << reply.error().to_string();
  };
  // Declared short: the last message never leaves, so nothing is committed.
  try_declared(total_size(messages) - 7);
  EXPECT_FALSE(m_server.cas().get(BlobDigest{hash::sha256_of(blob), blob.size()}).value());
  // Declared long: the source ends early.
  try_declared(total_size(messages) + 7);
  // Not declared at all.
  try_declared(-1);
}

}  // namespace
}  // namespace forge::cache
