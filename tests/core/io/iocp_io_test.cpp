// IocpIO (Windows build, run under wine): what only the IOCP backend promises beyond the
// PlatformIO contract, which platform_io_win32_test.cpp checks on every Windows backend.
#include <gtest/gtest.h>

#include "forge/core/io/iocp_io_win32.h"
#include "temp_dir_win32.h"

namespace forge::io {
namespace {

using forge::test::TempDirWin32;

// Many reads in flight: with a roomy limit, files are open at once while earlier ones are
// still being read (the caller opens the next file as soon as a read is pending).
TEST(IocpIoTest, ManyFilesAreReadAtOnce) {
  TempDirWin32 dir;
  std::vector<std::filesystem::path> paths;
  for (unsigned i = 0; i < 64; ++i) {
    paths.push_back(
        dir.write_file("f" + std::to_string(i), std::string(1 << 20, char('a' + i % 26))));
  }
  auto handles = std::make_shared<support::ResourceManager>(256);
  auto io = create_iocp_io(support::IoConfig{}, handles);
  ASSERT_TRUE(io.has_value()) << io.error().summary();
  EXPECT_EQ((*io)->backend_name(), "iocp");
  for (const auto& result : (*io)->batch_hash(paths, hash::AlgorithmSet::both())) {
    ASSERT_TRUE(result.has_value());
  }
  EXPECT_GT(handles->high_water_mark(), 1u);
  EXPECT_EQ(handles->active(), 0u);
}

}  // namespace
}  // namespace forge::io
