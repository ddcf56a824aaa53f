#include "forge/cmake/process.h"

#include <gtest/gtest.h>

#include "forge/test/temp_dir.h"

namespace forge::cmake {
namespace {

TEST(CmakeProcessTest, CapturesBothStreamsExitCodeAndRunsInCwd) {
  test::TempDir dir;
  auto result = run_program({"sh", "-c", "pwd; echo oops >&2; exit 3"}, dir.path());
  ASSERT_TRUE(result) << result.error().to_string();
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->out, dir.path().string() + "\n");
  EXPECT_EQ(result->err, "oops\n");
}

TEST(CmakeProcessTest, LargeOutputOnBothStreamsDoesNotDeadlock) {
  test::TempDir dir;
  auto result = run_program({"sh", "-c", "head -c 300000 /dev/zero >&2; head -c 300000 /dev/zero"},
                            dir.path());
  ASSERT_TRUE(result) << result.error().to_string();
  EXPECT_EQ(result->out.size(), 300000u);
  EXPECT_EQ(result->err.size(), 300000u);
}

TEST(CmakeProcessTest, MissingProgramIsADependencyError) {
  test::TempDir dir;
  auto result = run_program({"forge-no-such-program-xyz"}, dir.path());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category(), ErrorCategory::dependency);
  EXPECT_EQ(result.error().code(), ENOENT);
}

}  // namespace
}  // namespace forge::cmake
