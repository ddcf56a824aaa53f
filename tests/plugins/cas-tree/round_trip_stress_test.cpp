// `forge cas upload` then `download` of a 10k-file tree (FORGE_STRESS_FILES to change the
// size) through the real binary, compared with diff -r and a listing of modes and links.
#include <cstdlib>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forge/test/process.h"
#include "tree_builder.h"

namespace forge::cas_tree {
namespace {

using test::shell_quote;

TEST(CasTreeStressTest, TenThousandFileTreeRoundTripsThroughTheCli) {
  const char* env = std::getenv("FORGE_STRESS_FILES");
  const int count = env != nullptr ? std::atoi(env) : 10'000;
  test::TempDir dir;
  testing::make_wide_tree(dir, "tree", count);
  const std::string forge = shell_quote(test::forge_binary().string());
  const std::string store = " --dir " + shell_quote((dir / "store").string());
  const auto upload = test::run_shell(forge + " cas upload --no-fsync " +
                                      shell_quote((dir / "tree").string()) + store);
  ASSERT_EQ(upload.exit_code, 0) << upload.err;
  const std::string root = upload.out.substr(0, upload.out.find('\n'));
  for (const std::string& mode : {std::string(), std::string(" --hardlink")}) {
    const auto out = dir / ("out" + std::to_string(mode.size()));
    const auto download = test::run_shell(forge + " cas download " + root + " " +
                                          shell_quote(out.string()) + store + mode);
    ASSERT_EQ(download.exit_code, 0) << download.err;
    const auto summary = nlohmann::json::parse(download.out);
    EXPECT_EQ(summary["files"].get<int>() + summary["symlinks"].get<int>(), count + 1);
    const auto diff =
        test::run_shell("diff -r --no-dereference " + shell_quote((dir / "tree").string()) + " " +
                        shell_quote(out.string()));
    EXPECT_EQ(diff.exit_code, 0) << diff.out.substr(0, 2000) << diff.err;
    if (mode.empty()) {
      EXPECT_EQ(testing::listing(out), testing::listing(dir / "tree"));
    }
  }
}

}  // namespace
}  // namespace forge::cas_tree
