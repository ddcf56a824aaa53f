// Windows: .gitignore rules and --exclude globs match ignoring ASCII case by default, as git
// for Windows does (core.ignorecase), through the real walker on a real tree under wine.
// tests/core/scan/ignore_rules_test.cpp (Linux: rapidcheck, fnmatch) checks the matcher.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "forge/core/scan/ignore_rules.h"
#include "forge/core/scan/walker.h"
#include "forge/test/temp_dir.h"

namespace forge::scan {
namespace {

TEST(IgnoreRulesWin32Test, RulesIgnoreCaseByDefault) {
  IgnoreRules rules;
  EXPECT_TRUE(rules.ignore_case());
  rules.add_gitignore("", "Build/\n*.OBJ\n/Docs/*.HTML\n!KEEP.obj\n");
  EXPECT_TRUE(rules.is_ignored("build", true));
  EXPECT_TRUE(rules.is_ignored("src/BUILD", true));
  EXPECT_TRUE(rules.is_ignored("a.obj", false));
  EXPECT_TRUE(rules.is_ignored("docs/index.html", false));
  EXPECT_FALSE(rules.is_ignored("keep.OBJ", false));  // the negation folds case too
  EXPECT_FALSE(rules.is_ignored("a.objx", false));
}

TEST(IgnoreRulesWin32Test, NestedGitignoreAppliesBelowItsDirectoryInAnyCase) {
  IgnoreRules rules;
  rules.add_gitignore("Sub", "/Gen/\n");
  EXPECT_TRUE(rules.is_ignored("sub/gen", true));
  EXPECT_TRUE(rules.is_ignored("SUB/GEN", true));
  EXPECT_FALSE(rules.is_ignored("other/gen", true));
}

TEST(IgnoreRulesWin32Test, CaseSensitiveRulesCanBeAskedFor) {
  IgnoreRules rules(false);
  rules.add_gitignore("", "*.OBJ\n");
  EXPECT_FALSE(rules.is_ignored("a.obj", false));
  EXPECT_TRUE(rules.is_ignored("a.OBJ", false));
}

TEST(IgnoreRulesWin32Test, TheWalkerSkipsPathsIgnoredInAnotherCase) {
  test::TempDir dir;
  dir.write_file(".gitignore", "Build/\n*.OBJ\n");
  dir.write_file("build/out.c", "o");
  dir.write_file("main.c", "m");
  dir.write_file("main.obj", "x");
  dir.write_file("tmp/x.Tmp", "t");
  WalkOptions options;
  options.excludes = {"*.TMP"};
  auto result = walk_tree(dir.path(), options);
  ASSERT_TRUE(result) << result.error().to_string();
  std::vector<std::string> paths;
  for (const auto& entry : result->entries) paths.push_back(entry.path);
  EXPECT_EQ(paths, (std::vector<std::string>{".gitignore", "main.c", "tmp"}));
}

}  // namespace
}  // namespace forge::scan
