// `forge serve` execs `forge-serve` beside it, so `forge` itself stays free of the server's
// libraries (and their start-up cost).
#include <filesystem>

#include <gtest/gtest.h>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge {
namespace {

using test::shell_quote;

TEST(ServeLauncherTest, RunsForgeServeWithTheSameArguments) {
  const auto result = test::run_shell(shell_quote(test::forge_binary().string()) +
                                      " --log-level warn serve --bogus");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("unknown option '--bogus'"), std::string::npos) << result.err;
}

TEST(ServeLauncherTest, ForgeDoesNotLoadTheServerLibraries) {
  const auto ldd = test::run_shell("ldd " + shell_quote(test::forge_binary().string()));
  ASSERT_EQ(ldd.exit_code, 0) << ldd.err;
  EXPECT_EQ(ldd.out.find("grpc"), std::string::npos) << ldd.out;
  EXPECT_EQ(ldd.out.find("protobuf"), std::string::npos) << ldd.out;
}

TEST(ServeLauncherTest, MissingServerIsAClearError) {
  test::TempDir dir;
  std::filesystem::copy_file(test::forge_binary(), dir / "forge");
  const auto result = test::run_shell(shell_quote((dir / "forge").string()) + " serve");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("forge-serve"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("hint"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace forge
