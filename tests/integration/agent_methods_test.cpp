// The agent's build-tool methods (protocol version 2) through the real socket of a real
// `forge agent`: `cmake.affected` on the demo CMake project configured by the real cmake,
// `ninja.settle` on the tiny Ninja project built by the real ninja.
#include <stdlib.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "agent_fixture.h"
#include "demo_project.h"
#include "tiny_project.h"

namespace forge::test {
namespace {

using namespace std::chrono_literals;

nlohmann::json cli_json(const std::string& args) {
  const auto result = run_shell(shell_quote(forge_binary().string()) + " " + args);
  EXPECT_EQ(result.exit_code, 0) << args << "\n" << result.err;
  auto json = nlohmann::json::parse(result.out, nullptr, false);
  EXPECT_FALSE(json.is_discarded()) << result.out << result.err;
  return json;
}

TEST(AgentCmakeTest, AffectedThroughTheSocketIsTheCliAnswer) {
  TempDir dir;
  const auto source = dir / "src";
  const auto build = dir / "build";
  write_demo_project(source);
  std::string log;
  ASSERT_EQ(configure(source, build, &log), 0) << log;
  AgentProcess agent(dir / "agent", {});
  agent.start();
  auto client = agent.client();

  const std::string changed = (source / "core/src/core.cc").string();
  auto answer =
      client.result("cmake.affected", {{"build_dir", build.string()}, {"files", {changed}}});
  ASSERT_TRUE(answer) << answer.error().to_string() << agent.log();
  const auto cli = cli_json("cmake affected -B " + shell_quote(build.string()) +
                            " --json --files " + shell_quote(changed));
  for (const char* key : {"changed", "directly_affected", "transitively_affected", "tests",
                          "test_regex", "reconfigure_needed", "unmapped"}) {
    EXPECT_EQ((*answer)[key], cli[key]) << key << "\n" << answer->dump() << "\n" << cli.dump();
  }
  EXPECT_NE((*answer)["directly_affected"].dump().find("core"), std::string::npos);
  EXPECT_NE((*answer)["transitively_affected"].dump().find("app"), std::string::npos);
  EXPECT_EQ((*answer)["reconfigured"], false);

  // A path relative to the source dir names the same file.
  auto relative = client.result("cmake.affected",
                                {{"build_dir", build.string()}, {"files", {"core/src/core.cc"}}});
  ASSERT_TRUE(relative) << relative.error().to_string();
  EXPECT_EQ((*relative)["directly_affected"], (*answer)["directly_affected"]);

  // Bad params and an unconfigured dir are error responses on a connection that stays open.
  for (const nlohmann::json& params :
       {nlohmann::json{{"files", {changed}}}, nlohmann::json{{"build_dir", "rel"}, {"files", {}}},
        nlohmann::json{{"build_dir", build.string()}, {"files", "core.cc"}},
        nlohmann::json{{"build_dir", (dir / "nowhere").string()}, {"files", {changed}}}}) {
    auto refused = client.call("cmake.affected", params);
    ASSERT_TRUE(refused) << refused.error().to_string();
    EXPECT_EQ((*refused)["ok"], false) << params.dump();
  }
  EXPECT_TRUE(client.result("status"));
  EXPECT_EQ(agent.stop(), 0) << agent.log();
}

class AgentNinjaTest : public TinyNinjaProject {
 protected:
  void SetUp() override {
    TinyNinjaProject::SetUp();
    std::this_thread::sleep_for(100ms);  // the outputs out of record's racy window
    const auto recorded = run_shell(shell_quote(forge_binary().string()) + " ninja record -C " +
                                    shell_quote(m_dir.path().string()));
    ASSERT_EQ(recorded.exit_code, 0) << recorded.err;
    ASSERT_NE(recorded.out.find("3 edges recorded"), std::string::npos) << recorded.out;
  }
  TempDir m_agent_dir;
};

TEST_F(AgentNinjaTest, SettleThroughTheSocketMakesMtimeOnlyEdgesClean) {
  AgentProcess agent(m_agent_dir.path(), {});
  agent.start();
  auto client = agent.client();
  ASSERT_EQ(run_shell("cd " + shell_quote(m_dir.path().string()) + " && sleep 0.01 && touch a.txt")
                .exit_code,
            0);
  ASSERT_EQ(ninja_would_run(), (std::set<std::string>{"a.out", "all.out"}));

  auto explained =
      client.result("ninja.settle", {{"dir", m_dir.path().string()}, {"dry_run", true}});
  ASSERT_TRUE(explained) << explained.error().to_string();
  EXPECT_EQ((*explained)["settled"], 2);  // a.out, and all.out after it (a.out unchanged)
  EXPECT_EQ((*explained)["dry_run"], true);
  EXPECT_EQ(ninja_would_run(), (std::set<std::string>{"a.out", "all.out"}));  // nothing written

  auto settled = client.result("ninja.settle", {{"dir", m_dir.path().string()}});
  ASSERT_TRUE(settled) << settled.error().to_string();
  EXPECT_EQ((*settled)["edges"], 3);
  EXPECT_EQ((*settled)["dirty"], 0);
  EXPECT_GE((*settled)["settled"].get<int>(), 1);
  EXPECT_EQ(ninja_would_run(), std::set<std::string>{});

  // An edit is left for Ninja to run, and the answer says which edge and why.
  m_dir.write_file("b.txt", "edited\n");
  auto edited = client.result("ninja.settle", {{"dir", m_dir.path().string()}});
  ASSERT_TRUE(edited) << edited.error().to_string();
  EXPECT_GE((*edited)["dirty"].get<int>(), 1);
  bool b_runs = false;
  for (const auto& edge : (*edited)["details"]) {
    if (edge["output"] == "b.out") b_runs = edge["verdict"] == "run";
  }
  EXPECT_TRUE(b_runs) << edited->dump();
  EXPECT_EQ(ninja_would_run(), (std::set<std::string>{"b.out", "all.out"}));

  for (const nlohmann::json& params :
       {nlohmann::json::object(), nlohmann::json{{"dir", "relative"}},
        nlohmann::json{{"dir", (m_agent_dir / "absent").string()}},
        nlohmann::json{{"dir", m_agent_dir.path().string()}},  // no build.ninja
        nlohmann::json{{"dir", m_dir.path().string()}, {"dry_run", "yes"}}}) {
    auto refused = client.call("ninja.settle", params);
    ASSERT_TRUE(refused) << refused.error().to_string();
    EXPECT_EQ((*refused)["ok"], false) << params.dump();
  }
  EXPECT_TRUE(client.result("status"));
  EXPECT_EQ(agent.stop(), 0) << agent.log();
}

// The agent holds its workspace's scan index open, so ninja.settle asks the index through
// the workspace (LMDB forbids a second open in one process): a no-op settle stats no source
// path, and one after touching two sources stats those two (issue 11). Before, the agent's
// settle stat'ed every source path.
TEST_F(AgentNinjaTest, SettleAsksTheWorkspaceIndexWhatChanged) {
  TempDir cache;
  ::setenv("XDG_CACHE_HOME", cache.path().c_str(), 1);  // the agent's index lives there
  const std::string dir = std::filesystem::canonical(m_dir.path()).string();
  AgentProcess agent(m_agent_dir.path(), {dir});
  agent.start();
  ::unsetenv("XDG_CACHE_HOME");
  auto client = agent.client();
  auto settle = [&] {
    auto answer = client.result("ninja.settle", {{"dir", dir}});
    EXPECT_TRUE(answer) << answer.error().to_string() << agent.log();
    return answer ? *answer : nlohmann::json::object();
  };
  // record's stamp carries no cursor (no index then): a full settle stamps at one.
  std::filesystem::remove(m_dir / ".forge/ninja-clean");
  const auto full = settle();
  EXPECT_EQ(full["from_stamp"], false);
  EXPECT_EQ(full["settled"], 0);
  EXPECT_EQ(full["dirty"], 0);

  const auto noop = settle();
  EXPECT_EQ(noop["from_stamp"], true) << noop.dump();
  EXPECT_EQ(noop["stamp_via_index"], true) << noop.dump();
  EXPECT_EQ(noop["stamp_sources"], 3);  // a.txt, b.txt, hdr.h
  EXPECT_EQ(noop["stamp_sources_stated"], 0) << noop.dump();

  std::this_thread::sleep_for(20ms);  // a new mtime tick
  ASSERT_EQ(run_shell("touch " + shell_quote(dir + "/a.txt") + " " + shell_quote(dir + "/hdr.h"))
                .exit_code,
            0);
  const auto touched = settle();
  EXPECT_EQ(touched["from_stamp"], false);
  EXPECT_EQ(touched["stamp_via_index"], true) << touched.dump();
  EXPECT_EQ(touched["stamp_sources_stated"], 2) << touched.dump();
  EXPECT_EQ(touched["dirty"], 0) << touched.dump();
  EXPECT_GT(touched["settled"].get<int>(), 0);
  const auto dry = ninja("-n");
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("no work to do"), std::string::npos) << dry.out;

  // An edit is seen through the index too, and left for Ninja.
  const auto clean = settle();  // stamps again, at a cursor after the touches
  EXPECT_EQ(clean["settled"].get<int>() + clean["dirty"].get<int>(), 0) << clean.dump();
  m_dir.write_file("b.txt", "b edited\n");
  const auto edited = settle();
  EXPECT_EQ(edited["from_stamp"], false);
  EXPECT_EQ(edited["stamp_via_index"], true) << edited.dump();
  EXPECT_EQ(edited["stamp_sources_stated"], 1) << edited.dump();
  EXPECT_EQ(ninja_would_run(), (std::set<std::string>{"b.out", "all.out"}));
  EXPECT_EQ(agent.stop(), 0) << agent.log();
}

}  // namespace
}  // namespace forge::test
