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
      R"({"project_root": "/nonexistent", "io": {"batch_size": 0, "backnd": "auto"}})");
  const auto result =
      test::run_shell(forge() + " config check --json " + shell_quote(file.string()));
  EXPECT_EQ(result.exit_code, 1);
  const auto report = nlohmann::json::parse(result.out);
  EXPECT_FALSE(report["valid"].get<bool>());
  std::vector<std::string> fields;
  for (const auto& issue : report["issues"]) fields.push_back(issue["field"]);
  EXPECT_EQ(fields, (std::vector<std::string>{"io.backnd", "io.batch_size", "project_root"}));
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
  const auto result = test::run_shell(forge() + " config show --set io.batch_size=128");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(nlohmann::json::parse(result.out)["io"]["batch_size"], 128);
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

TEST(DoctorCommandTest, ForcedFallbackIsReported) {
  const auto result =
      test::run_shell("FORGE_IO_BACKEND=fallback " + forge() + " doctor --json /tmp");
  EXPECT_EQ(nlohmann::json::parse(result.out)["io_backend"], "fallback");
}

}  // namespace
}  // namespace forge
