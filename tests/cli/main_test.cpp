// The `forge` executable's global behaviour: help, version, global log options.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

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
  EXPECT_EQ(result.out.rfind("forge ", 0), 0u);
}

TEST(MainTest, JsonLogFormatWritesJsonLinesAtTheChosenLevel) {
  const auto result =
      test::run_shell(forge() + " --log-level debug --log-format json hash /dev/null");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  ASSERT_FALSE(result.err.empty());
  const auto line = nlohmann::json::parse(result.err.substr(0, result.err.find('\n')));
  EXPECT_EQ(line["level"], "debug");
  EXPECT_TRUE(line.contains("timestamp"));
  const auto quiet =
      test::run_shell(forge() + " --log-level error --log-format json hash /dev/null");
  EXPECT_TRUE(quiet.err.empty()) << quiet.err;
}

TEST(MainTest, ForgeLogEnvironmentSetsTheLevelAndBadLevelIsAUsageError) {
  const auto verbose =
      test::run_shell("FORGE_LOG=debug " + forge() + " --log-format json hash /dev/null");
  EXPECT_FALSE(verbose.err.empty());
  const auto bad = test::run_shell(forge() + " --log-level loud hash /dev/null");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("loud"), std::string::npos);
}

TEST(MainTest, UnknownCommandIsAUsageError) {
  const auto result = test::run_shell(forge() + " frobnicate");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("frobnicate"), std::string::npos);
}

}  // namespace
}  // namespace forge
