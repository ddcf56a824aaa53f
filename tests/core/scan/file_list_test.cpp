#include "forge/core/scan/file_list.h"

#ifndef _WIN32
#include <sys/stat.h>
#endif

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "forge/test/temp_dir.h"

namespace forge::scan {
namespace {

[[maybe_unused]] std::vector<std::string> relative_paths(const FileList& list,
                                                         const std::filesystem::path& root) {
  std::vector<std::string> out;
  for (const auto& path : list.files) out.push_back(path.lexically_relative(root).string());
  return out;
}

TEST(FileListTest, ListsFilesAndSymlinksInPathOrderWithoutIgnoreRules) {
#ifdef _WIN32
  GTEST_SKIP() << "POSIX only: a FIFO and a symlink in the tree, and \"A\" beside \"a\"";
#else
  test::TempDir dir;
  dir.write_file("a/x", "");
  dir.write_file("a/b/y", "");
  dir.write_file("a-b", "");
  dir.write_file("a.c", "");
  dir.write_file("A", "");
  dir.write_file(".gitignore", "*\n");
  dir.write_file(".git/HEAD", "");
  dir.write_file(".forge/index", "");
  dir.write_file(".forge-cookie-1", "");
  std::filesystem::create_directory_symlink(dir / "a", dir / "to_a");
  std::filesystem::create_directories(dir / "empty");
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0644), 0);
  auto list = list_files(dir.path());
  ASSERT_TRUE(list) << list.error().to_string();
  EXPECT_TRUE(list->errors.empty());
  const std::vector<std::string> expected = {".forge/index",
                                             ".forge-cookie-1",
                                             ".git/HEAD",
                                             ".gitignore",
                                             "A",
                                             "a/b/y",
                                             "a/x",
                                             "a-b",
                                             "a.c",
                                             "to_a"};
  EXPECT_EQ(relative_paths(*list, dir.path()), expected);
  // The order is std::filesystem::path's.
  EXPECT_TRUE(std::is_sorted(list->files.begin(), list->files.end()));
#endif
}

TEST(FileListTest, PathsAreRootJoinedWithTheRelativePath) {
  test::TempDir dir;
  dir.write_file("d/f", "");
  auto list = list_files(dir / "d");
  ASSERT_TRUE(list);
  ASSERT_EQ(list->files.size(), 1u);
  EXPECT_EQ(list->files[0], dir / "d" / "f");
}

TEST(FileListTest, ARootThatIsNotADirectoryFails) {
  test::TempDir dir;
  const auto file = dir.write_file("f", "");
  auto list = list_files(file);
  ASSERT_FALSE(list);
  EXPECT_EQ(list.error().code(), ENOTDIR);
}

TEST(FileListTest, ComponentOrderMatchesFilesystemPathOrder) {
  const std::vector<std::string> names = {"a",   "a/x", "a-b", "a.c", "ab/c", "a/b/c", "b",
                                          "a/b", "A",   "a0",  "é",   "a/é",  ".x",    "a/.y"};
  for (const auto& left : names) {
    for (const auto& right : names) {
      EXPECT_EQ(component_less(left, right),
                std::filesystem::path(left) < std::filesystem::path(right))
          << left << " vs " << right;
    }
  }
}

}  // namespace
}  // namespace forge::scan
