#include "forge/core/scan/walker.h"

#include <algorithm>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "forge/test/temp_dir.h"

namespace forge::scan {
namespace {

std::vector<std::string> paths_of(const WalkResult& result) {
  std::vector<std::string> paths;
  for (const auto& entry : result.entries) paths.push_back(entry.path);
  return paths;
}

TEST(WalkerTest, ListsFilesDirectoriesAndSymlinksSortedWithoutFollowing) {
  test::TempDir dir;
  dir.write_file("b.txt", "b");
  dir.write_file("a/inner.txt", "i");
  std::error_code ec;
  std::filesystem::create_directory_symlink(dir / "a", dir / "link_to_a", ec);
#ifdef _WIN32
  if (ec) GTEST_SKIP() << "no symlink can be made here: " << ec.message();
#endif
  ASSERT_FALSE(ec) << ec.message();
  auto result = walk_tree(dir.path(), {});
  ASSERT_TRUE(result);
  EXPECT_EQ(paths_of(*result),
            (std::vector<std::string>{"a", "a/inner.txt", "b.txt", "link_to_a"}));
  EXPECT_EQ(result->entries[3].type, EntryType::symlink);
  EXPECT_EQ(result->entries[0].type, EntryType::directory);
}

TEST(WalkerTest, OrdersPathsByteWiseAcrossDirectoryBoundaries) {
  test::TempDir dir;
  // '-' and '.' sort before '/', '0' after it: a directory's subtree is not contiguous with
  // its own entry.
  dir.write_file("a/x", "");
  dir.write_file("a/b/y", "");
  dir.write_file("a/b.c", "");
  dir.write_file("a.c", "");
  dir.write_file("a-b/z", "");
  dir.write_file("a0", "");
  dir.write_file("B", "");  // upper case sorts first (not "A": Windows names ignore case)
  auto result = walk_tree(dir.path(), {});
  ASSERT_TRUE(result);
  std::vector<std::string> expected = {"B",   "a",     "a-b",   "a-b/z", "a.c",
                                       "a/b", "a/b.c", "a/b/y", "a/x",   "a0"};
  EXPECT_EQ(paths_of(*result), expected);
  auto sorted = paths_of(*result);
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, expected);
}

TEST(WalkerTest, ListsADirectoryLargerThanOneReadBuffer) {
  test::TempDir dir;
  // 2000 names of 60 bytes: ~160 KiB of dirents, several times the first read buffer. On
  // Windows 600 (~130 KiB of records, two 64 KiB listing calls): creating a file under wine
  // reads its whole directory (names ignore case), so 2000 take seconds.
#ifdef _WIN32
  constexpr int k_files = 600;
#else
  constexpr int k_files = 2000;
#endif
  std::vector<std::string> expected;
  for (int i = 0; i < k_files; ++i) {
    expected.push_back(fmt::format("big/{:04}-{}", i, std::string(50, 'n')));
    dir.write_file(expected.back(), "");
  }
  expected.insert(expected.begin(), "big");
  auto result = walk_tree(dir.path(), {});
  ASSERT_TRUE(result);
  EXPECT_EQ(paths_of(*result), expected);
  ASSERT_TRUE(result->entries[1].stat);
  EXPECT_EQ(result->entries[1].stat->size, 0u);
}

TEST(WalkerTest, SkipsGitForgeIgnoredExcludedAndSkipDirs) {
  test::TempDir dir;
  dir.write_file(".git/HEAD", "ref");
  dir.write_file(".forge/index", "x");
  dir.write_file(".gitignore", "*.o\n");
  dir.write_file("keep.c", "c");
  dir.write_file("drop.o", "o");
  dir.write_file("tmp/x.tmp", "t");
  dir.write_file("store/blob", "b");
  WalkOptions options;
  options.excludes = {"*.tmp"};
  options.skip_dirs = {dir / "store"};
  auto result = walk_tree(dir.path(), options);
  ASSERT_TRUE(result);
  EXPECT_EQ(paths_of(*result), (std::vector<std::string>{".gitignore", "keep.c", "store", "tmp"}));
}

TEST(WalkerTest, MissingRootIsAFileSystemError) {
  test::TempDir dir;
  auto result = walk_tree(dir / "absent", {});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category(), ErrorCategory::file_system);
  EXPECT_EQ(result.error().code(), ENOENT);
}

}  // namespace
}  // namespace forge::scan
