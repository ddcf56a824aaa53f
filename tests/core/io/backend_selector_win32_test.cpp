// The Windows backend selector (run under wine).
// Feature: platform-native-io-hardening, Property 1: the platform and backend Forge reports
// are the ones it runs on.
#include <cstdlib>

#include <gtest/gtest.h>

#include "forge/core/io/backend_selector.h"

namespace forge::io {
namespace {

class ScopedBackendEnv {
 public:
  explicit ScopedBackendEnv(const char* value) { ::_putenv_s("FORGE_IO_BACKEND", value); }
  ~ScopedBackendEnv() { ::_putenv_s("FORGE_IO_BACKEND", ""); }
};

TEST(BackendSelectorWin32Test, Property1_AutoChoosesIocpAndSaysWhyNotIoUring) {
  ScopedBackendEnv env("");
  auto io = create_platform_io(support::IoConfig{});
  ASSERT_TRUE(io.has_value()) << io.error().summary();
  EXPECT_EQ((*io)->backend_name(), "iocp");
  EXPECT_FALSE(probe_io_uring().uring_available);
  EXPECT_NE(probe_io_uring().reason.find("Windows"), std::string::npos) << probe_io_uring().reason;
  EXPECT_NE(probe_io_uring().reason.find("iocp"), std::string::npos) << probe_io_uring().reason;
}

TEST(BackendSelectorWin32Test, BackendsNotBuiltForWindowsAreDependencyErrors) {
  for (const char* name : {"uring", "fallback"}) {
    ScopedBackendEnv env(name);
    auto io = create_platform_io(support::IoConfig{});
    ASSERT_FALSE(io.has_value()) << name;
    EXPECT_EQ(io.error().category(), ErrorCategory::dependency) << name;
    EXPECT_FALSE(io.error().suggestions().empty());
  }
  support::IoConfig config;
  config.backend = "fallback";
  EXPECT_FALSE(create_platform_io(config).has_value());
}

TEST(BackendSelectorWin32Test, UnknownBackendNameIsAConfigurationError) {
  ScopedBackendEnv env("kqueue");
  auto io = create_platform_io(support::IoConfig{});
  ASSERT_FALSE(io.has_value());
  EXPECT_EQ(io.error().category(), ErrorCategory::configuration);
}

}  // namespace
}  // namespace forge::io
