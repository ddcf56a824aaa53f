// Two real `forge agent`s, each with its own store, behind one real upstream `forge serve`
// (the global config's cache.upstream): an output put through one agent's socket reaches
// the upstream (write-behind) and is a local hit on the other after one verified fetch.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent_fixture.h"
#include "serve_fixture.h"

namespace forge::test {
namespace {

using namespace std::chrono_literals;

nlohmann::json upstream_status(AgentProcess& agent) {
  auto status = agent.client().result("status");
  EXPECT_TRUE(status) << status.error().to_string();
  return status ? (*status)["upstream"] : nlohmann::json();
}

TEST(AgentUpstreamTest, AnOutputPutThroughOneAgentIsALocalHitOnAnotherAfterOneFetch) {
  ServeFixture upstream({"--no-grpc"});
  ASSERT_TRUE(upstream.started()) << upstream.log();
  TempDir dir;
  const auto global = dir.write_file(
      "forge.json", nlohmann::json{{"cache", {{"upstream", upstream.url()}}}}.dump());
  AgentProcess a(dir / "a", {});
  AgentProcess b(dir / "b", {});
  a.start(global);
  b.start(global);
  ASSERT_EQ(upstream_status(b)["fetch_hits"], 0);

  std::string content;
  for (int i = 0; i < 20000; ++i) content += std::to_string(i * 7919) + "\n";
  const auto output = dir.write_file("libcore.a", content);
  auto put = a.client().result("put", {{"path", output.string()}});
  ASSERT_TRUE(put) << put.error().to_string();
  const std::string digest = (*put)["digest"];
  const std::string sha = digest.substr(0, 64);
  for (auto deadline = std::chrono::steady_clock::now() + 30s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
    const auto tier = upstream_status(a);
    if (tier["uploads"] == 1 && tier["queue_length"] == 0) break;
  }
  ASSERT_EQ(upstream_status(a)["uploads"], 1) << a.log();
  EXPECT_EQ(curl("-o /dev/null " + upstream.url() + "/cas/" + sha).out, "200");

  auto on_b = b.client();
  auto missing = on_b.result("find_missing", {{"digests", {digest}}});
  ASSERT_TRUE(missing) << missing.error().to_string();
  EXPECT_EQ((*missing)["missing"].size(), 0u);  // held upstream counts as present
  EXPECT_FALSE(std::filesystem::exists(b.store() / "cas" / sha.substr(0, 2) / sha));
  auto fetched = on_b.result("get", {{"digest", digest}, {"path", (dir / "first").string()}});
  ASSERT_TRUE(fetched) << fetched.error().to_string() << b.log();
  EXPECT_EQ(dir.read_file("first"), content);
  EXPECT_EQ(upstream_status(b)["fetch_hits"], 1);
  EXPECT_TRUE(std::filesystem::exists(b.store() / "cas" / sha.substr(0, 2) / sha));

  // Now a local hit: no second fetch, and it needs no upstream at all.
  EXPECT_EQ(upstream.stop(), 0);
  auto local = on_b.result("get", {{"digest", digest}, {"path", (dir / "second").string()}});
  ASSERT_TRUE(local) << local.error().to_string();
  EXPECT_EQ(dir.read_file("second"), content);
  const auto tier = upstream_status(b);
  EXPECT_EQ(tier["fetch_hits"], 1);
  EXPECT_EQ(tier["fetch_misses"], 0);
  EXPECT_EQ(tier["fetch_errors"], 0);
  EXPECT_EQ(a.stop(), 0) << a.log();
  EXPECT_EQ(b.stop(), 0) << b.log();
}

TEST(AgentUpstreamTest, ABadUpstreamInTheConfigStopsTheAgentFromStarting) {
  TempDir dir;
  const auto global =
      dir.write_file("forge.json", nlohmann::json{{"cache", {{"upstream", "ftp://x"}}}}.dump());
  AgentProcess agent(dir / "agent", {});
  const auto run =
      run_shell(shell_quote(forge_binary().string()) + " --config " + shell_quote(global.string()) +
                " agent --config " + shell_quote((dir / "agent/agent.json").string()));
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.err.find("cache.upstream"), std::string::npos) << run.err;
  EXPECT_FALSE(std::filesystem::exists(agent.socket()));
}

}  // namespace
}  // namespace forge::test
