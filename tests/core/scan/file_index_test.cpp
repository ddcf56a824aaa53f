#include "forge/core/scan/file_index.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "forge/test/temp_dir.h"

namespace forge::scan {
namespace {

RC_GTEST_PROP(FileRecordTest, EncodeDecodeRoundTrips,
              (std::uint64_t size, std::int64_t mtime, std::string target, bool with_sha)) {
  FileRecord record;
  record.type = target.empty() ? EntryType::file : EntryType::symlink;
  record.size = size;
  record.mtime_ns = mtime;
  record.ctime_ns = mtime / 2;
  record.ino = size ^ 77;
  record.created_cursor = 3;
  record.changed_cursor = 9;
  record.xxh3 = hash::xxh3_of(target);
  if (with_sha) record.sha256 = hash::sha256_of(target);
  record.symlink_target = target;
  const auto decoded = FileRecord::decode(record.encode());
  RC_ASSERT(decoded.has_value());
  RC_ASSERT(decoded->size == size);
  RC_ASSERT(decoded->mtime_ns == mtime);
  RC_ASSERT(decoded->xxh3 == record.xxh3);
  RC_ASSERT(decoded->sha256 == record.sha256);
  RC_ASSERT(decoded->symlink_target == target);
  RC_ASSERT(decoded->changed_cursor == 9u);
}

TEST(FileRecordTest, UnknownVersionOrTruncatedValueDecodesAsAbsent) {
  FileRecord record;
  std::string bytes = record.encode();
  EXPECT_TRUE(FileRecord::decode(bytes).has_value());
  bytes[0] = static_cast<char>(k_record_version + 1);
  EXPECT_FALSE(FileRecord::decode(bytes).has_value());
  EXPECT_FALSE(FileRecord::decode(record.encode().substr(0, 40)).has_value());
}

RC_GTEST_PROP(FileRecordTest, PeekedStatMatchesTheDecodedRecord,
              (std::uint64_t size, std::int64_t mtime, std::string target, bool with_sha)) {
  FileRecord record;
  record.type = target.empty() ? EntryType::directory : EntryType::symlink;
  record.mode = static_cast<std::uint32_t>(size & 0xffff);
  record.dev = size / 3;
  record.ino = size ^ 77;
  record.size = size;
  record.mtime_ns = mtime;
  record.ctime_ns = mtime / 2;
  if (with_sha) record.sha256 = hash::sha256_of(target);
  record.symlink_target = target;
  const auto peeked = peek_record_stat(record.encode());
  RC_ASSERT(peeked.has_value());
  RC_ASSERT(peeked->type == record.type);
  RC_ASSERT(peeked->mode == record.mode);
  RC_ASSERT(peeked->dev == record.dev);
  RC_ASSERT(peeked->ino == record.ino);
  RC_ASSERT(peeked->size == size);
  RC_ASSERT(peeked->mtime_ns == mtime);
  RC_ASSERT(peeked->ctime_ns == mtime / 2);
  RC_ASSERT(!peeked->has_xxh3);
  RC_ASSERT(peeked->has_sha256 == with_sha);
}

TEST(FileRecordTest, PeekRejectsWhatDecodeRejects) {
  FileRecord record;
  record.symlink_target = "target";
  std::string bytes = record.encode();
  EXPECT_TRUE(peek_record_stat(bytes).has_value());
  EXPECT_FALSE(peek_record_stat(bytes.substr(0, bytes.size() - 1)).has_value());
  EXPECT_FALSE(peek_record_stat(bytes.substr(0, 40)).has_value());
  bytes[0] = static_cast<char>(k_record_version + 1);
  EXPECT_FALSE(peek_record_stat(bytes).has_value());
}

TEST(FileIndexTest, NewIndexHasAnInstanceThatPersists) {
  test::TempDir dir;
  std::string instance;
  {
    auto index = FileIndex::open(dir / "index");
    ASSERT_TRUE(index) << index.error().to_string();
    instance = index->meta()->instance;
    EXPECT_EQ(instance.size(), 16u);
    EXPECT_EQ(index->meta()->cursor, 0u);
  }
  auto again = FileIndex::open(dir / "index");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->meta()->instance, instance);
}

}  // namespace
}  // namespace forge::scan
