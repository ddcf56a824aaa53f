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

TEST(BackendSelectorWin32Test, IoUringIsADependencyErrorNamingTheAlternatives) {
  for (const char* name : {"uring", "io_uring"}) {
    ScopedBackendEnv env(name);
    auto io = create_platform_io(support::IoConfig{});
    ASSERT_FALSE(io.has_value()) << name;
    EXPECT_EQ(io.error().category(), ErrorCategory::dependency) << name;
    ASSERT_FALSE(io.error().suggestions().empty());
    EXPECT_NE(io.error().suggestions().front().find("fallback"), std::string::npos)
        << io.error().suggestions().front();
  }
  support::IoConfig config;
  config.backend = "uring";
  EXPECT_FALSE(create_platform_io(config).has_value());
}

// The portable fallback is built on Windows too, and chosen by FORGE_IO_BACKEND or
// io.backend, the environment over the config (as on Linux).
TEST(BackendSelectorWin32Test, Property1_FallbackIsChosenByEnvOrConfig) {
  {
    ScopedBackendEnv env("fallback");
    support::IoConfig config;
    config.backend = "auto";
    auto io = create_platform_io(config);
    ASSERT_TRUE(io.has_value()) << io.error().summary();
    EXPECT_EQ((*io)->backend_name(), "fallback");
  }
  ScopedBackendEnv env("");
  support::IoConfig config;
  config.backend = "fallback";
  auto io = create_platform_io(config);
  ASSERT_TRUE(io.has_value()) << io.error().summary();
  EXPECT_EQ((*io)->backend_name(), "fallback");
  {
    ScopedBackendEnv over("auto");
    auto automatic = create_platform_io(config);
    ASSERT_TRUE(automatic.has_value());
    EXPECT_EQ((*automatic)->backend_name(), "iocp");
  }
}

TEST(BackendSelectorWin32Test, UnknownBackendNameIsAConfigurationError) {
  ScopedBackendEnv env("kqueue");
  auto io = create_platform_io(support::IoConfig{});
  ASSERT_FALSE(io.has_value());
  EXPECT_EQ(io.error().category(), ErrorCategory::configuration);
}

}  // namespace
}  // namespace forge::io
