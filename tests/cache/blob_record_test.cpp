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
  EXPECT_FALSE(decoded->checksum);
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
  EXPECT_FALSE(old->checksum);
  EXPECT_FALSE(BlobRecord::decode(std::string("\x09garbage")));  // unknown version: absent
  EXPECT_FALSE(BlobRecord::decode(""));
}

}  // namespace
}  // namespace forge::cache

namespace forge::cache {
namespace {

TEST(BlobRecordTest, Version3CarriesTheContentChecksum) {
  BlobRecord record{10, 10, 1, 2, 0, ContentChecksum{}};
  for (std::size_t i = 0; i < 16; ++i) (*record.checksum)[i] = static_cast<std::uint8_t>(i * 17);
  const std::string bytes = record.encode();
  ASSERT_EQ(bytes.size(), k_blob_record_size);
  EXPECT_EQ(bytes[0], static_cast<char>(3));
  auto decoded = BlobRecord::decode(bytes);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->checksum, record.checksum);
  EXPECT_EQ(decoded->flags, 0);
  EXPECT_FALSE(BlobRecord::decode(bytes.substr(0, 40)));  // truncated: absent
}

TEST(BlobRecordTest, Version2RecordsAreReadWithoutAChecksum) {
  // u8 2 | u8 flags | u64 size | u64 stored | i64 inserted | i64 accessed
  std::string v2 = {'\x02', '\x00'};
  for (std::uint64_t v : {42ull, 40ull, 9ull, 11ull}) {
    for (int i = 0; i < 8; ++i) v2.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  auto old = BlobRecord::decode(v2);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->size, 42u);
  EXPECT_EQ(old->stored_size, 40u);
  EXPECT_EQ(old->accessed_ns, 11);
  EXPECT_FALSE(old->checksum);
  // Re-encoded (an access-time flush): current version, still without a checksum.
  auto again = BlobRecord::decode(old->encode());
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->checksum);
  EXPECT_EQ(again->accessed_ns, 11);
}

}  // namespace
}  // namespace forge::cache
