#include "forge/core/hash/hasher.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace forge::hash {
namespace {

TEST(MultiHasherTest, OnePassGivesBothDigestsEqualToSeparateRuns) {
  MultiHasher hasher(AlgorithmSet::both());
  hasher.update("hello ");
  hasher.update("world");
  const Digests digests = hasher.finish();
  ASSERT_TRUE(digests.sha256 && digests.xxh3);
  EXPECT_EQ(*digests.sha256, sha256_of("hello world"));
  EXPECT_EQ(*digests.xxh3, xxh3_of("hello world"));
}

TEST(MultiHasherTest, OnlyRequestedAlgorithmsAreComputed) {
  MultiHasher hasher(AlgorithmSet::only(Algorithm::xxh3_128));
  hasher.update("x");
  const Digests digests = hasher.finish();
  EXPECT_FALSE(digests.sha256.has_value());
  EXPECT_TRUE(digests.xxh3.has_value());
}

RC_GTEST_PROP(MultiHasherTest, StreamingInAnyChunkingEqualsOneShot,
              (const std::string& data, std::vector<std::size_t> cuts)) {
  MultiHasher hasher(AlgorithmSet::both());
  std::size_t offset = 0;
  for (std::size_t cut : cuts) {
    const std::size_t length = std::min(cut % 97, data.size() - offset);
    hasher.update(std::string_view(data).substr(offset, length));
    offset += length;
  }
  hasher.update(std::string_view(data).substr(offset));
  const Digests digests = hasher.finish();
  RC_ASSERT(*digests.sha256 == sha256_of(data));
  RC_ASSERT(*digests.xxh3 == xxh3_of(data));
}

TEST(MultiHasherTest, MovedHasherKeepsItsState) {
  MultiHasher first(AlgorithmSet::only(Algorithm::sha256));
  first.update("ab");
  MultiHasher second = std::move(first);
  second.update("c");
  EXPECT_EQ(*second.finish().sha256, sha256_of("abc"));
}

}  // namespace
}  // namespace forge::hash
