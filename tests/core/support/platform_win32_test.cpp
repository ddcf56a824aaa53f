// detect_platform() and Error's platform context in the Windows build (run under wine).
// Feature: platform-native-io-hardening, Property 1: the reported platform matches the build.
#include <windows.h>

#include <gtest/gtest.h>

#include "forge/core/support/error.h"
#include "forge/core/support/platform.h"

namespace forge::support {
namespace {

TEST(PlatformWin32Test, Property1_ReportsWindowsAndTheMachine) {
  const PlatformInfo info = detect_platform();
  EXPECT_EQ(info.os, "Windows");
  EXPECT_EQ(info.architecture, "x86_64");
  SYSTEM_INFO system{};
  ::GetNativeSystemInfo(&system);
  EXPECT_EQ(info.cpu_count, system.dwNumberOfProcessors);
  EXPECT_GE(info.cpu_count, 1u);
  EXPECT_EQ(info.page_size, 4096u);
  // "major.minor.build" from the kernel, e.g. "10.0.19045" (wine reports its chosen version).
  EXPECT_NE(info.kernel_release.find('.'), std::string::npos) << info.kernel_release;
  // Linux-only facts stay at "could not be read".
  EXPECT_EQ(info.inotify_max_user_watches, 0u);
  EXPECT_EQ(info.io_uring_disabled, -1);
}

TEST(PlatformWin32Test, Property1_ErrorsCarryTheWindowsPlatform) {
  const Error error = Error::from_errno(ENOENT, "open", "C:/nowhere");
  EXPECT_EQ(error.context().platform, "Windows");
  EXPECT_EQ(error.category(), ErrorCategory::file_system);
  EXPECT_EQ(error.code(), ENOENT);
}

// The errno names the CRT lacks (posix_compat_win32.h) map like on Linux.
TEST(PlatformWin32Test, CompatErrnoValuesKeepTheirCategories) {
  EXPECT_EQ(category_for_errno(EDQUOT), ErrorCategory::file_system);
  EXPECT_EQ(category_for_errno(ESTALE), ErrorCategory::file_system);
  EXPECT_NE(std::string(Error::from_errno(ENOENT, "open", "x").message()), "");
}

}  // namespace
}  // namespace forge::support
