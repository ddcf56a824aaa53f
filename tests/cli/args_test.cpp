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

TEST(ParseByteSizeTest, AcceptsPlainAndSuffixedSizes) {
  EXPECT_EQ(parse_byte_size("4096", "--max-size").value(), 4096u);
  EXPECT_EQ(parse_byte_size("512K", "--max-size").value(), 512u << 10);
  EXPECT_EQ(parse_byte_size("64m", "--max-size").value(), 64u << 20);
  EXPECT_EQ(parse_byte_size("10GiB", "--max-size").value(), 10ull << 30);
  EXPECT_EQ(parse_byte_size("1T", "--max-size").value(), 1ull << 40);
  EXPECT_EQ(parse_byte_size("100B", "--max-size").value(), 100u);
}

TEST(ParseByteSizeTest, RejectsJunkNamingTheOption) {
  for (const char* bad : {"", "G", "10X", "10GG", "-1", "99999999999T"}) {
    auto size = parse_byte_size(bad, "--max-size");
    ASSERT_FALSE(size) << bad;
    EXPECT_NE(size.error().message().find("--max-size"), std::string::npos);
    EXPECT_EQ(size.error().category(), ErrorCategory::validation);
  }
}

}  // namespace
}  // namespace forge::cli
