#pragma once
// TempDir for the Windows tests (tests/support/temp_dir.cpp is POSIX): a fresh directory
// under %TEMP%, removed with everything in it when destroyed.

#ifndef _WIN32
#error "temp_dir_win32.h is for the Windows build only"
#endif

#include <windows.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <string_view>

namespace forge::test {

class TempDirWin32 {
 public:
  TempDirWin32() {
    std::random_device seed;
    const auto base = std::filesystem::temp_directory_path();
    for (;;) {
      m_path = base / ("forge-test-" + std::to_string(::GetCurrentProcessId()) + "-" +
                       std::to_string(seed()));
      if (std::filesystem::create_directory(m_path)) break;
    }
  }
  TempDirWin32(const TempDirWin32&) = delete;
  TempDirWin32& operator=(const TempDirWin32&) = delete;
  ~TempDirWin32() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }

  const std::filesystem::path& path() const { return m_path; }
  std::filesystem::path operator/(const std::filesystem::path& relative) const {
    return m_path / relative;
  }

  std::filesystem::path write_file(const std::filesystem::path& relative,
                                   std::string_view content) const {
    const auto path = m_path / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(content.data(), static_cast<std::streamsize>(content.size()));
    return path;
  }

 private:
  std::filesystem::path m_path;
};

}  // namespace forge::test
