// The `forge` executable's global behaviour: help, version, global options, and the
// configuration every command reads (each key's effect on a real command).
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forge/core/support/unique_fd.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"
#include "forge/version.h"

namespace forge {
namespace {

std::string forge() {
  return test::shell_quote(test::forge_binary().string());
}

TEST(MainTest, HelpListsEverySubcommandWithASummary) {
  const auto result = test::run_shell(forge() + " --help");
  EXPECT_EQ(result.exit_code, 0);
  for (const char* command : {"config", "doctor", "hash", "scan"}) {
    EXPECT_NE(result.out.find(std::string("  ") + command + " "), std::string::npos) << command;
  }
}

TEST(MainTest, VersionPrintsTheVersion) {
  const auto result = test::run_shell(forge() + " --version");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(result.out, "forge " + std::string(k_version) + "\n");  // CMake's PROJECT_VERSION
}

TEST(MainTest, JsonLogFormatWritesJsonLinesAtTheChosenLevel) {
  const auto result =
      test::run_shell(forge() + " --log-level debug --log-format json hash /etc/passwd");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ASSERT_FALSE(result.err.empty());
  const auto line = nlohmann::json::parse(result.err.substr(0, result.err.find('\n')));
  EXPECT_EQ(line["level"], "debug");
  EXPECT_TRUE(line.contains("timestamp"));
  const auto quiet =
      test::run_shell(forge() + " --log-level error --log-format json hash /etc/passwd");
  EXPECT_TRUE(quiet.err.empty()) << quiet.err;
}

TEST(MainTest, ForgeLogEnvironmentSetsTheLevelAndBadLevelIsAUsageError) {  // exit 2
  const auto verbose =
      test::run_shell("FORGE_LOG=debug " + forge() + " --log-format json hash /etc/passwd");
  EXPECT_FALSE(verbose.err.empty());
  const auto bad = test::run_shell(forge() + " --log-level loud hash /etc/passwd");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("loud"), std::string::npos);
}

TEST(MainTest, UnknownCommandIsAUsageError) {
  const auto result = test::run_shell(forge() + " frobnicate");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("frobnicate"), std::string::npos);
}

// A config file in its own directory, named by FORGE_CONFIG in the returned env prefix.
std::string with_config(const test::TempDir& dir, const nlohmann::json& config) {
  const auto file = dir.write_file("forge.json", config.dump());
  return "env -u FORGE_LOG -u FORGE_IO_BACKEND FORGE_CONFIG=" + test::shell_quote(file.string()) +
         " ";
}

TEST(ConfigKeysTest, StoreDirIsTheStoreOfForgeCache) {
  test::TempDir dir;
  const auto env = with_config(dir, {{"store_dir", (dir / "store").string()}});
  const auto blob = dir.write_file("blob.txt", "hello");
  const auto put =
      test::run_shell(env + forge() + " cache put " + test::shell_quote(blob.string()));
  ASSERT_EQ(put.exit_code, 0) << put.err;
  EXPECT_TRUE(std::filesystem::exists(dir / "store" / "cas"));
  const auto stat = test::run_shell(env + forge() + " cache stat");
  ASSERT_EQ(stat.exit_code, 0) << stat.err;
  EXPECT_EQ(nlohmann::json::parse(stat.out)["entries"], 1) << stat.out;
}

TEST(ConfigKeysTest, ProjectRootIsWhatScanLooksAtWithoutARoot) {
  test::TempDir dir;
  dir.write_file("project/a.txt", "a");
  const auto env = with_config(dir, {{"project_root", (dir / "project").string()}});
  const auto result = test::run_shell("cd / && " + env + forge() + " scan --json --index-dir " +
                                      test::shell_quote((dir / "index").string()));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto answer = nlohmann::json::parse(result.out);
  EXPECT_EQ(answer["root"], std::filesystem::canonical(dir / "project").string());
  ASSERT_FALSE(answer["changes"].empty());
  bool found = false;
  for (const auto& change : answer["changes"]) found = found || change["path"] == "a.txt";
  EXPECT_TRUE(found) << result.out;
}

TEST(ConfigKeysTest, LoggingKeysSetLevelFormatFileAndRotation) {
  test::TempDir dir;
  const auto log = dir / "forge.log";
  const auto env = with_config(dir, {{"logging",
                                      {{"level", "debug"},
                                       {"format", "json"},
                                       {"file", log.string()},
                                       {"max_file_size", 4096},
                                       {"max_files", 1}}}});
  const auto once = test::run_shell(env + forge() + " hash /etc/passwd");
  ASSERT_EQ(once.exit_code, 0) << once.err;
  std::ifstream in(log);
  std::string line;
  ASSERT_TRUE(std::getline(in, line)) << "nothing logged to logging.file";
  // JSON (logging.format) below the default level warn (logging.level).
  EXPECT_NE(nlohmann::json::parse(line)["level"], "warn");
  // Every run appends a line; past 4096 bytes the file rotates, keeping one old file.
  for (int run = 0; run < 60; ++run) {
    ASSERT_EQ(test::run_shell(env + forge() + " hash /etc/passwd").exit_code, 0);
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "forge.1.log"));
  EXPECT_FALSE(std::filesystem::exists(dir / "forge.2.log"));
  EXPECT_LE(std::filesystem::file_size(log), 4096u);
  // A flag beats the file: nothing at debug when --log-level error.
  const auto size = std::filesystem::file_size(log);
  ASSERT_EQ(test::run_shell(env + forge() + " --log-level error hash /etc/passwd").exit_code, 0);
  EXPECT_EQ(std::filesystem::file_size(log), size);
}

std::uint16_t free_port() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return 0;
  }
  return ntohs(address.sin_port);
}

TEST(ConfigKeysTest, ServerListenAndStoreDirAreWhereForgeServeServes) {
  test::TempDir dir;
  const std::uint16_t http = free_port();
  const std::uint16_t grpc = free_port();
  ASSERT_NE(http, 0);
  const auto file = dir.write_file(
      "forge.json", nlohmann::json{{"store_dir", (dir / "store").string()},
                                   {"server",
                                    {{"http_listen", fmt::format("127.0.0.1:{}", http)},
                                     {"grpc_listen", fmt::format("127.0.0.1:{}", grpc)}}}}
                        .dump());
  test::BackgroundProcess serve({test::forge_binary().string(), "--config", file.string(), "serve",
                                 "--port-file", (dir / "ports.json").string()},
                                dir / "serve.log");
  ASSERT_TRUE(test::wait_for_file(dir / "ports.json", std::chrono::seconds(20)))
      << dir.read_file("serve.log");
  const auto ports = nlohmann::json::parse(dir.read_file("ports.json"));
  EXPECT_EQ(ports["http"], http);
  EXPECT_EQ(ports["grpc"], grpc);
  EXPECT_TRUE(std::filesystem::exists(dir / "store")) << dir.read_file("serve.log");
  EXPECT_EQ(serve.stop(SIGTERM, std::chrono::seconds(30)), 0);
}

}  // namespace
}  // namespace forge
