// `forge cache push` / `forge cache pull` against real upstreams on 127.0.0.1: another
// `forge serve` (the Bazel HTTP cache protocol), and python3's http.server serving files
// whose bytes do not match their names (a corrupt upstream a real cache cannot be made into).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forge/core/hash/digest.h"
#include "forge/test/process.h"
#include "serve_fixture.h"

namespace forge::test {
namespace {

std::string sha256_hex(const std::string& content) {
  return hash::sha256_of(content).hex();
}

std::string blob_name(const std::string& content) {
  return sha256_hex(content) + "/" + std::to_string(content.size());
}

std::string put(const ServeFixture& server, const std::string& path, const std::string& content) {
  const auto file = server.dir().write_file("upload", content);
  return curl("-o /dev/null -X PUT --data-binary @" + shell_quote(file.string()) + " " +
              server.url() + path)
      .out;
}

struct Forge {
  int exit_code;
  nlohmann::json report;  // stdout as JSON (null when it is not JSON)
  std::string err;
};

Forge forge(const std::string& args) {
  const auto result = run_shell(shell_quote(forge_binary().string()) + " " + args);
  return {result.exit_code, nlohmann::json::parse(result.out, nullptr, false), result.err};
}

TEST(CacheTransferTest, PushSendsWhatTheUpstreamLacksAndPullBringsAnActionBack) {
  ServeFixture upstream({"--no-grpc"});
  ASSERT_TRUE(upstream.started()) << upstream.log();
  const std::string output = "an object file\n";
  const std::string other = "a blob the upstream already has";
  const std::string key = sha256_hex("the action");
  const std::string result = action_result_with_output(output);
  TempDir local;
  {
    // A local store holding two blobs and an action entry (its value is a third blob).
    ServeFixture writer({"--no-grpc", "--dir", (local / "store").string()});
    ASSERT_TRUE(writer.started()) << writer.log();
    ASSERT_EQ(put(writer, "/cas/" + sha256_hex(output), output), "200");
    ASSERT_EQ(put(writer, "/cas/" + sha256_hex(other), other), "200");
    ASSERT_EQ(put(writer, "/ac/" + key, result), "200");
    ASSERT_EQ(writer.stop(), 0) << writer.log();
  }
  ASSERT_EQ(put(upstream, "/cas/" + sha256_hex(other), other), "200");

  const std::string store = " --dir " + shell_quote((local / "store").string());
  auto pushed = forge("cache push --upstream " + upstream.url() + store);
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
  EXPECT_EQ(pushed.report["blobs"]["checked"], 3) << pushed.report.dump();
  EXPECT_EQ(pushed.report["blobs"]["present"], 1);
  EXPECT_EQ(pushed.report["blobs"]["copied"], 2);
  EXPECT_EQ(pushed.report["blobs"]["bytes"], output.size() + result.size());
  EXPECT_EQ(pushed.report["actions"]["copied"], 1);
  EXPECT_EQ(curl("-o - " + upstream.url() + "/cas/" + sha256_hex(output)).out, output + "200");
  EXPECT_EQ(curl("-o - " + upstream.url() + "/ac/" + key).out, result + "200");
  // Nothing left to send.
  pushed = forge("cache push --upstream " + upstream.url() + store);
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
  EXPECT_EQ(pushed.report["blobs"]["copied"], 0) << pushed.report.dump();
  EXPECT_EQ(pushed.report["actions"]["present"], 1);

  // An empty store pulls the action with its output; the upstream comes from the config.
  TempDir empty;
  const auto config = empty.write_file(
      "forge.json", nlohmann::json{{"cache", {{"upstream", upstream.url()}}}}.dump());
  const std::string empty_store = " --dir " + shell_quote((empty / "store").string());
  auto pulled = forge("--config " + shell_quote(config.string()) + " cache pull --action " + key +
                      empty_store);
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(pulled.report["actions"]["copied"], 1) << pulled.report.dump();
  EXPECT_EQ(pulled.report["blobs"]["copied"], 1);
  EXPECT_EQ(pulled.report["blobs"]["bytes"], output.size());
  const auto got = run_shell(shell_quote(forge_binary().string()) + " cache get " +
                             blob_name(output) + empty_store);
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, output);

  // A blob the upstream lacks: reported, exit 1; one it has arrives beside it.
  pulled = forge("cache pull --upstream " + upstream.url() + " " + blob_name(other) + " " +
                 blob_name("nowhere") + empty_store);
  EXPECT_EQ(pulled.exit_code, 1);
  EXPECT_EQ(pulled.report["blobs"]["copied"], 1) << pulled.report.dump();
  EXPECT_EQ(pulled.report["blobs"]["missing"], 1);
  EXPECT_NE(pulled.err.find("not in the upstream"), std::string::npos) << pulled.err;

  // No upstream at all: a usage error that says where to give one.
  const auto none = forge("cache push" + store);
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("cache.upstream"), std::string::npos) << none.err;
}

TEST(CacheTransferTest, PullNeverStoresBytesThatDoNotMatchTheirDigest) {
  // python3's http.server serves DIR/cas/<sha256 of "good"> holding other bytes.
  TempDir web;
  const std::string good = "the bytes that were asked for";
  web.write_file("cas/" + sha256_hex(good), "tampered bytes of the same length!!");
  const std::string port = std::to_string(free_tcp_port());
  BackgroundProcess server({"python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory",
                            web.path().string(), port},
                           web / "server.log");
  const std::string url = "http://127.0.0.1:" + port;
  for (int i = 0; i < 100 && curl("-o /dev/null " + url + "/").out != "200"; ++i) {
    run_shell("sleep 0.05");
  }
  TempDir local;
  const std::string store = " --dir " + shell_quote((local / "store").string());
  const auto pulled = forge("cache pull --upstream " + url + " " + sha256_hex(good) + store);
  EXPECT_EQ(pulled.exit_code, 1) << pulled.err;
  EXPECT_EQ(pulled.report["blobs"]["failed"], 1) << pulled.report.dump();
  EXPECT_EQ(pulled.report["blobs"]["copied"], 0);
  EXPECT_NE(pulled.err.find("do not match"), std::string::npos) << pulled.err;
  const auto got =
      run_shell(shell_quote(forge_binary().string()) + " cache get " + blob_name(good) + store);
  EXPECT_EQ(got.exit_code, 1);
  EXPECT_TRUE(got.out.empty());
}

}  // namespace
}  // namespace forge::test
