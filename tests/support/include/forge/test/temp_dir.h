#pragma once
// A per-test temporary directory on the real file system (ccache's TestContext idea).
// Created under $TMPDIR (default /tmp) with a unique name; removed recursively, with
// permissions restored first, when the object dies. Not thread-safe; one per test.

#include <filesystem>
#include <string>
#include <string_view>

namespace forge::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return m_path; }
  // path() / relative
  std::filesystem::path operator/(std::string_view relative) const { return m_path / relative; }

  // Writes `content` to path()/relative, creating parent directories.
  std::filesystem::path write_file(std::string_view relative, std::string_view content) const;
  std::string read_file(std::string_view relative) const;

 private:
  std::filesystem::path m_path;
};

// The path of the built `forge` executable (from $FORGE_BINARY, set by ctest).
std::filesystem::path forge_binary();

}  // namespace forge::test
