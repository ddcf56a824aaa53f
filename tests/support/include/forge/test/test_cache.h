#pragma once
// A fixture with a real store for tests that serve or query it: a CasStore (fsync off:
// these tests do not crash) and the ActionCache over it, in a temp directory the fixture
// owns. Header-only, so only the test executables that use it link forge_cache.

#include <fstream>
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

  // Flips one bit of the stored file of `digest` at `offset`, as a disk fault would: the
  // index still says the blob is there, the bytes no longer match it.
  void corrupt_blob(const cache::BlobDigest& digest, std::uint64_t offset) {
    std::fstream file(m_cas->blob_path(digest), std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(file) << "no stored file for " << digest.to_string();
    file.seekg(static_cast<std::streamoff>(offset));
    const int c = file.get();
    ASSERT_NE(c, EOF);
    file.seekp(static_cast<std::streamoff>(offset));
    file.put(static_cast<char>(c ^ 0x01));
  }

  TempDir m_dir;
  std::shared_ptr<cache::CasStore> m_cas;
  std::shared_ptr<cache::ActionCache> m_cache;
};

}  // namespace forge::test
