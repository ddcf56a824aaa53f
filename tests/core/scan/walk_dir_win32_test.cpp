// The walker on Windows paths (walk_dir_win32.cpp, path_text.h): names that are not ASCII
// come out as UTF-8 with '/', a tree deeper than MAX_PATH is walked (`\\?\`), a root given
// with '/' or '\' walks the same, and the stats of a listing equal the IOCP backend's lstat.

#include <windows.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "forge/core/io/win32_stat.h"
#include "forge/core/scan/walker.h"
#include "forge/core/support/path_text.h"
#include "forge/test/temp_dir.h"

namespace forge::scan {
namespace {

std::vector<std::string> paths_of(const WalkResult& result) {
  std::vector<std::string> paths;
  for (const auto& entry : result.entries) paths.push_back(entry.path);
  return paths;
}

TEST(WalkDirWin32Test, NamesThatAreNotAsciiComeOutAsUtf8WithSlashes) {
  test::TempDir dir;
  // "é" (2 UTF-8 bytes), "日本" (3 each), and a name outside the BMP (a UTF-16 pair).
  dir.write_file("caf\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC.txt", "jp");
  std::filesystem::create_directories(dir.path() / path_from_utf8("\xF0\x9F\x98\x80"));
  auto result = walk_tree(dir.path(), {});
  ASSERT_TRUE(result) << result.error().to_string();
  EXPECT_TRUE(result->errors.empty());
  EXPECT_EQ(paths_of(*result),
            (std::vector<std::string>{"caf\xC3\xA9", "caf\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC.txt",
                                      "\xF0\x9F\x98\x80"}));
  ASSERT_TRUE(result->entries[1].stat);
  EXPECT_EQ(result->entries[1].stat->size, 2u);
}

TEST(WalkDirWin32Test, ATreeDeeperThanMaxPathIsWalked) {
  test::TempDir dir;
  // 12 levels of 30 characters: over 360 characters, past MAX_PATH (260), made through \\?\.
  std::filesystem::path deep = dir.path();
  std::string relative;
  for (int level = 0; level < 12; ++level) {
    const std::string name = std::string(29, 'd') + std::to_string(level % 10);
    deep /= name;
    relative += (relative.empty() ? "" : "/") + name;
    ASSERT_TRUE(::CreateDirectoryW(win32_path(deep).c_str(), nullptr) ||
                ::GetLastError() == ERROR_ALREADY_EXISTS);
  }
  ASSERT_GE(deep.native().size(), static_cast<std::size_t>(MAX_PATH));
  const HANDLE file = ::CreateFileW(win32_path(deep / L"leaf.txt").c_str(), GENERIC_WRITE, 0,
                                    nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
  ASSERT_NE(file, INVALID_HANDLE_VALUE);
  DWORD written = 0;
  ASSERT_TRUE(::WriteFile(file, "leaf", 4, &written, nullptr));
  ::CloseHandle(file);
  auto result = walk_tree(dir.path(), {});
  ASSERT_TRUE(result) << result.error().to_string();
  EXPECT_TRUE(result->errors.empty()) << result->errors.front().to_string();
  ASSERT_EQ(result->entries.size(), 13u);
  EXPECT_EQ(result->entries.back().path, relative + "/leaf.txt");
  ASSERT_TRUE(result->entries.back().stat);
  EXPECT_EQ(result->entries.back().stat->size, 4u);
  // Removing the tree needs \\?\ too (TempDir's remove_all would stop at MAX_PATH).
  for (std::filesystem::path at = deep; at != dir.path(); at = at.parent_path()) {
    if (at == deep) ::DeleteFileW(win32_path(at / L"leaf.txt").c_str());
    ::RemoveDirectoryW(win32_path(at).c_str());
  }
}

TEST(WalkDirWin32Test, ARootWithForwardOrBackSlashesWalksTheSame) {
  test::TempDir dir;
  dir.write_file("a/b.txt", "b");
  const std::string utf8 = path_utf8(dir.path());  // 'C:/users/...'
  std::string backslashed = utf8;
  for (char& c : backslashed) c = c == '/' ? '\\' : c;
  auto forward = walk_tree(path_from_utf8(utf8), {});
  auto backward = walk_tree(path_from_utf8(backslashed), {});
  ASSERT_TRUE(forward);
  ASSERT_TRUE(backward);
  EXPECT_EQ(paths_of(*forward), (std::vector<std::string>{"a", "a/b.txt"}));
  EXPECT_EQ(paths_of(*forward), paths_of(*backward));
}

TEST(WalkDirWin32Test, AListingsStatsEqualTheBackendsLstat) {
  test::TempDir dir;
  dir.write_file("f.txt", "12345");
  dir.write_file("d/g.txt", "");
  auto result = walk_tree(dir.path(), {});
  ASSERT_TRUE(result);
  ASSERT_EQ(result->entries.size(), 3u);
  for (const WalkEntry& entry : result->entries) {
    ASSERT_TRUE(entry.stat) << entry.path;
    auto direct = io::lstat_win32(dir.path() / path_from_utf8(entry.path));
    ASSERT_TRUE(direct) << direct.error().to_string();
    EXPECT_EQ(entry.stat->size, direct->size) << entry.path;
    EXPECT_EQ(entry.stat->ino, direct->ino) << entry.path;
    EXPECT_EQ(entry.stat->dev, direct->dev) << entry.path;
    EXPECT_EQ(entry.stat->mtime_ns, direct->mtime_ns) << entry.path;
    EXPECT_EQ(entry.stat->ctime_ns, direct->ctime_ns) << entry.path;
    EXPECT_EQ(entry.stat->mode, direct->mode) << entry.path;
  }
}

}  // namespace
}  // namespace forge::scan
