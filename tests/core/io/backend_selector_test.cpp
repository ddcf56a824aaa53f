#include "forge/core/io/backend_selector.h"

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "forge/core/hash/digest.h"
#include "forge/test/temp_dir.h"

namespace forge::io {
namespace {

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : m_name(name) {
    if (const char* old = std::getenv(name)) m_old = old;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (m_old) {
      setenv(m_name, m_old->c_str(), 1);
    } else {
      unsetenv(m_name);
    }
  }

 private:
  const char* m_name;
  std::optional<std::string> m_old;
};

bool io_uring_disabled_by_sysctl() {
  std::ifstream in("/proc/sys/kernel/io_uring_disabled");
  int value = 0;
  return (in >> value) && value == 2;
}

TEST(BackendSelectorTest, ProbeExplainsItsAnswer) {
  const BackendProbe& probe = probe_io_uring();
  EXPECT_FALSE(probe.reason.empty());
  if (io_uring_disabled_by_sysctl()) {
    EXPECT_FALSE(probe.uring_available);
  }
}

TEST(BackendSelectorTest, EnvironmentOverridesConfig) {
  support::IoConfig config;
  config.backend = "uring";
  ScopedEnv env("FORGE_IO_BACKEND", "fallback");
  auto io = create_platform_io(config);
  ASSERT_TRUE(io);
  EXPECT_EQ((*io)->backend_name(), "fallback");
}

TEST(BackendSelectorTest, UnknownBackendNameIsAConfigurationError) {
  support::IoConfig config;
  config.backend = "kqueue-on-linux";
  auto io = create_platform_io(config);
  ASSERT_FALSE(io);
  EXPECT_EQ(io.error().category(), ErrorCategory::configuration);
  EXPECT_FALSE(io.error().suggestions().empty());
}

TEST(BackendSelectorTest, AutoChoosesUringWhenTheProbeSucceeds) {
  if (!probe_io_uring().uring_available) GTEST_SKIP() << probe_io_uring().reason;
  unsetenv("FORGE_IO_BACKEND");
  auto io = create_platform_io(support::IoConfig{});
  ASSERT_TRUE(io);
  EXPECT_EQ((*io)->backend_name(), "io_uring");
}

TEST(BackendSelectorTest, ForcingUringWithAnUnusableRingIsADependencyError) {
  support::IoConfig config;
  config.backend = "uring";
  config.io_uring_queue_depth = 0;  // io_uring_setup rejects 0 entries: a real failure
  unsetenv("FORGE_IO_BACKEND");
  auto io = create_platform_io(config);
  ASSERT_FALSE(io);
  EXPECT_EQ(io.error().category(), ErrorCategory::dependency);
}

// Feature: platform-native-io-hardening, Property 2: Fallback Behavior Guarantee
RC_GTEST_PROP(BackendSelectorProperty, Property2_FailedNativeBackendFallsBackAndWorks,
              (const std::string& content)) {
  support::IoConfig config;
  // Entry counts io_uring_setup rejects (0, or beyond IORING_MAX_ENTRIES): setup fails for real.
  config.io_uring_queue_depth = *rc::gen::element(0u, 1u << 20, 1u << 24);
  unsetenv("FORGE_IO_BACKEND");
  auto io = create_platform_io(config);
  RC_ASSERT(io.has_value());
  RC_ASSERT((*io)->backend_name() == "fallback");
  test::TempDir dir;
  const auto path = dir.write_file("f", content);
  auto results = (*io)->batch_hash(std::span(&path, 1), hash::AlgorithmSet{true, false});
  RC_ASSERT(results[0].has_value());
  RC_ASSERT(*results[0]->digests.sha256 == hash::sha256_of(content));
}

}  // namespace
}  // namespace forge::io
