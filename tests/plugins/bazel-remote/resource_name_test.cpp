#include "forge/bazel_remote/resource_name.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace forge::bazel_remote {
namespace {

const std::string k_hash = cache::digest_of("hello").sha256.hex();

TEST(bazel_remote_ResourceName, ReadNameWithoutInstanceParses) {
  auto parsed = parse_read_resource("blobs/" + k_hash + "/5");
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->instance_name, "");
  EXPECT_EQ(parsed->digest, cache::digest_of("hello"));
}

TEST(bazel_remote_ResourceName, ReadNameKeepsAMultiSegmentInstance) {
  auto parsed = parse_read_resource("team/main/blobs/" + k_hash + "/5");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->instance_name, "team/main");
  EXPECT_EQ(parsed->digest.size, 5u);
}

TEST(bazel_remote_ResourceName, WriteNameParsesUuidAndIgnoresTrailingMetadata) {
  auto parsed = parse_write_resource("ci/uploads/4f1c-uuid/blobs/" + k_hash + "/5/some/file/name");
  ASSERT_TRUE(parsed) << parsed.error().to_string();
  EXPECT_EQ(parsed->instance_name, "ci");
  EXPECT_EQ(parsed->uuid, "4f1c-uuid");
  EXPECT_EQ(parsed->digest, cache::digest_of("hello"));
}

TEST(bazel_remote_ResourceName, CompressedNamesCarryTheCompressorAndTheUncompressedDigest) {
  auto read = parse_read_resource("main/compressed-blobs/zstd/" + k_hash + "/5");
  ASSERT_TRUE(read) << read.error().to_string();
  EXPECT_EQ(read->instance_name, "main");
  EXPECT_EQ(read->compression, Compression::zstd);
  EXPECT_EQ(read->digest, cache::digest_of("hello"));
  auto write = parse_write_resource("uploads/u-1/compressed-blobs/zstd/" + k_hash + "/5/meta");
  ASSERT_TRUE(write) << write.error().to_string();
  EXPECT_EQ(write->instance_name, "");
  EXPECT_EQ(write->uuid, "u-1");
  EXPECT_EQ(write->compression, Compression::zstd);
  EXPECT_EQ(write->digest, cache::digest_of("hello"));
  auto plain = parse_write_resource("uploads/u-1/blobs/" + k_hash + "/5");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->compression, Compression::identity);
}

TEST(bazel_remote_ResourceName, MalformedNamesAreValidationErrors) {
  for (const std::string& name : std::vector<std::string>{
           std::string(""),
           "blobs/" + k_hash,                           // no size
           "blobs/" + k_hash + "/-1",                   // negative size
           "blobs/" + k_hash + "/5x",                   // junk after the size
           "blobs/abc/5",                               // short hash
           "blobs/" + std::string(64, 'g') + "/5",      // not hex
           "compressed-blobs/brotli/" + k_hash + "/5",  // not served
           "compressed-blobs/" + k_hash + "/5",         // no compressor
           "blobs/" + k_hash + "/5/extra",              // reads end at the size
       }) {
    auto parsed = parse_read_resource(name);
    ASSERT_FALSE(parsed) << name;
    EXPECT_EQ(parsed.error().category(), ErrorCategory::validation) << name;
  }
  for (const std::string& name : std::vector<std::string>{
           "blobs/" + k_hash + "/5",           // a read name
           "uploads//blobs/" + k_hash + "/5",  // empty uuid
           "uploads/u/blobs/" + k_hash,        // no size
           "uploads/u/objects/" + k_hash + "/5",
           "uploads/u/compressed-blobs/deflate/" + k_hash + "/5",
       }) {
    auto parsed = parse_write_resource(name);
    ASSERT_FALSE(parsed) << name;
    EXPECT_EQ(parsed.error().category(), ErrorCategory::validation) << name;
  }
}

}  // namespace
}  // namespace forge::bazel_remote
