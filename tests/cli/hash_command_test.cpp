// `forge hash` through the real binary, checked against the real sha256sum and xxhsum.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge {
namespace {

using test::run_shell;
using test::shell_quote;

std::string forge() {
  return shell_quote(test::forge_binary().string());
}

TEST(HashCommandTest, OutputVerifiesWithSha256sumCheck) {
  test::TempDir dir;
  dir.write_file("a.txt", "alpha");
  dir.write_file("dir/b with space.txt", "beta");
  dir.write_file("dir/new\nline", "gamma");
  dir.write_file("dir/back\\slash", "delta");
  const auto result = run_shell("cd " + shell_quote(dir.path().string()) + " && " + forge() +
                                " hash a.txt dir | sha256sum -c");
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("a.txt: OK"), std::string::npos);
}

TEST(HashCommandTest, Xxh3OutputMatchesXxhsum) {
  test::TempDir dir;
  const auto path = dir.write_file("x.bin", std::string(100000, 'x'));
  const auto ours = run_shell(forge() + " hash --algo xxh3 " + shell_quote(path.string()));
  const auto theirs = run_shell("xxhsum -H2 " + shell_quote(path.string()));
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  EXPECT_EQ(ours.out.substr(0, 32), theirs.out.substr(0, 32));
}

TEST(HashCommandTest, BadPathIsReportedAndOthersAreStillHashed) {
  test::TempDir dir;
  const auto good = dir.write_file("good", "ok");
  const auto result = run_shell(forge() + " hash " + shell_quote((dir / "missing").string()) + " " +
                                shell_quote(good.string()));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("missing"), std::string::npos);
  EXPECT_NE(result.out.find("good"), std::string::npos);
}

TEST(HashCommandTest, ReadsNulSeparatedPathsFromStdinOnBothBackends) {
  test::TempDir dir;
  const auto a = dir.write_file("a", "1");
  const auto b = dir.write_file("b", "2");
  const std::string input = a.string() + '\0' + b.string() + '\0';
  const auto uring = run_shell(forge() + " hash --backend uring --json -", input);
  const auto fallback = run_shell(forge() + " hash --backend fallback --json -", input);
  ASSERT_EQ(uring.exit_code, 0) << uring.err;
  EXPECT_EQ(uring.out, fallback.out);
  EXPECT_NE(uring.out.find("\"sha256\""), std::string::npos);
}

TEST(HashCommandTest, UnknownAlgorithmIsAUsageError) {
  const auto result = run_shell(forge() + " hash --algo md5 /dev/null");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("md5"), std::string::npos);
}

}  // namespace
}  // namespace forge

namespace forge {
namespace {

// Issue 16 item 10: `forge hash DIR` with a FIFO, a symlink to a FIFO and a symlink to
// /dev/zero inside finishes at once (timeout guards the old hang), reports each as not a
// regular file, hashes the regular file and exits 1.
TEST(HashCommandTest, SpecialFilesInADirectoryNeverHang) {
  test::TempDir dir;
  dir.write_file("tree/regular", "data");
  const std::string tree = shell_quote((dir / "tree").string());
  const auto result = run_shell("cd " + tree + " && mkfifo fifo && ln -s fifo to_fifo && " +
                                "ln -s /dev/zero to_zero && timeout 20 " + forge() +
                                " hash --algo xxh3 . ; echo exit=$?");
  EXPECT_NE(result.out.find("exit=1"), std::string::npos) << result.out << result.err;
  EXPECT_NE(result.out.find("./regular"), std::string::npos) << result.out;
  EXPECT_NE(result.err.find("to_zero' is a character device"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("to_fifo' is a FIFO"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace forge

namespace forge {
namespace {

// Issue 20: `forge hash DIR` walks with the scanner's parallel walker. On a tree with nested
// directories, every kind of symlink, ignore files and a `.git` directory (hash ignores
// nothing), an unreadable file and an unreadable directory, it prints exactly the lines
// `find | forge hash -` prints, in std::filesystem::path order ("a/x" before "a-b" and
// "a.c"), and reports both unreadable paths. As root the commands run as nobody (setpriv),
// else a mode-000 file would still be readable.
TEST(HashCommandTest, DirectoryWalkPrintsWhatFindFedToStdinPrints) {
  test::TempDir dir;
  dir.write_file("tree/a/x", "x");
  dir.write_file("tree/a-b", "dash");
  dir.write_file("tree/a.c", "dot");
  dir.write_file("tree/n1/n2/n3/n4/deep.txt", "deep");
  dir.write_file("tree/n1/n2/mid with space.txt", "mid");
  dir.write_file("tree/.gitignore", "*.txt\n");
  dir.write_file("tree/.git/HEAD", "ref: refs/heads/main\n");
  dir.write_file("tree/secret", "unreadable");
  dir.write_file("tree/locked/inside", "behind an unreadable directory");
  const auto tree = dir / "tree";
  std::filesystem::create_symlink("a.c", tree / "link_to_file");
  std::filesystem::create_directory_symlink("n1", tree / "link_to_dir");
  std::filesystem::create_symlink("missing", tree / "dangling");
  std::filesystem::permissions(tree / "secret", std::filesystem::perms::none);
  std::filesystem::permissions(tree / "locked", std::filesystem::perms::none);
  std::filesystem::permissions(dir.path(), std::filesystem::perms::owner_all |
                                               std::filesystem::perms::group_exec |
                                               std::filesystem::perms::others_exec);
  std::string as_user;
  if (geteuid() == 0) {
    as_user = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
    const auto probe = run_shell(as_user + forge() + " hash /dev/null >/dev/null 2>&1; echo $?");
    if (probe.out != "1\n") GTEST_SKIP() << "nobody cannot run " << forge() << ": " << probe.out;
  }
  const std::string cd = "cd " + shell_quote(tree.string()) + " && ";
  const auto walked = run_shell(cd + as_user + forge() + " hash --no-agent --algo xxh3 .");
  const auto listed = run_shell(cd + as_user + "find . \\( -type f -o -type l \\) -print0 | " +
                                as_user + forge() + " hash --no-agent --algo xxh3 -");
  EXPECT_EQ(walked.exit_code, 1) << walked.err;
  EXPECT_EQ(listed.exit_code, 1) << listed.err;
  auto lines = [](const std::string& text) {
    std::vector<std::string> out;
    for (std::size_t start = 0, end; start < text.size(); start = end + 1) {
      end = text.find('\n', start);
      out.push_back(text.substr(start, end - start));
      if (end == std::string::npos) break;
    }
    return out;
  };
  auto from_walk = lines(walked.out);
  auto from_find = lines(listed.out);
  std::sort(from_find.begin(), from_find.end());
  auto sorted_walk = from_walk;
  std::sort(sorted_walk.begin(), sorted_walk.end());
  EXPECT_EQ(sorted_walk, from_find);
  std::vector<std::string> names;
  for (const auto& line : from_walk) names.push_back(line.substr(line.find("  ") + 2));
  const std::vector<std::string> expected = {"./.git/HEAD",
                                             "./.gitignore",
                                             "./a/x",
                                             "./a-b",
                                             "./a.c",
                                             "./link_to_file",
                                             "./n1/n2/mid with space.txt",
                                             "./n1/n2/n3/n4/deep.txt"};
  // The symlinks to a directory and to nothing fail, and so do both locked paths.
  EXPECT_EQ(names, expected);
  EXPECT_NE(walked.err.find("link_to_dir"), std::string::npos) << walked.err;
  EXPECT_NE(walked.err.find("dangling"), std::string::npos) << walked.err;
  EXPECT_NE(walked.err.find("secret"), std::string::npos) << walked.err;
  EXPECT_NE(walked.err.find("locked"), std::string::npos) << walked.err;
  EXPECT_EQ(walked.out.find("inside"), std::string::npos) << walked.out;
}

}  // namespace
}  // namespace forge
