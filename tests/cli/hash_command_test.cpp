// `forge hash` through the real binary, checked against the real sha256sum and xxhsum.
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
