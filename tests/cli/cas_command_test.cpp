// `forge cas upload|download` through the real binary, on a real tree built by the shell.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../plugins/cas-tree/tree_builder.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge {
namespace {

using test::shell_quote;

TEST(CasCommandTest, UploadThenDownloadRoundTripsATreeByteForByte) {
  test::TempDir dir;
  cas_tree::testing::make_wide_tree(dir, "tree", 300);
  const std::string forge = shell_quote(test::forge_binary().string());
  const std::string store = " --dir " + shell_quote((dir / "store").string());
  // --no-fsync: 300 fsyncs cost seconds on a loaded CI disk; durability is the store's test.
  const std::string upload_tree =
      forge + " cas upload --no-fsync " + shell_quote((dir / "tree").string()) + store;
  const auto upload = test::run_shell(upload_tree);
  ASSERT_EQ(upload.exit_code, 0) << upload.err;
  const std::string root = upload.out.substr(0, upload.out.find('\n'));
  const auto again = test::run_shell(upload_tree);
  EXPECT_EQ(again.out, upload.out);  // deterministic

  for (const std::string& mode : {std::string(), std::string(" --hardlink")}) {
    const auto out = dir / ("out" + std::to_string(mode.size()));
    const auto download = test::run_shell(forge + " cas download " + root + " " +
                                          shell_quote(out.string()) + store + mode);
    ASSERT_EQ(download.exit_code, 0) << download.err;
    const auto summary = nlohmann::json::parse(download.out);
    EXPECT_EQ(summary["files"].get<int>() + summary["symlinks"].get<int>(), 301);
    const auto diff =
        test::run_shell("diff -r --no-dereference " + shell_quote((dir / "tree").string()) + " " +
                        shell_quote(out.string()));
    EXPECT_EQ(diff.exit_code, 0) << diff.out << diff.err;
    if (mode.empty()) {
      EXPECT_EQ(cas_tree::testing::listing(out), cas_tree::testing::listing(dir / "tree"));
    }
  }
}

TEST(CasCommandTest, BadInputFailsWithAClearErrorAndExitCode) {
  test::TempDir dir;
  const std::string forge = shell_quote(test::forge_binary().string());
  const std::string store = " --dir " + shell_quote((dir / "store").string());
  EXPECT_EQ(test::run_shell(forge + " cas").exit_code, 2);
  EXPECT_EQ(test::run_shell(forge + " cas upload" + store).exit_code, 2);
  EXPECT_EQ(test::run_shell(forge + " cas download nothex/1 out" + store).exit_code, 2);
  const auto absent =
      test::run_shell(forge + " cas upload " + shell_quote((dir / "nope").string()) + store);
  EXPECT_EQ(absent.exit_code, 1);
  EXPECT_NE(absent.err.find("nope"), std::string::npos);
  const auto missing = test::run_shell(
      forge + " cas download 0000000000000000000000000000000000000000000000000000000000000000/5 " +
      shell_quote((dir / "out").string()) + store);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not in the store"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
  // A tree with an absolute symlink uploads (REAPI allows it) but is not materialized.
  std::filesystem::create_directories(dir / "abs");
  std::filesystem::create_symlink("/etc/passwd", dir / "abs/passwd");
  const auto upload =
      test::run_shell(forge + " cas upload " + shell_quote((dir / "abs").string()) + store);
  ASSERT_EQ(upload.exit_code, 0) << upload.err;
  const auto refused =
      test::run_shell(forge + " cas download " + upload.out.substr(0, upload.out.find('\n')) + " " +
                      shell_quote((dir / "out").string()) + store);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("absolute"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
}

}  // namespace
}  // namespace forge
