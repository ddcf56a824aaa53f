#include "digest_filter.h"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace forge::cache {
namespace {

std::string random_key(std::mt19937_64& random) {
  std::string key(DigestFilter::k_key_size, '\0');
  for (auto& c : key) c = static_cast<char>(random());
  return key;
}

RC_GTEST_PROP(DigestFilterProperty, EveryAddedKeyMayBePresent, ()) {
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const auto count = *rc::gen::inRange<std::size_t>(0, 20'000);
  const auto sized_for = *rc::gen::inRange<std::size_t>(1, 40'000);
  std::mt19937_64 random(seed);
  DigestFilter filter(sized_for);  // also over its capacity: still no false negative
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < count; ++i) {
    keys.push_back(random_key(random));
    filter.add(keys.back());
  }
  for (const auto& key : keys) RC_ASSERT(filter.may_contain(key));
  RC_ASSERT(filter.added() == count);
}

TEST(DigestFilterTest, FalsePositivesStayRareAtCapacity) {
  std::mt19937_64 random(42);
  DigestFilter filter(100'000);
  for (std::size_t i = 0; i < filter.capacity(); ++i) filter.add(random_key(random));
  int false_positives = 0;
  constexpr int k_probes = 100'000;
  for (int i = 0; i < k_probes; ++i) false_positives += filter.may_contain(random_key(random));
  // 16 bits and 5 probes per key in one 64-bit word: about 1-2%.
  EXPECT_LT(false_positives, k_probes * 3 / 100);
  EXPECT_GE(filter.capacity(), 100'000u);
}

TEST(DigestFilterTest, EmptyFilterContainsNothing) {
  std::mt19937_64 random(7);
  DigestFilter filter(10);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(filter.may_contain(random_key(random)));
}

}  // namespace
}  // namespace forge::cache
