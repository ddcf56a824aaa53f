#include "forge/core/scan/ignore_rules.h"

#include <fnmatch.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

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

// The reference: the obvious recursive matcher (exponential in `**`, fine on small
// inputs) over fnmatch(3) for single segments.
std::vector<std::string> split_reference(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool reference_match(const std::vector<std::string>& pattern, std::size_t p,
                     const std::vector<std::string>& path, std::size_t i) {
  if (p == pattern.size()) return i == path.size();
  if (pattern[p] == "**") {
    for (std::size_t k = i; k <= path.size(); ++k) {
      if (reference_match(pattern, p + 1, path, k)) return true;
    }
    return false;
  }
  if (i == path.size()) return false;
  return fnmatch(pattern[p].c_str(), path[i].c_str(), FNM_PATHNAME) == 0 &&
         reference_match(pattern, p + 1, path, i + 1);
}

std::string join_pieces(const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& piece : pieces) out += piece;
  return out;
}

// Issue 16 item 11: the linear-time matcher agrees with the reference on small patterns
// and paths built from the characters that matter (`*`, `?`, brackets, `**`, `/`).
RC_GTEST_PROP(IgnoreRulesProperty, GlobMatchAgreesWithTheReferenceMatcher, ()) {
  const auto pattern = join_pieces(*rc::gen::container<std::vector<std::string>>(
      *rc::gen::inRange<std::size_t>(1, 8),
      rc::gen::element<std::string>("a", "b", ".", "*", "?", "/", "**", "[ab]", "[!a]", "[a-c]",
                                    "[[:digit:]]", "1")));
  const auto path = join_pieces(*rc::gen::container<std::vector<std::string>>(
      *rc::gen::inRange<std::size_t>(0, 8),
      rc::gen::element<std::string>("a", "b", "c", ".", "/", "1", "[")));
  RC_ASSERT(glob_match(pattern, path) ==
            reference_match(split_reference(pattern), 0, split_reference(path), 0));
}

// Case folding (the Windows default, git's core.ignorecase) agrees with fnmatch's
// FNM_CASEFOLD on patterns and paths of both cases.
bool reference_match_folded(const std::vector<std::string>& pattern, std::size_t p,
                            const std::vector<std::string>& path, std::size_t i) {
  if (p == pattern.size()) return i == path.size();
  if (pattern[p] == "**") {
    for (std::size_t k = i; k <= path.size(); ++k) {
      if (reference_match_folded(pattern, p + 1, path, k)) return true;
    }
    return false;
  }
  if (i == path.size()) return false;
  return fnmatch(pattern[p].c_str(), path[i].c_str(), FNM_PATHNAME | FNM_CASEFOLD) == 0 &&
         reference_match_folded(pattern, p + 1, path, i + 1);
}

RC_GTEST_PROP(IgnoreRulesProperty, CaseFoldedGlobMatchAgreesWithFnmatchCasefold, ()) {
  const auto pattern = join_pieces(*rc::gen::container<std::vector<std::string>>(
      *rc::gen::inRange<std::size_t>(1, 8),
      rc::gen::element<std::string>("a", "B", "*", "?", "/", "**", "[aB]", "[!a]", "[A-C]", "\\b",
                                    "1")));
  const auto path = join_pieces(*rc::gen::container<std::vector<std::string>>(
      *rc::gen::inRange<std::size_t>(0, 8),
      rc::gen::element<std::string>("a", "A", "b", "B", "c", "/", "1")));
  RC_ASSERT(glob_match(pattern, path, true) ==
            reference_match_folded(split_reference(pattern), 0, split_reference(path), 0));
}

TEST(IgnoreRulesTest, CaseMattersOnLinuxUnlessAskedToFold) {
  IgnoreRules rules;
  EXPECT_FALSE(rules.ignore_case());
  rules.add_gitignore("", "Build/\n*.OBJ\n");
  EXPECT_FALSE(rules.is_ignored("build", true));
  EXPECT_FALSE(rules.is_ignored("a.obj", false));
  EXPECT_TRUE(rules.is_ignored("a.OBJ", false));
  IgnoreRules folded(true);
  folded.add_gitignore("Sub", "Build/\n*.OBJ\n!Keep.obj\n");
  EXPECT_TRUE(folded.is_ignored("sub/build", true));
  EXPECT_TRUE(folded.is_ignored("SUB/x/a.obj", false));
  EXPECT_FALSE(folded.is_ignored("sub/KEEP.OBJ", false));
  EXPECT_FALSE(folded.is_ignored("other/a.obj", false));
  // Classes as in git's wildmatch under WM_CASEFOLD (glibc's fnmatch differs): the text is
  // folded first, so [:upper:] and [:lower:] both take any letter.
  EXPECT_TRUE(glob_match("[[:upper:]]x", "ax", true));
  EXPECT_TRUE(glob_match("[[:lower:]]x", "AX", true));
  EXPECT_FALSE(glob_match("[[:upper:]]x", "ax", false));
}

// 14 `**` segments against a deep path that almost matches: the recursive matcher took
// over a minute on 12; this answers at once (ctest's timeout guards a regression).
TEST(IgnoreRulesTest, ManyDoubleStarSegmentsMatchInLinearTime) {
  std::string pattern;
  for (int i = 0; i < 14; ++i) pattern += "**/a/";
  pattern += "b";
  std::string path;
  for (int i = 0; i < 40; ++i) path += "a/";
  path += "c";
  EXPECT_FALSE(glob_match(pattern, path));
  EXPECT_TRUE(glob_match(pattern, path.substr(0, path.size() - 1) + "b"));
  IgnoreRules rules;
  rules.add_gitignore("", pattern + "\n");
  EXPECT_FALSE(rules.is_ignored(path, false));
}

// A single segment with many `*` is not exponential either.
TEST(IgnoreRulesTest, ManyStarsInOneSegmentMatchInPolynomialTime) {
  const std::string pattern = "*a*a*a*a*a*a*a*a*a*a*a*a*b";
  const std::string name(200, 'a');
  EXPECT_FALSE(glob_match(pattern, name));
  EXPECT_TRUE(glob_match(pattern, name + "b"));
}

}  // namespace
}  // namespace forge::scan
