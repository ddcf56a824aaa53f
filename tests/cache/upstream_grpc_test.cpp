// The grpc:// and grpcs:// upstream against Forge's own REAPI v2 gRPC server, in-process on
// 127.0.0.1 over its own store: batches for small blobs, ByteStream for large ones, action
// results, raw entries, the instance name, a bearer token and TLS.
#include <fcntl.h>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "forge/cache/action_cache.h"
#include "forge/cache/upstream.h"
#include "forge/cache/wire.h"
#include "forge/core/hash/digest.h"
#include "forge/core/support/unique_fd.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"
#include "upstream_test_support.h"

namespace forge::cache {
namespace {

using namespace std::chrono_literals;

using test::GrpcUpstreamServer;

Result<std::unique_ptr<Upstream>> open(const std::string& url, UpstreamOptions options = {}) {
  options.url = url;
  options.connections = 2;
  options.connect_timeout = 2s;
  options.request_timeout = 30s;  // sanitizer builds on a loaded machine are slow
  return open_upstream(options);
}

Result<std::optional<std::string>> get(Upstream& upstream, UpstreamSpace space,
                                       const std::string& key,
                                       std::optional<std::uint64_t> size = {}) {
  std::string body;
  FORGE_TRY(auto found, upstream.get(
                            space, key,
                            [&](std::span<const std::byte> data) {
                              body.append(reinterpret_cast<const char*>(data.data()), data.size());
                              return ok();
                            },
                            size));
  if (!found) return std::nullopt;
  return body;
}

UploadBody bytes(std::string_view text) {
  return UploadBody{.bytes = text, .size = text.size(), .sha256_hex = hash::sha256_of(text).hex()};
}

// A REAPI ActionResult with one output file (OutputFile.path = 1, digest = 2).
std::string action_result(const BlobDigest& output) {
  WireWriter digest, file, result;
  digest.bytes_field(1, output.sha256.hex());
  digest.varint_field(2, output.size);
  file.bytes_field(1, "out/a.o");
  file.bytes_field(2, digest.bytes());
  result.bytes_field(2, file.bytes());
  return result.take();
}

class UpstreamGrpcTest : public ::testing::Test {
 protected:
  test::TempDir m_dir;
};

TEST_F(UpstreamGrpcTest, SmallBlobsGoInBatchesAndNeedTheirSize) {
  GrpcUpstreamServer server(m_dir / "upstream");
  auto upstream = open(server.url()).value();
  const std::string blob(5'000, 's');
  const auto body = bytes(blob);
  EXPECT_FALSE(upstream->contains(UpstreamSpace::cas, body.sha256_hex, blob.size()).value());
  EXPECT_EQ(get(*upstream, UpstreamSpace::cas, body.sha256_hex, blob.size()).value(), std::nullopt);
  ASSERT_TRUE(upstream->put(UpstreamSpace::cas, body.sha256_hex, body));
  EXPECT_TRUE(server.cas().contains(digest_of(blob)).value());
  EXPECT_TRUE(upstream->contains(UpstreamSpace::cas, body.sha256_hex, blob.size()).value());
  EXPECT_EQ(get(*upstream, UpstreamSpace::cas, body.sha256_hex, blob.size()).value(), blob);
  // The REAPI names a blob by hash and size: without the size there is nothing to ask.
  EXPECT_FALSE(upstream->contains(UpstreamSpace::cas, body.sha256_hex).value());
  EXPECT_EQ(get(*upstream, UpstreamSpace::cas, body.sha256_hex).value(), std::nullopt);
  EXPECT_LE(upstream->live_connections(), 2u);
}

TEST_F(UpstreamGrpcTest, ContainsManyAsksFindMissingBlobsInOneBatch) {
  GrpcUpstreamServer server(m_dir / "upstream");
  auto upstream = open(server.url()).value();
  std::vector<BlobDigest> digests;
  std::vector<bool> expected;
  for (int i = 0; i < 50; ++i) {
    const std::string blob = "blob " + std::to_string(i);
    digests.push_back(digest_of(blob));
    expected.push_back(i % 3 == 0);
    if (i % 3 == 0) {
      ASSERT_TRUE(server.cas().put(std::as_bytes(std::span(blob)), digests.back()));
    }
  }
  auto present = upstream->contains_many(digests);
  ASSERT_TRUE(present) << present.error().to_string();
  EXPECT_EQ(*present, expected);
  EXPECT_TRUE(upstream->contains_many({}).value().empty());
}

TEST_F(UpstreamGrpcTest, LargeBlobsStreamThroughByteStreamFromAFile) {
  GrpcUpstreamServer server(m_dir / "upstream");
  auto upstream = open(server.url()).value();
  std::string blob(3u << 20, '\0');
  for (std::size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>((i * 7919) >> 5);
  const auto file = m_dir.write_file("large", blob);
  const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  const UploadBody body{
      .fd = fd.get(), .size = blob.size(), .sha256_hex = hash::sha256_of(blob).hex()};
  auto put = upstream->put(UpstreamSpace::cas, body.sha256_hex, body);
  ASSERT_TRUE(put) << put.error().to_string();
  EXPECT_EQ(server.cas().get(digest_of(blob)).value(), blob);
  std::size_t pieces = 0;
  std::string back;
  auto found = upstream->get(
      UpstreamSpace::cas, body.sha256_hex,
      [&](std::span<const std::byte> data) {
        ++pieces;
        back.append(reinterpret_cast<const char*>(data.data()), data.size());
        return ok();
      },
      blob.size());
  ASSERT_TRUE(found) << found.error().to_string();
  EXPECT_TRUE(*found);
  EXPECT_EQ(back, blob);
  EXPECT_GT(pieces, 1u) << "streamed, not one message";
  // Uploading it again is harmless.
  auto again = upstream->put(UpstreamSpace::cas, body.sha256_hex, body);
  EXPECT_TRUE(again) << again.error().to_string();
}

TEST_F(UpstreamGrpcTest, ActionResultsAndRawEntriesUnderAnInstanceName) {
  GrpcUpstreamServer server(m_dir / "upstream");
  auto upstream = open(server.url("grpc", "team/ci")).value();
  EXPECT_EQ(upstream->describe(), server.url("grpc", "team/ci"));
  const std::string output = "an output file";
  ASSERT_TRUE(upstream->put(UpstreamSpace::cas, hash::sha256_of(output).hex(), bytes(output)));
  const std::string key = hash::sha256_of("an action").hex();
  const std::string result = action_result(digest_of(output));
  EXPECT_FALSE(upstream->contains(UpstreamSpace::ac, key).value());
  ASSERT_TRUE(upstream->put(UpstreamSpace::ac, key, bytes(result)));
  EXPECT_TRUE(upstream->contains(UpstreamSpace::ac, key).value());
  EXPECT_EQ(get(*upstream, UpstreamSpace::ac, key).value(), result);
  // The server filed it under the action digest, as Bazel would find it.
  EXPECT_TRUE(server.actions().get(Keyspace::ac, key).value().has_value());

  const std::string raw_key = "r." + hash::sha256_of("/ccache/ab/cdef").hex();
  EXPECT_EQ(get(*upstream, UpstreamSpace::raw, raw_key).value(), std::nullopt);
  ASSERT_TRUE(upstream->put(UpstreamSpace::raw, raw_key, bytes("opaque ccache bytes")));
  EXPECT_TRUE(upstream->contains(UpstreamSpace::raw, raw_key).value());
  EXPECT_EQ(get(*upstream, UpstreamSpace::raw, raw_key).value(), "opaque ccache bytes");
  EXPECT_EQ(get(*upstream, UpstreamSpace::ac, raw_key).value(), std::nullopt);
}

TEST_F(UpstreamGrpcTest, ABearerTokenFromAFile) {
  m_dir.write_file("tokens", "s3cret-token-0123456789abcdef\n");
  bazel_remote::GrpcServerOptions options;
  auto auth = bazel_remote::Authenticator::load({.tokens_file = m_dir / "tokens"});
  ASSERT_TRUE(auth) << auth.error().to_string();
  options.auth = *auth;
  GrpcUpstreamServer server(m_dir / "upstream", options);
  const auto body = bytes("behind a token");
  auto anonymous = open(server.url()).value();
  auto refused = anonymous->put(UpstreamSpace::cas, body.sha256_hex, body);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), ErrorCategory::configuration);

  UpstreamOptions with_token;
  with_token.bearer_token_file =
      m_dir.write_file("token", "s3cret-token-0123456789abcdef\n").string();
  auto opened = open(server.url(), with_token);
  ASSERT_TRUE(opened) << opened.error().to_string();
  auto& upstream = *opened;
  auto put = upstream->put(UpstreamSpace::cas, body.sha256_hex, body);
  ASSERT_TRUE(put) << put.error().to_string();
  EXPECT_EQ(get(*upstream, UpstreamSpace::cas, body.sha256_hex, body.size).value(),
            "behind a token");
}

TEST_F(UpstreamGrpcTest, GrpcsWithTheServersCertificateAsTheCa) {
  const auto made = test::run_shell(
      "cd " + test::shell_quote(m_dir.path().string()) +
      " && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>&1");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  GrpcUpstreamServer server(
      m_dir / "upstream", {.tls_cert_file = m_dir / "cert.pem", .tls_key_file = m_dir / "key.pem"});
  const auto body = bytes("over TLS");
  // Without the CA the server's certificate is refused: a Network error, never plaintext.
  auto untrusted = open(server.url("grpcs")).value();
  EXPECT_FALSE(untrusted->put(UpstreamSpace::cas, body.sha256_hex, body));
  EXPECT_FALSE(server.cas().contains(digest_of("over TLS")).value());
  UpstreamOptions tls;
  tls.tls_ca_file = (m_dir / "cert.pem").string();
  auto upstream = open(server.url("grpcs"), tls).value();
  for (int i = 0; i < 5; ++i) {  // several calls on the pooled connections
    auto put = upstream->put(UpstreamSpace::cas, body.sha256_hex, body);
    ASSERT_TRUE(put) << put.error().to_string();
    EXPECT_EQ(get(*upstream, UpstreamSpace::cas, body.sha256_hex, body.size).value(), "over TLS");
  }
  EXPECT_TRUE(server.cas().contains(digest_of("over TLS")).value());
  EXPECT_LE(upstream->live_connections(), 2u);
  // A plaintext client of the TLS port gets an error, not an answer.
  auto plain = open(server.url("grpc")).value();
  EXPECT_FALSE(plain->contains(UpstreamSpace::cas, body.sha256_hex, body.size));
}

TEST_F(UpstreamGrpcTest, BadCredentialsOptionsAreConfigurationErrors) {
  UpstreamOptions missing_key;
  missing_key.tls_cert_file = m_dir.write_file("cert.pem", "x").string();
  auto refused = open("grpcs://127.0.0.1:1", missing_key);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), ErrorCategory::configuration);

  UpstreamOptions no_file;
  no_file.bearer_token_file = (m_dir / "absent").string();
  refused = open("grpc://127.0.0.1:1", no_file);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), ErrorCategory::configuration);

  refused = open("grpc://user:pw@127.0.0.1:1");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), ErrorCategory::configuration);
}

TEST_F(UpstreamGrpcTest, AnAbsentServerIsARetryableError) {
  int port = 0;
  {
    GrpcUpstreamServer server(m_dir / "gone");
    port = std::stoi(server.url().substr(server.url().rfind(':') + 1));
  }
  auto upstream = open("grpc://127.0.0.1:" + std::to_string(port)).value();
  auto result = upstream->contains(UpstreamSpace::cas, std::string(64, '0'), 1);
  ASSERT_FALSE(result);
  EXPECT_TRUE(result.error().is_retryable()) << result.error().to_string();
}

}  // namespace
}  // namespace forge::cache
