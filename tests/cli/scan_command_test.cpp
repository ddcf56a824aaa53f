// `forge scan` through the real binary: JSON output, cursors, exit codes.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge {
namespace {

using test::shell_quote;

nlohmann::json scan_json(const test::TempDir& dir, const std::string& extra = {}) {
  const auto result =
      test::run_shell(shell_quote(test::forge_binary().string()) + " scan --json --index-dir " +
                      shell_quote((dir / "index").string()) + " " +
                      shell_quote((dir / "tree").string()) + " " + extra);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return nlohmann::json::parse(result.out);
}

TEST(ScanCommandTest, ReportsAddedThenModifiedAndAnswersSinceCursor) {
  test::TempDir dir;
  dir.write_file("tree/a.c", "int a;");
  dir.write_file("tree/.gitignore", "*.o\n");
  dir.write_file("tree/a.o", "obj");
  const auto first = scan_json(dir);
  EXPECT_TRUE(first["fresh_instance"].get<bool>());
  EXPECT_EQ(first["changes"].size(), 2u);  // .gitignore and a.c; a.o is ignored
  const std::string cursor = first["cursor"];
  dir.write_file("tree/a.c", "int a = 1;");
  const auto second = scan_json(dir);
  ASSERT_EQ(second["changes"].size(), 1u);
  EXPECT_EQ(second["changes"][0]["path"], "a.c");
  EXPECT_EQ(second["changes"][0]["change"], "modified");
  const auto since = scan_json(dir, "--since " + shell_quote(cursor));
  EXPECT_FALSE(since["fresh_instance"].get<bool>());
  ASSERT_EQ(since["changes"].size(), 1u);
  const auto unknown = scan_json(dir, "--since bogus:7");
  EXPECT_TRUE(unknown["fresh_instance"].get<bool>());
}

TEST(ScanCommandTest, MissingRootFailsWithTheOsError) {
  test::TempDir dir;
  const auto result = test::run_shell(shell_quote(test::forge_binary().string()) + " scan " +
                                      shell_quote((dir / "absent").string()));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("forge scan: "), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("absent"), std::string::npos);
}

TEST(ScanCommandTest, UnknownOptionIsAUsageError) {
  const auto result =
      test::run_shell(shell_quote(test::forge_binary().string()) + " scan --frobnicate .");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--frobnicate"), std::string::npos);
}

}  // namespace
}  // namespace forge
