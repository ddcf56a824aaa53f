// libcurl is loaded on first use (cache/src/libcurl_loader.h): processes that never talk to
// an upstream do not load it, and one that cannot load it says so and how to fix it.
#include <gtest/gtest.h>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge::test {
namespace {

TEST(LibcurlLoaderTest, TheForgeBinaryDoesNotLinkLibcurl) {
  const auto needed = run_shell("readelf -d " + shell_quote(forge_binary().string()));
  ASSERT_EQ(needed.exit_code, 0) << needed.err;
  ASSERT_NE(needed.out.find("(NEEDED)"), std::string::npos) << needed.out;
  EXPECT_EQ(needed.out.find("libcurl"), std::string::npos) << needed.out;
}

TEST(LibcurlLoaderTest, AnUpstreamWithoutLibcurlIsAClearDependencyError) {
  TempDir dir;
  const std::string pull =
      shell_quote(forge_binary().string()) + " cache pull " + std::string(64, 'a') + " --dir " +
      shell_quote((dir / "store").string()) + " --upstream http://127.0.0.1:9/";
  const auto missing =
      run_shell("FORGE_LIBCURL=" + shell_quote((dir / "no-libcurl.so").string()) + " " + pull);
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("libcurl"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("install libcurl4"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("FORGE_LIBCURL"), std::string::npos) << missing.err;
  // With the real library the same command gets as far as the network (nothing listens on
  // port 9): a network failure, not a missing library.
  const auto loaded = run_shell(pull);
  EXPECT_NE(loaded.exit_code, 0);
  EXPECT_EQ(loaded.err.find("could not be loaded"), std::string::npos) << loaded.err;
}

}  // namespace
}  // namespace forge::test
