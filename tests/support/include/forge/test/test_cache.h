#pragma once
// A fixture with a real store for tests that serve or query it: a CasStore (fsync off:
// these tests do not crash) and the ActionCache over it, in a temp directory the fixture
// owns. Header-only, so only the test executables that use it link forge_cache.

#include <memory>

#include <gtest/gtest.h>

#include "forge/cache/action_cache.h"
#include "forge/test/temp_dir.h"

namespace forge::test {

class StoreTest : public ::testing::Test {
 protected:
  // Opens m_dir/store; a failure fails the test with the error.
  void SetUp() override {
    cache::StoreOptions options;
    options.dir = m_dir / "store";
    options.fsync = false;
    auto cas = cache::CasStore::open(options);
    ASSERT_TRUE(cas) << cas.error().to_string();
    m_cas = *cas;
    auto action_cache = cache::ActionCache::open(m_cas);
    ASSERT_TRUE(action_cache) << action_cache.error().to_string();
    m_cache = *action_cache;
  }

  TempDir m_dir;
  std::shared_ptr<cache::CasStore> m_cas;
  std::shared_ptr<cache::ActionCache> m_cache;
};

}  // namespace forge::test
