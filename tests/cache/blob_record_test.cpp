#include "blob_record.h"

#include <gtest/gtest.h>

namespace forge::cache {
namespace {

TEST(BlobRecordTest, RoundTripsAndReadsVersion1) {
  BlobRecord record{123, 100, 5, 7, 1};
  EXPECT_EQ(record.encode().size(), k_blob_record_size);
  auto decoded = BlobRecord::decode(record.encode());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->size, 123u);
  EXPECT_EQ(decoded->stored_size, 100u);
  EXPECT_EQ(decoded->inserted_ns, 5);
  EXPECT_EQ(decoded->accessed_ns, 7);
  EXPECT_EQ(decoded->flags, 1);
  // Version 1: u8 1 | u64 size | i64 inserted | i64 accessed.
  std::string v1(1, '\x01');
  for (std::uint64_t v : {42ull, 9ull, 11ull}) {
    for (int i = 0; i < 8; ++i) v1.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  auto old = BlobRecord::decode(v1);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->size, 42u);
  EXPECT_EQ(old->stored_size, 42u);
  EXPECT_EQ(old->accessed_ns, 11);
  EXPECT_FALSE(BlobRecord::decode(std::string("\x09garbage")));  // unknown version: absent
  EXPECT_FALSE(BlobRecord::decode(""));
}

}  // namespace
}  // namespace forge::cache
