// `forge serve --upstream grpc://...`: a real `forge serve` in front of another real one's
// REAPI gRPC port, driven with curl. Writes through A reach the upstream (a large blob by
// ByteStream, small ones in batches, an action result, a raw entry); B, with an empty
// store, reads them all back through the same upstream.
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forge/core/hash/digest.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"
#include "serve_fixture.h"

namespace forge::test {
namespace {

std::string put(const ServeFixture& server, const std::string& path, const std::string& content) {
  const auto file = server.dir().write_file("upload", content);
  return curl("-o /dev/null -X PUT --data-binary @" + shell_quote(file.string()) + " " +
              server.url() + path)
      .out;
}

std::string get(const ServeFixture& server, const std::string& path) {
  const auto result = curl("-o - " + server.url() + path);
  return result.out;
}

nlohmann::json upstream_status(const ServeFixture& server) {
  auto json =
      nlohmann::json::parse(run_shell("curl -s " + server.url() + "/status").out, nullptr, false);
  return json.is_discarded() ? nlohmann::json() : json["upstream"];
}

class GrpcUpstreamTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GrpcUpstreamTest, WritesThroughOneServerAreReadBackThroughAnotherWithAnEmptyStore) {
  ServeFixture upstream({"--no-fsync"});
  ASSERT_TRUE(upstream.started()) << upstream.log();
  const std::string url = "grpc://127.0.0.1:" + std::to_string(upstream.grpc_port()) + "/ci";
  const std::string small = "a small output\n";
  std::string large(2u << 20, '\0');  // over the batch limit: ByteStream both ways
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>('a' + i % 23);
  const std::string small_sha = hash::sha256_of(small).hex();
  const std::string large_sha = hash::sha256_of(large).hex();
  const std::string key = hash::sha256_of("the action").hex();
  const std::string result = action_result_with_output(large);
  const std::string raw_path = "/ccache/ab/cdef0123456789";
  {
    ServeFixture a({"--no-grpc", "--upstream", url, "--upstream-write", GetParam()});
    ASSERT_TRUE(a.started()) << a.log();
    EXPECT_EQ(put(a, "/cas/" + small_sha, small), "200") << a.log();
    EXPECT_EQ(put(a, "/cas/" + large_sha, large), "200") << a.log();
    EXPECT_EQ(put(a, "/ac/" + key, result), "200") << a.log();
    EXPECT_EQ(put(a, raw_path, "a ccache entry"), "200") << a.log();
    for (int i = 0; i < 300 && upstream_status(a)["queue_length"] != 0; ++i) ::usleep(100'000);
    const auto status = upstream_status(a);
    EXPECT_EQ(status["queue_length"], 0) << status.dump() << a.log();
    EXPECT_EQ(status["upload_errors"], 0) << status.dump() << a.log();
    EXPECT_EQ(a.stop(), 0) << a.log();
  }
  // In the upstream as a REAPI client of it would find them.
  EXPECT_EQ(get(upstream, "/cas/" + small_sha), small + "200");
  EXPECT_EQ(get(upstream, "/ac/" + key), result + "200");
  ServeFixture b({"--no-grpc", "--upstream", url});
  ASSERT_TRUE(b.started()) << b.log();
  // The action result validates against its output in the upstream; the output's size,
  // learned there, lets the size-less HTTP GET of it go through ByteStream.
  EXPECT_EQ(get(b, "/ac/" + key), result + "200") << b.log();
  EXPECT_EQ(get(b, "/cas/" + large_sha), large + "200") << b.log();
  EXPECT_EQ(get(b, raw_path), "a ccache entry200") << b.log();
  // Missing upstream: a miss.
  EXPECT_TRUE(get(b, "/cas/" + std::string(64, 'a')).ends_with("404"));
  const auto status = upstream_status(b);
  EXPECT_EQ(status["corrupt"], 0) << status.dump();
  EXPECT_EQ(status["fetch_errors"], 0) << status.dump() << b.log();
  upstream.stop();
  // All stored locally by the read-through.
  EXPECT_EQ(get(b, "/ac/" + key), result + "200") << b.log();
  EXPECT_EQ(get(b, "/cas/" + large_sha), large + "200");
  EXPECT_EQ(get(b, raw_path), "a ccache entry200");
}

// grpcs:// to a `forge serve` with a self-signed certificate (the CA from FORGE_UPSTREAM_CA)
// that asks for a bearer token (read from the file FORGE_UPSTREAM_TOKEN_FILE names).
TEST(GrpcsUpstreamTest, TlsAndABearerTokenFromTheEnvironment) {
  TempDir secrets;
  const auto made = run_shell(
      "cd " + shell_quote(secrets.path().string()) +
      " && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>&1");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const std::string token = "tok-0123456789abcdef0123";
  secrets.write_file("tokens", token + "\n");
  secrets.write_file("token", token + "\n");
  ServeFixture upstream({"--no-fsync", "--tls-cert", (secrets / "cert.pem").string(), "--tls-key",
                         (secrets / "key.pem").string(), "--tokens",
                         (secrets / "tokens").string()});
  ASSERT_TRUE(upstream.started()) << upstream.log();
  const std::string url = "grpcs://127.0.0.1:" + std::to_string(upstream.grpc_port());
  const std::string content = "over grpcs with a token";
  const std::string path = "/cas/" + hash::sha256_of(content).hex();
  const auto https = "--cacert " + shell_quote((secrets / "cert.pem").string()) +
                     " -H 'Authorization: Bearer " + token +
                     "' https://127.0.0.1:" + std::to_string(upstream.http_port());
  {
    // Without the CA: the upload fails (write-through answers 503), nothing goes in plaintext.
    ServeFixture untrusted({"--no-grpc", "--upstream", url, "--upstream-write", "through"});
    ASSERT_TRUE(untrusted.started()) << untrusted.log();
    EXPECT_NE(put(untrusted, path, content), "200");
  }
  EXPECT_TRUE(curl("-o - " + https + path).out.ends_with("404"));
  ::setenv("FORGE_UPSTREAM_CA", (secrets / "cert.pem").c_str(), 1);
  ::setenv("FORGE_UPSTREAM_TOKEN_FILE", (secrets / "token").c_str(), 1);
  ServeFixture front({"--no-grpc", "--upstream", url, "--upstream-write", "through"});
  ::unsetenv("FORGE_UPSTREAM_CA");
  ::unsetenv("FORGE_UPSTREAM_TOKEN_FILE");
  ASSERT_TRUE(front.started()) << front.log();
  EXPECT_EQ(put(front, path, content), "200") << front.log();
  EXPECT_EQ(curl("-o - " + https + path).out, content + "200");
}

INSTANTIATE_TEST_SUITE_P(WriteModes, GrpcUpstreamTest, ::testing::Values("through", "behind"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace forge::test
