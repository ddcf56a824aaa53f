#include "args.h"

#include <gtest/gtest.h>

namespace forge::cli {
namespace {

TEST(ArgsTest, ReadsSpacedAndEqualsOptionsAndPositionals) {
  Args args({"--algo", "sha256", "a", "--json", "--backend=uring", "b"});
  EXPECT_EQ(args.option("algo").value(), std::optional<std::string>("sha256"));
  EXPECT_EQ(args.option("backend").value(), std::optional<std::string>("uring"));
  EXPECT_TRUE(args.flag("json"));
  EXPECT_FALSE(args.flag("quiet"));
  EXPECT_EQ(args.positional(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(args.finish("--algo --backend --json"));
}

TEST(ArgsTest, UnknownOptionIsAValidationError) {
  Args args({"--jsno", "x"});
  EXPECT_FALSE(args.flag("json"));
  const auto result = args.finish("--json");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category(), ErrorCategory::validation);
}

TEST(ArgsTest, OptionWithoutValueIsAnError) {
  Args args({"--algo"});
  const auto result = args.option("algo");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code(), EINVAL);
}

TEST(ArgsTest, DashIsPositionalAndDoubleDashEndsOptions) {
  Args args({"-", "--", "--json"});
  EXPECT_FALSE(args.flag("json"));
  EXPECT_EQ(args.positional(), (std::vector<std::string>{"-", "--json"}));
  EXPECT_TRUE(args.finish(""));
}

}  // namespace
}  // namespace forge::cli
