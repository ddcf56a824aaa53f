// MultiHasher on Windows (CNG SHA-256 + XXH3), run under wine by the `windows` preset. The
// expected digests were produced on Linux by sha256sum and `xxhsum -H2` over the same bytes,
// so these tests prove the Windows build names content exactly as the Linux build does.
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "forge/core/hash/digest.h"
#include "forge/core/hash/hasher.h"

namespace forge::hash {
namespace {

// (i * 131 + 7) % 251 for i in [0, size): no run of equal bytes, not a multiple of 64.
std::string pattern(std::size_t size) {
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 131 + 7) % 251);
  return data;
}

struct KnownDigests {
  std::string content;
  const char* sha256;
  const char* xxh3;
};

std::vector<KnownDigests> known() {
  return {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
       "99aa06d3014798d86001c324468d497f"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
       "06b05ab6733a618578af5f94892f3950"},
      {std::string(1'000'000, 'a'),
       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
       "a545df8e384a9579b1fd6fae5285c4eb"},
      {pattern(300'000), "28d7101af685c2cead6215a2ad05421bef3afa37364a21ba48e31a11ba118d08",
       "d4ca6ed1d57e19c5bfbafd6f5e43fede"},
  };
}

TEST(HasherWin32Test, CngSha256AndXxh3MatchTheLinuxToolsDigests) {
  for (const auto& item : known()) {
    MultiHasher hasher(AlgorithmSet::both());
    hasher.update(item.content);
    const Digests digests = hasher.finish();
    ASSERT_TRUE(digests.sha256.has_value());
    ASSERT_TRUE(digests.xxh3.has_value());
    EXPECT_EQ(digests.sha256->hex(), item.sha256) << item.content.size() << " bytes";
    EXPECT_EQ(digests.xxh3->hex(), item.xxh3) << item.content.size() << " bytes";
    EXPECT_EQ(sha256_of(item.content).hex(), item.sha256);
    EXPECT_EQ(xxh3_of(item.content).hex(), item.xxh3);
  }
}

TEST(HasherWin32Test, OnlyTheRequestedAlgorithmsAreComputed) {
  MultiHasher sha_only(AlgorithmSet::only(Algorithm::sha256));
  sha_only.update(std::string_view("abc"));
  const Digests sha = sha_only.finish();
  EXPECT_TRUE(sha.sha256.has_value());
  EXPECT_FALSE(sha.xxh3.has_value());
  MultiHasher xxh_only(AlgorithmSet::only(Algorithm::xxh3_128));
  xxh_only.update(std::string_view("abc"));
  const Digests xxh = xxh_only.finish();
  EXPECT_FALSE(xxh.sha256.has_value());
  ASSERT_TRUE(xxh.xxh3.has_value());
  EXPECT_EQ(xxh.xxh3->hex(), "06b05ab6733a618578af5f94892f3950");
}

// Streaming: any split of the input into update() calls yields the one-shot digests, and a
// moved-from hasher's state travels with the move. 200 random splits (seeded: reproducible).
TEST(HasherWin32Test, AnySplitIntoUpdatesYieldsTheOneShotDigests) {
  const std::string data = pattern(300'000);
  std::mt19937_64 random(20261202);
  for (int round = 0; round < 200; ++round) {
    MultiHasher hasher(AlgorithmSet::both());
    std::size_t at = 0;
    while (at < data.size()) {
      const std::size_t piece =
          std::uniform_int_distribution<std::size_t>(0, 70'000)(random) % (data.size() - at + 1);
      hasher.update(std::string_view(data).substr(at, piece));
      at += piece;
      if (piece == 0 && at < data.size()) {
        hasher.update(std::string_view(data).substr(at, 1));
        ++at;
      }
    }
    MultiHasher moved = std::move(hasher);
    const Digests digests = moved.finish();
    ASSERT_EQ(digests.sha256->hex(),
              "28d7101af685c2cead6215a2ad05421bef3afa37364a21ba48e31a11ba118d08")
        << "round " << round;
    ASSERT_EQ(digests.xxh3->hex(), "d4ca6ed1d57e19c5bfbafd6f5e43fede") << "round " << round;
  }
}

}  // namespace
}  // namespace forge::hash
