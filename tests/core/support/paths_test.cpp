#include "forge/core/support/paths.h"

#include <cstdlib>
#include <optional>
#include <string>

#include <gtest/gtest.h>

namespace forge {
namespace {

// Sets an environment variable for one scope and restores the previous value.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : m_name(name) {
    if (const char* old = std::getenv(name)) m_old = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (m_old) {
      ::setenv(m_name, m_old->c_str(), 1);
    } else {
      ::unsetenv(m_name);
    }
  }

 private:
  const char* m_name;
  std::optional<std::string> m_old;
};

TEST(ForgeCacheHomeTest, PrefersXdgCacheHome) {
  ScopedEnv xdg("XDG_CACHE_HOME", "/srv/xdg");
  ScopedEnv home("HOME", "/home/someone");
  EXPECT_EQ(forge_cache_home(), std::filesystem::path("/srv/xdg/forge"));
}

TEST(ForgeCacheHomeTest, FallsBackToHomeThenTmp) {
  ScopedEnv xdg("XDG_CACHE_HOME", "");
  {
    ScopedEnv home("HOME", "/home/someone");
    EXPECT_EQ(forge_cache_home(), std::filesystem::path("/home/someone/.cache/forge"));
  }
  ScopedEnv home("HOME", nullptr);
  EXPECT_EQ(forge_cache_home().parent_path(), std::filesystem::path("/tmp"));
  EXPECT_EQ(forge_cache_home().filename().string().rfind("forge-", 0), 0u);
}

}  // namespace
}  // namespace forge
