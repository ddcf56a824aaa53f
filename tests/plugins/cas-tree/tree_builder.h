#pragma once
// A small real tree for the cas_tree tests: files, an executable, an empty file, an empty
// directory, nested directories and relative symlinks.
#include <sys/stat.h>

#include <filesystem>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge::cas_tree::testing {

inline void build_sample_tree(const test::TempDir& dir, const std::string& root) {
  dir.write_file(root + "/readme.txt", "hello\n");
  dir.write_file(root + "/empty.txt", "");
  const auto tool = dir.write_file(root + "/bin/tool", "#!/bin/sh\necho tool\n");
  ::chmod(tool.c_str(), 0755);
  dir.write_file(root + "/src/deep/nested/file.c", "int main() { return 0; }\n");
  std::filesystem::create_directories(dir / (root + "/empty/also-empty"));
  std::filesystem::create_symlink("../readme.txt", dir / (root + "/bin/readme-link"));
  std::filesystem::create_symlink("deep/nested", dir / (root + "/src/nested-link"));
}

// `count` entries in count / 50 directories: every 11th a symlink to its predecessor, every
// 7th file executable, every 13th empty; plus an empty directory tree and a link climbing
// one level.
inline void make_wide_tree(const test::TempDir& dir, const std::string& root, int count) {
  std::filesystem::create_directories(dir / (root + "/empty/deeper"));
  for (int i = 0; i < count; ++i) {
    const std::string name = root + "/dir" + std::to_string(i / 50) + "/f" + std::to_string(i);
    if (i % 11 == 10) {
      std::filesystem::create_directories((dir / name).parent_path());
      std::filesystem::create_symlink("f" + std::to_string(i - 1), dir / name);
      continue;
    }
    const auto file =
        dir.write_file(name, i % 13 == 0 ? "" : "content " + std::to_string(i) + "\n");
    if (i % 7 == 0) std::filesystem::permissions(file, std::filesystem::perms(0755));
  }
  std::filesystem::create_symlink("../dir0/f0", dir / (root + "/empty/up-link"));
}

// Every entry's path, type, mode, size and link target, sorted: what `diff -r` does not
// compare.
inline std::string listing(const std::filesystem::path& root) {
  return test::run_shell("cd " + test::shell_quote(root.string()) +
                         " && find . -printf '%p %y %m %s %l\\n' | sort")
      .out;
}

}  // namespace forge::cas_tree::testing
