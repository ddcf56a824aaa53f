#include "forge/cache/blob_digest.h"

#include <gtest/gtest.h>

namespace forge::cache {
namespace {

TEST(BlobDigestTest, PrintsAndParsesHexSlashSize) {
  const BlobDigest digest = digest_of("abc");
  EXPECT_EQ(digest.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad/3");
  auto parsed = parse_blob_digest(digest.to_string());
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, digest);
}

TEST(BlobDigestTest, MalformedDigestsAreValidationErrors) {
  for (const char* bad :
       {"", "abc/3", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad/x",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015zz/3"}) {
    auto parsed = parse_blob_digest(std::string_view(bad));
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().category(), ErrorCategory::validation) << bad;
  }
}

}  // namespace
}  // namespace forge::cache
