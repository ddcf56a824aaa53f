// `forge config` and `forge doctor` through the real binary.
#include <sys/resource.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge {
namespace {

using test::shell_quote;

std::string forge() {
  return shell_quote(test::forge_binary().string());
}

TEST(ConfigCommandTest, CheckListsEveryInvalidFieldAndExitsOne) {
  test::TempDir dir;
  const auto file = dir.write_file(
      "forge.json",
      R"({"project_root": "/nonexistent", "io": {"max_file_handles": 0, "backnd": "auto"}})");
  const auto result =
      test::run_shell(forge() + " config check --json " + shell_quote(file.string()));
  EXPECT_EQ(result.exit_code, 1);
  const auto report = nlohmann::json::parse(result.out);
  EXPECT_FALSE(report["valid"].get<bool>());
  std::vector<std::string> fields;
  for (const auto& issue : report["issues"]) fields.push_back(issue["field"]);
  EXPECT_EQ(fields, (std::vector<std::string>{"io.backnd", "io.max_file_handles", "project_root"}));
}

TEST(ConfigCommandTest, CheckAcceptsAValidFile) {
  test::TempDir dir;
  const auto file =
      dir.write_file("forge.json", "{\"project_root\": \"" + dir.path().string() + "\"}");
  const auto result = test::run_shell(forge() + " config check " + shell_quote(file.string()));
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("OK"), std::string::npos);
}

TEST(ConfigCommandTest, MissingFileIsAnErrorNamingTheFile) {
  const auto result = test::run_shell(forge() + " config check /nonexistent/forge.json");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("/nonexistent/forge.json"), std::string::npos);
}

TEST(ConfigCommandTest, ShowAppliesOverrides) {
  const auto result =
      test::run_shell(forge() + " config show --json --set io.max_file_handles=128");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto shown = nlohmann::json::parse(result.out);
  EXPECT_EQ(shown["config"]["io"]["max_file_handles"], 128);
  EXPECT_EQ(shown["origins"]["io.max_file_handles"]["layer"], "flag");
}

// defaults < file < environment < flags, each value shown with where it came from.
TEST(ConfigCommandTest, ShowNamesWhereEachValueComesFrom) {
  test::TempDir dir;
  const auto file = dir.write_file(
      "xdg/forge/config.json",
      R"({"logging": {"level": "info", "format": "json"}, "io": {"max_file_handles": 100,
          "backend": "uring"}})");
  const std::string env =
      "env -u FORGE_CONFIG XDG_CONFIG_HOME=" + shell_quote((dir / "xdg").string()) +
      " FORGE_IO_BACKEND=fallback ";
  const auto result = test::run_shell(env + forge() + " --log-level error config show --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto shown = nlohmann::json::parse(result.out);
  EXPECT_EQ(shown["file"]["path"], file.string());
  EXPECT_EQ(shown["file"]["loaded"], true);
  EXPECT_EQ(shown["config"]["logging"]["level"], "error");
  EXPECT_EQ(shown["origins"]["logging.level"]["from"], "--log-level");
  EXPECT_EQ(shown["config"]["io"]["backend"], "fallback");
  EXPECT_EQ(shown["origins"]["io.backend"]["layer"], "environment");
  EXPECT_EQ(shown["config"]["io"]["max_file_handles"], 100);
  EXPECT_EQ(shown["origins"]["io.max_file_handles"]["layer"], "file");
  EXPECT_EQ(shown["origins"]["logging.max_files"]["layer"], "default");
  const auto human = test::run_shell(env + forge() + " config show");
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("environment FORGE_IO_BACKEND"), std::string::npos) << human.out;
  EXPECT_NE(human.out.find("file " + file.string()), std::string::npos) << human.out;
}

TEST(ConfigCommandTest, ConfigFileFromFlagBeatsForgeConfig) {
  test::TempDir dir;
  const auto flagged = dir.write_file("a.json", R"({"logging": {"max_files": 7}})");
  const auto named = dir.write_file("b.json", R"({"logging": {"max_files": 9}})");
  const auto result =
      test::run_shell("FORGE_CONFIG=" + shell_quote(named.string()) + " " + forge() + " --config " +
                      shell_quote(flagged.string()) + " config show --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(nlohmann::json::parse(result.out)["config"]["logging"]["max_files"], 7);
  const auto missing = test::run_shell("FORGE_CONFIG=" + shell_quote((dir / "no.json").string()) +
                                       " " + forge() + " hash /dev/null");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("no.json"), std::string::npos) << missing.err;
}

// Issue 16 item 18: a special file as the config never hangs a command.
TEST(ConfigCommandTest, SpecialFilesAsConfigAreRefusedAtOnce) {
  test::TempDir dir;
  const auto fifo = dir / "fifo.json";
  ASSERT_EQ(test::run_shell("mkfifo " + shell_quote(fifo.string())).exit_code, 0);
  for (const std::string& file : {std::string("/dev/zero"), fifo.string()}) {
    const auto check =
        test::run_shell("timeout 20 " + forge() + " config check " + shell_quote(file));
    EXPECT_EQ(check.exit_code, 1) << file << check.err;
    EXPECT_NE(check.err.find("not a regular file"), std::string::npos) << check.err;
    const auto hash = test::run_shell("timeout 20 " + forge() + " --config " + shell_quote(file) +
                                      " hash /dev/null");
    EXPECT_EQ(hash.exit_code, 2) << file << hash.err;
  }
}

TEST(DoctorCommandTest, ReportsBackendAndLimitsAsJson) {
  test::TempDir dir;
  const auto result =
      test::run_shell(forge() + " doctor --json " + shell_quote(dir.path().string()));
  const auto report = nlohmann::json::parse(result.out);
  EXPECT_EQ(report["platform"], "Linux");
  EXPECT_FALSE(report["kernel"].get<std::string>().empty());
  EXPECT_TRUE(report["io_backend"] == "io_uring" || report["io_backend"] == "fallback");
  EXPECT_FALSE(report["io_backend_reason"].get<std::string>().empty());
  EXPECT_GT(report["open_files"]["soft"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(result.exit_code, report["warnings"].empty() ? 0 : 1);
}

TEST(DoctorCommandTest, WarnsWhenTheOpenFileLimitIsBelowTheConfiguredHandles) {
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < 200) GTEST_SKIP() << "soft limit too low to set up the case";
  // Lower the soft limit in the child shell, keep max_file_handles above it.
  const auto result = test::run_shell("ulimit -Sn 150 && " + forge() +
                                      " doctor --json --set io.max_file_handles=120 /tmp");
  EXPECT_EQ(result.exit_code, 1) << result.err;
  const auto report = nlohmann::json::parse(result.out);
  ASSERT_FALSE(report["warnings"].empty());
  EXPECT_NE(report["warnings"][0].get<std::string>().find("ulimit -n"), std::string::npos);
}

// io.backend from the config file changes the backend choice (FORGE_IO_BACKEND too).
TEST(DoctorCommandTest, BackendFromTheConfigFileIsUsed) {
  test::TempDir dir;
  const auto file = dir.write_file("forge.json", R"({"io": {"backend": "fallback"}})");
  const auto forced =
      test::run_shell("env -u FORGE_IO_BACKEND FORGE_CONFIG=" + shell_quote(file.string()) + " " +
                      forge() + " doctor --json /tmp");
  const auto report = nlohmann::json::parse(forced.out);
  EXPECT_EQ(report["io_backend"], "fallback");
  EXPECT_NE(report["io_backend_reason"].get<std::string>().find("forced"), std::string::npos);
  const auto unforced = test::run_shell("env -u FORGE_IO_BACKEND -u FORGE_CONFIG " + forge() +
                                        " --config /dev/null doctor --json /tmp");
  EXPECT_EQ(unforced.exit_code, 2) << unforced.err;  // /dev/null is not a regular file
  const auto plain =
      test::run_shell("env -u FORGE_IO_BACKEND -u FORGE_CONFIG XDG_CONFIG_HOME=" +
                      shell_quote(dir.path().string()) + " " + forge() + " doctor --json /tmp");
  EXPECT_EQ(nlohmann::json::parse(plain.out)["io_backend_reason"].get<std::string>().find("forced"),
            std::string::npos);
}

TEST(DoctorCommandTest, ForcedFallbackIsReported) {
  const auto result =
      test::run_shell("FORGE_IO_BACKEND=fallback " + forge() + " doctor --json /tmp");
  EXPECT_EQ(nlohmann::json::parse(result.out)["io_backend"], "fallback");
}

}  // namespace
}  // namespace forge
