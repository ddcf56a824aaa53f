#include "forge/agent/agent_config.h"

#include <gtest/gtest.h>

#include "forge/test/temp_dir.h"

namespace forge::agent {
namespace {

TEST(AgentConfigTest, ReadsEveryKeyAndCanonicalizesWorkspaces) {
  test::TempDir dir;
  std::filesystem::create_directories(dir / "ws");
  const auto file = dir.write_file(
      "agent.json",
      R"({"version": 1, "workspaces": [")" + (dir / "ws/.").string() +
          R"("], "socket": "/tmp/s.sock", "store_dir": "/tmp/store", "max_connections": 3})");
  auto config = load_agent_config(file);
  ASSERT_TRUE(config) << config.error().to_string();
  ASSERT_EQ(config->workspaces.size(), 1u);
  EXPECT_EQ(config->workspaces[0], std::filesystem::canonical(dir / "ws"));
  EXPECT_EQ(config->socket, "/tmp/s.sock");
  EXPECT_EQ(config->store_dir, "/tmp/store");
  EXPECT_EQ(config->max_connections, 3u);
}

TEST(AgentConfigTest, BadFilesAreConfigurationErrors) {
  test::TempDir dir;
  for (const std::string& text :
       {std::string("{"), std::string(R"({"version": 2})"), std::string(R"({"workspace": []})"),
        std::string(R"({"workspaces": ["/no/such/dir"]})"),
        std::string(R"({"max_connections": 0})"), std::string(R"({"socket": ""})"),
        std::string(R"({"serve": "--http-port 1"})"),
        std::string(R"({"serve": ["--dir", "/x"]})")}) {
    auto config = load_agent_config(dir.write_file("agent.json", text));
    ASSERT_FALSE(config) << text;
    EXPECT_EQ(config.error().category(), ErrorCategory::configuration) << text;
  }
  auto absent = load_agent_config(dir / "absent.json");
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code(), ENOENT);
}

TEST(AgentConfigTest, ServeFlagsAreKeptAndAbsentServeMeansNoServer) {
  test::TempDir dir;
  auto with = load_agent_config(dir.write_file("a.json", R"({"serve": ["--http-port", "0"]})"));
  ASSERT_TRUE(with) << with.error().to_string();
  ASSERT_TRUE(with->serve_args);
  EXPECT_EQ(*with->serve_args, (std::vector<std::string>{"--http-port", "0"}));
  auto without = load_agent_config(dir.write_file("b.json", "{}"));
  ASSERT_TRUE(without);
  EXPECT_FALSE(without->serve_args);
}

TEST(AgentConfigTest, DefaultSocketIsUnderXdgRuntimeDir) {
  ::setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
  EXPECT_EQ(default_socket_path(), "/run/user/4242/forge/agent.sock");
  ::unsetenv("XDG_RUNTIME_DIR");
  EXPECT_EQ(default_socket_path().filename(), "agent.sock");
}

}  // namespace
}  // namespace forge::agent
