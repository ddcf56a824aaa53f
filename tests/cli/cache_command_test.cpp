// `forge cache` through the real binary.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge {
namespace {

using test::shell_quote;

TEST(CacheCommandTest, PutPrintsTheDigestAndGetReturnsTheBytes) {
  test::TempDir dir;
  const auto file = dir.write_file("in.txt", "cached output\n");
  const std::string forge = shell_quote(test::forge_binary().string());
  const std::string store = " --dir " + shell_quote((dir / "store").string());
  const auto put = test::run_shell(forge + " cache put " + shell_quote(file.string()) + store);
  ASSERT_EQ(put.exit_code, 0) << put.err;
  const auto sha = test::run_shell("sha256sum " + shell_quote(file.string()));
  const std::string digest = put.out.substr(0, put.out.find(' '));
  EXPECT_EQ(digest, sha.out.substr(0, 64) + "/14");
  const auto get = test::run_shell(forge + " cache get " + digest + store);
  EXPECT_EQ(get.exit_code, 0) << get.err;
  EXPECT_EQ(get.out, "cached output\n");
  const auto stat = test::run_shell(forge + " cache stat" + store);
  EXPECT_EQ(nlohmann::json::parse(stat.out)["entries"], 1);
}

TEST(CacheCommandTest, MissingAndMalformedDigestsFailClearly) {
  test::TempDir dir;
  const std::string forge = shell_quote(test::forge_binary().string());
  const std::string store = " --dir " + shell_quote((dir / "store").string());
  const auto missing = test::run_shell(
      forge + " cache get 0000000000000000000000000000000000000000000000000000000000000000/5" +
      store);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not in"), std::string::npos);
  const auto malformed = test::run_shell(forge + " cache get nothex/5" + store);
  EXPECT_EQ(malformed.exit_code, 2);
  EXPECT_NE(malformed.err.find("malformed"), std::string::npos);
}

}  // namespace
}  // namespace forge
