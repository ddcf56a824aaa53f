#include "forge/core/hash/digest.h"

#include <unordered_set>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace forge::hash {
namespace {

// FIPS 180-2 / NIST example vectors.
TEST(DigestTest, Sha256MatchesPublishedVectors) {
  EXPECT_EQ(sha256_of("").hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_of("abc").hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").hex(),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(empty_sha256(), sha256_of(""));
}

// Values printed by `xxhsum -H2` (xxHash 0.8) for the same inputs.
TEST(DigestTest, Xxh3MatchesXxhsumCanonicalOutput) {
  EXPECT_EQ(xxh3_of("").hex(), "99aa06d3014798d86001c324468d497f");
  EXPECT_EQ(xxh3_of("abc").hex(), "06b05ab6733a618578af5f94892f3950");
}

TEST(DigestTest, IsHex64AcceptsExactlySixtyFourHexDigits) {
  const std::string lower(64, 'a');
  EXPECT_TRUE(is_hex64(lower));
  EXPECT_TRUE(is_hex64(std::string(64, 'F')));
  EXPECT_TRUE(is_hex64(sha256_of("x").hex()));
  EXPECT_FALSE(is_hex64(std::string(63, 'a')));
  EXPECT_FALSE(is_hex64(std::string(65, 'a')));
  EXPECT_FALSE(is_hex64(""));
  std::string bad = lower;
  bad[40] = 'g';
  EXPECT_FALSE(is_hex64(bad));
  bad[40] = '\0';
  EXPECT_FALSE(is_hex64(bad));
}

TEST(DigestTest, ParseRejectsWrongLengthAsValidationError) {
  auto parsed = Digest::parse(Algorithm::sha256, "abcd");
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().category(), ErrorCategory::validation);
  EXPECT_FALSE(parsed.error().suggestions().empty());
}

TEST(DigestTest, ParseRejectsNonHexCharacters) {
  std::string hex(64, 'a');
  hex[10] = 'g';
  auto parsed = Digest::parse(Algorithm::sha256, hex);
  ASSERT_FALSE(parsed);
  EXPECT_EQ(parsed.error().category(), ErrorCategory::validation);
}

TEST(DigestTest, ParseAcceptsExactlyTheHexAlphabetForEveryByteValue) {
  const std::string valid = "0123456789abcdefABCDEF";
  for (int value = 0; value < 256; ++value) {
    std::string hex(64, '0');
    hex[33] = static_cast<char>(value);
    const bool is_hex = valid.find(static_cast<char>(value)) != std::string::npos;
    auto parsed = Digest::parse(Algorithm::sha256, hex);
    ASSERT_EQ(parsed.has_value(), is_hex) << "byte " << value;
    if (is_hex) {
      const int nibble = value <= '9' ? value - '0' : (value | 0x20) - 'a' + 10;
      EXPECT_EQ(parsed->bytes()[16], nibble) << "byte " << value;  // low nibble of byte 16
    }
  }
}

TEST(DigestTest, ParseAcceptsUpperCaseAndPrintsLowerCase) {
  auto parsed = Digest::parse(Algorithm::xxh3_128, "99AA06D3014798D86001C324468D497F");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->hex(), "99aa06d3014798d86001c324468d497f");
  EXPECT_EQ(*parsed, xxh3_of(""));
}

TEST(DigestTest, ParseAlgorithmNamesAndRejectsUnknown) {
  EXPECT_EQ(parse_algorithm("sha256").value(), Algorithm::sha256);
  EXPECT_EQ(parse_algorithm("xxh3").value(), Algorithm::xxh3_128);
  ASSERT_FALSE(parse_algorithm("md5"));
  EXPECT_EQ(parse_algorithm("md5").error().category(), ErrorCategory::validation);
}

TEST(DigestTest, DefaultDigestIsInvalidAndDiffersFromComputed) {
  Digest empty;
  EXPECT_FALSE(empty.valid());
  EXPECT_NE(empty, sha256_of(""));
}

RC_GTEST_PROP(DigestTest, HexRoundTripsThroughParse, (const std::string& data, bool use_sha)) {
  const Digest digest = use_sha ? sha256_of(data) : xxh3_of(data);
  const auto parsed = Digest::parse(digest.algorithm(), digest.hex());
  RC_ASSERT(parsed.has_value());
  RC_ASSERT(*parsed == digest);
  RC_ASSERT(std::hash<Digest>{}(*parsed) == std::hash<Digest>{}(digest));
}

TEST(DigestTest, DigestsWorkAsUnorderedSetKeys) {
  std::unordered_set<Digest> set{sha256_of("a"), sha256_of("b"), sha256_of("a")};
  EXPECT_EQ(set.size(), 2u);
}

}  // namespace
}  // namespace forge::hash
