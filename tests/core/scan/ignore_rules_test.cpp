#include "forge/core/scan/ignore_rules.h"

#include <gtest/gtest.h>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge::scan {
namespace {

TEST(IgnoreRulesTest, BasenamePatternsMatchAtAnyDepth) {
  IgnoreRules rules;
  rules.add_gitignore("", "*.o\nbuild/\n");
  EXPECT_TRUE(rules.is_ignored("a.o", false));
  EXPECT_TRUE(rules.is_ignored("src/deep/a.o", false));
  EXPECT_FALSE(rules.is_ignored("a.c", false));
  EXPECT_TRUE(rules.is_ignored("build", true));
  EXPECT_TRUE(rules.is_ignored("sub/build", true));
  EXPECT_FALSE(rules.is_ignored("build", false));  // dir-only pattern, a file named build
}

TEST(IgnoreRulesTest, AnchoredPatternsMatchOnlyBelowTheirGitignore) {
  IgnoreRules rules;
  rules.add_gitignore("", "/top.txt\ndoc/*.html\n");
  rules.add_gitignore("sub", "local.txt\n/anchored\n");
  EXPECT_TRUE(rules.is_ignored("top.txt", false));
  EXPECT_FALSE(rules.is_ignored("x/top.txt", false));
  EXPECT_TRUE(rules.is_ignored("doc/a.html", false));
  EXPECT_FALSE(rules.is_ignored("doc/x/a.html", false));
  EXPECT_TRUE(rules.is_ignored("sub/local.txt", false));
  EXPECT_TRUE(rules.is_ignored("sub/deeper/local.txt", false));
  EXPECT_FALSE(rules.is_ignored("local.txt", false));
  EXPECT_TRUE(rules.is_ignored("sub/anchored", false));
  EXPECT_FALSE(rules.is_ignored("sub/deeper/anchored", false));
}

TEST(IgnoreRulesTest, NegationAndDoubleStar) {
  IgnoreRules rules;
  rules.add_gitignore("", "*.log\n!keep.log\n**/gen/**\na/**/z\n# comment\n\n");
  EXPECT_TRUE(rules.is_ignored("x.log", false));
  EXPECT_FALSE(rules.is_ignored("keep.log", false));
  EXPECT_TRUE(rules.is_ignored("gen/x", false));
  EXPECT_TRUE(rules.is_ignored("p/gen/q/x", false));
  EXPECT_TRUE(rules.is_ignored("a/z", false));
  EXPECT_TRUE(rules.is_ignored("a/b/c/z", false));
  EXPECT_FALSE(rules.is_ignored("b/z", false));
}

TEST(IgnoreRulesTest, ExcludeGlobsMatchPathOrBasename) {
  IgnoreRules rules;
  rules.add_exclude("*.tmp");
  rules.add_exclude("third_party/**");
  EXPECT_TRUE(rules.is_ignored("x/y.tmp", false));
  EXPECT_TRUE(rules.is_ignored("third_party/lib/a.c", false));
  EXPECT_FALSE(rules.is_ignored("src/a.c", false));
}

// The same tree and .gitignore files, asked of git itself.
TEST(IgnoreRulesTest, AgreesWithGitCheckIgnore) {
  test::TempDir dir;
  const std::string gitignore = "*.o\n!keep.o\n/root_only\nlogs/\ndocs/**/*.tmp\n[ab].bin\n";
  const std::string sub_ignore = "*.gen\n/here\n";
  dir.write_file(".gitignore", gitignore);
  dir.write_file("sub/.gitignore", sub_ignore);
  const std::vector<std::string> paths{
      "a.o",        "keep.o",         "sub/x.o",       "root_only", "sub/root_only", "logs/x",
      "sub/logs/y", "docs/a/b/c.tmp", "docs/c.tmp",    "a.bin",     "c.bin",         "sub/q.gen",
      "q.gen",      "sub/here",       "sub/deep/here", "plain.c"};
  std::string stdin_paths;
  for (const auto& path : paths) {
    dir.write_file(path, "x");
    stdin_paths += path + "\n";
  }
  const auto git = test::run_shell("cd " + test::shell_quote(dir.path().string()) +
                                       " && git init -q . && git check-ignore --stdin",
                                   stdin_paths);
  IgnoreRules rules;
  rules.add_gitignore("", gitignore);
  rules.add_gitignore("sub", sub_ignore);
  for (const auto& path : paths) {
    // logs/ is a directory pattern: git reports the file because its parent is ignored.
    const bool parent_ignored = path.find('/') != std::string::npos &&
                                rules.is_ignored(path.substr(0, path.rfind('/')), true);
    const bool ours = parent_ignored || rules.is_ignored(path, false);
    const bool theirs =
        git.out.find(path + "\n") == 0 || git.out.find("\n" + path + "\n") != std::string::npos;
    EXPECT_EQ(ours, theirs) << path;
  }
}

}  // namespace
}  // namespace forge::scan
