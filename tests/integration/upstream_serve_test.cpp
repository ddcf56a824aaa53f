// `forge serve --upstream`: real servers in front of another real `forge serve`, driven with
// curl. Blobs written through one front server are hits through another; the queue of
// writes survives the upstream going away and `kill -9` of the front server.
#include <signal.h>

#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forge/test/process.h"
#include "serve_fixture.h"

namespace forge::test {
namespace {

using namespace std::chrono_literals;

std::string sha256_hex(const std::string& content) {
  return run_shell("printf %s " + shell_quote(content) + " | sha256sum | cut -c1-64")
      .out.substr(0, 64);
}

std::string put(ServeFixture& server, const std::string& content) {
  const std::string sha = sha256_hex(content);
  const auto result =
      run_shell("printf %s " + shell_quote(content) +
                " | curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @- " +
                server.url() + "/cas/" + sha);
  EXPECT_EQ(result.out, "200");
  return sha;
}

ProcessResult get(ServeFixture& server, const std::string& sha) {
  return curl("-o - " + server.url() + "/cas/" + sha);  // body followed by the status code
}

std::uint64_t queue_length(ServeFixture& server) {
  const auto status = run_shell("curl -s " + server.url() + "/status");
  auto json = nlohmann::json::parse(status.out, nullptr, false);
  if (json.is_discarded() || !json.contains("upstream")) return ~0ull;
  return json["upstream"]["queue_length"].get<std::uint64_t>();
}

bool wait_for_empty_queue(ServeFixture& server, std::chrono::seconds timeout = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (queue_length(server) == 0) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

TEST(UpstreamServeTest, ABlobWrittenThroughOneFrontServerIsAHitThroughAnother) {
  ServeFixture upstream({"--no-grpc"});
  ASSERT_TRUE(upstream.started()) << upstream.log();
  ServeFixture a({"--no-grpc", "--upstream", upstream.url()});
  ServeFixture b({"--no-grpc", "--upstream", upstream.url()});
  ASSERT_TRUE(a.started()) << a.log();
  ASSERT_TRUE(b.started()) << b.log();
  const std::string content = "built once, used everywhere";
  const std::string sha = put(a, content);
  ASSERT_TRUE(wait_for_empty_queue(a)) << a.log();
  EXPECT_EQ(get(upstream, sha).out, content + "200");
  EXPECT_EQ(get(b, sha).out, content + "200");  // read through, verified
  upstream.stop();
  EXPECT_EQ(get(b, sha).out, content + "200");  // now a local hit
  const auto absent = get(b, sha256_hex("nowhere")).out;
  EXPECT_TRUE(absent.ends_with("404")) << absent;
}

TEST(UpstreamServeTest, WritesQueuedDuringAnOutageAndAKillReachTheUpstreamAfterARestart) {
  int port = 0;
  {
    ServeFixture probe({"--no-grpc"});
    ASSERT_TRUE(probe.started());
    port = probe.http_port();
  }  // the upstream is down from here on
  const std::string upstream_url = "http://127.0.0.1:" + std::to_string(port);
  auto front = std::make_unique<ServeFixture>(
      std::vector<std::string>{"--no-grpc", "--upstream", upstream_url});
  ASSERT_TRUE(front->started()) << front->log();
  std::vector<std::pair<std::string, std::string>> written;
  for (int i = 0; i < 5; ++i) {
    const std::string content = "acknowledged write " + std::to_string(i);
    written.emplace_back(put(*front, content), content);
    EXPECT_EQ(get(*front, written.back().first).out, content + "200");  // served locally
  }
  EXPECT_EQ(queue_length(*front), 5u);
  // kill -9 with a non-empty queue, then a restart over the same store.
  const auto store = front->store();
  ::kill(front->pid(), SIGKILL);
  (void)front->wait_for_exit();
  ServeFixture upstream({"--no-grpc", "--http-port", std::to_string(port)});
  ASSERT_TRUE(upstream.started()) << upstream.log();
  ServeFixture restarted({"--no-grpc", "--dir", store.string(), "--upstream", upstream_url});
  ASSERT_TRUE(restarted.started()) << restarted.log();
  ASSERT_TRUE(wait_for_empty_queue(restarted)) << restarted.log();
  for (const auto& [sha, content] : written) EXPECT_EQ(get(upstream, sha).out, content + "200");
}

std::uint64_t upload_errors(ServeFixture& server) {
  const auto status = run_shell("curl -s " + server.url() + "/status");
  auto json = nlohmann::json::parse(status.out, nullptr, false);
  if (json.is_discarded() || !json.contains("upstream")) return ~0ull;
  return json["upstream"]["upload_errors"].get<std::uint64_t>();
}

// Regression: raw entries (ccache's subdirs/flat layouts, Gradle, Turborepo) used to travel
// to an http:// upstream as ac/<raw key>, which Forge's /ac/ route refuses with a 400: the
// client's PUT failed with write-through, and the upload was dropped with write-behind.
class RawUpstreamTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RawUpstreamTest, RawEntriesReachAForgeUpstreamAndAnEmptyServerReadsThemBack) {
  ServeFixture upstream({"--no-grpc"});
  ASSERT_TRUE(upstream.started()) << upstream.log();
  ServeFixture a({"--no-grpc", "--upstream", upstream.url(), "--upstream-write", GetParam()});
  ASSERT_TRUE(a.started()) << a.log();
  const std::vector<std::pair<std::string, std::string>> entries{
      {"/ccache/3f/5b0c1e9a7d2c4e6f8a0b1c2d3e4f5a6b7c8d9e", "a ccache result (subdirs layout)"},
      {"/ccache/5b0c1e9a7d2c4e6f8a0b1c2d3e4f5a6b7c8d9e3f", "a ccache result (flat layout)"},
      {"/gradle/9a7d2c4e6f8a0b1c", "a gradle task output"}};
  for (const auto& [path, content] : entries) {
    const auto put = run_shell(
        "printf %s " + shell_quote(content) +
        " | curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @- " + a.url() + path);
    EXPECT_EQ(put.out, "200") << path << "\n" << a.log();
  }
  ASSERT_TRUE(wait_for_empty_queue(a)) << a.log();
  EXPECT_EQ(upload_errors(a), 0u) << a.log();

  ServeFixture b({"--no-grpc", "--upstream", upstream.url()});
  ASSERT_TRUE(b.started()) << b.log();
  for (const auto& [path, content] : entries) {
    EXPECT_EQ(curl("-o - " + b.url() + path).out, content + "200") << path << "\n" << b.log();
  }
  const auto absent = curl("-o /dev/null " + b.url() + "/ccache/00/nowhere").out;
  EXPECT_EQ(absent, "404");
  upstream.stop();
  for (const auto& [path, content] : entries) {  // stored locally by the read-through
    EXPECT_EQ(curl("-o - " + b.url() + path).out, content + "200") << path;
  }
}

INSTANTIATE_TEST_SUITE_P(WriteModes, RawUpstreamTest, ::testing::Values("through", "behind"),
                         [](const auto& info) { return info.param; });

TEST(UpstreamServeTest, BadUpstreamFlagsAreUsageErrors) {
  TempDir dir;
  const std::string serve = forge_binary().string() + " serve --no-grpc --http-port 0 --dir " +
                            shell_quote((dir / "store").string());
  const auto bad = run_shell(serve + " --upstream ftp://x");
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  EXPECT_NE(bad.err.find("ftp://x"), std::string::npos);
  const auto lonely = run_shell(serve + " --upstream-write through");
  EXPECT_EQ(lonely.exit_code, 2) << lonely.err;
}

}  // namespace
}  // namespace forge::test
