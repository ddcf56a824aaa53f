#include "forge/core/scan/file_index.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "forge/core/store/encoding.h"
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

// Issue 16 item 9: LMDB keys hold at most 511 bytes. Paths longer than k_max_inline_path
// are keyed by their digest, and records() / records_under() still return every record in
// path order, long ones included.
TEST(FileIndexTest, LongPathsAreStoredAndListedInPathOrder) {
  test::TempDir dir;
  auto index = FileIndex::open(dir / "index").value();
  const std::string long_a = "b/" + std::string(600, 'a');
  const std::string long_z = "b/" + std::string(450, 'z') + "/" + std::string(200, 'z');
  const std::vector<std::string> paths = {"a", "b", long_a, "b/m", long_z, "c"};
  ASSERT_TRUE(index.env().write([&](store::WriteTxn& txn) -> Result<void> {
    for (const auto& path : paths) {
      FileRecord record;
      record.size = path.size();
      FORGE_TRY_VOID(index.put_record(txn, path, record.encode()));
    }
    return ok();
  }));
  auto txn = index.env().begin_read().value();
  const auto all = index.records(txn).value();
  ASSERT_EQ(all.size(), paths.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    EXPECT_EQ(all[i].first, paths[i]);
    EXPECT_EQ(FileRecord::decode(all[i].second)->size, paths[i].size());
  }
  const auto value = index.record(txn, long_z).value();
  ASSERT_TRUE(value.has_value());
  EXPECT_EQ(FileRecord::decode(*value)->size, long_z.size());
  EXPECT_FALSE(index.record(txn, long_z + "x").value().has_value());
  const auto under = index.records_under(txn, "b/").value();
  ASSERT_EQ(under.size(), 3u);
  EXPECT_EQ(under[0].first, long_a);
  EXPECT_EQ(under[1].first, "b/m");
  EXPECT_EQ(under[2].first, long_z);
  txn.abort();
  ASSERT_TRUE(index.env().write([&](store::WriteTxn& w) -> Result<void> {
    FORGE_TRY(bool erased, index.erase_record(w, long_a));
    EXPECT_TRUE(erased);
    return ok();
  }));
  auto after = index.env().begin_read().value();
  EXPECT_EQ(index.records(after).value().size(), paths.size() - 1);
}

// An index of another layout (here: one without a "format", as forge wrote before
// k_index_format 2) is emptied at open and gets a new instance: it is a cache.
TEST(FileIndexTest, AnIndexOfAnotherFormatIsRebuilt) {
  test::TempDir dir;
  std::string instance;
  {
    auto index = FileIndex::open(dir / "index").value();
    instance = index.meta()->instance;
    ASSERT_TRUE(index.env().write([&](store::WriteTxn& txn) -> Result<void> {
      FORGE_TRY_VOID(txn.put(index.files(), "old", "v1 bytes"));
      FORGE_TRY(bool erased, txn.erase(index.meta_db(), "format"));
      EXPECT_TRUE(erased);
      return ok();
    }));
  }
  auto reopened = FileIndex::open(dir / "index").value();
  EXPECT_NE(reopened.meta()->instance, instance);
  auto txn = reopened.env().begin_read().value();
  EXPECT_TRUE(reopened.records(txn).value().empty());
  txn.abort();
  auto again = FileIndex::open(dir / "index").value();  // the current format is kept
  EXPECT_EQ(again.meta()->instance, reopened.meta()->instance);
}

// Format 3 lacked stat-only journal entries (issue 11): it is migrated in place (records
// and instance kept, nothing re-hashed), and no cursor older than the migration is answered
// from its journal.
TEST(FileIndexTest, AFormat3IndexIsMigratedKeepingRecordsAndRaisingTheJournalFloor) {
  test::TempDir dir;
  std::string instance;
  {
    auto index = FileIndex::open(dir / "index").value();
    instance = index.meta()->instance;
    ASSERT_TRUE(index.env().write([&](store::WriteTxn& txn) -> Result<void> {
      FORGE_TRY_VOID(index.put_record(txn, "kept", FileRecord{}.encode()));
      FORGE_TRY_VOID(txn.put(index.journal(), std::string(7, '\0') + "\x03" + "kept", "\x01"));
      std::string old_format;
      store::put_le(old_format, std::uint32_t{3});
      FORGE_TRY_VOID(txn.put(index.meta_db(), "format", old_format));
      IndexMeta meta = FileIndex::read_meta(txn, index.meta_db()).value();
      meta.cursor = 9;
      return FileIndex::put_meta(txn, index.meta_db(), meta);
    }));
  }
  auto migrated = FileIndex::open(dir / "index").value();
  const IndexMeta meta = migrated.meta().value();
  EXPECT_EQ(meta.instance, instance);
  EXPECT_EQ(meta.cursor, 9u);
  EXPECT_EQ(meta.journal_floor, 9u);
  std::string current;
  store::put_le(current, k_index_format);
  EXPECT_EQ(migrated.meta_value("format").value(), std::optional<std::string>(current));
  auto txn = migrated.env().begin_read().value();
  EXPECT_EQ(migrated.records(txn).value().size(), 1u);
  auto journal = txn.cursor(migrated.journal()).value();
  EXPECT_FALSE(journal.first().value().has_value());  // the pre-migration journal is trimmed
}

// After an interrupted scan (issue 16, streamed scans) the index starts afresh: records,
// tombstones, journal and the incomplete mark go, a new instance at cursor 0 comes, and a
// running watcher's values stay.
TEST(FileIndexTest, StartingAfreshEmptiesTheIndexAndKeepsTheWatchersValues) {
  test::TempDir dir;
  auto index = FileIndex::open(dir / "index").value();
  const std::string instance = index.meta()->instance;
  ASSERT_TRUE(index.env().write([&](store::WriteTxn& txn) -> Result<void> {
    FORGE_TRY_VOID(index.put_record(txn, "a", FileRecord{}.encode()));
    FORGE_TRY_VOID(txn.put(index.tombstones(), "b", "12345678"));
    FORGE_TRY_VOID(txn.put(index.journal(), "j", "x"));
    FORGE_TRY_VOID(txn.put(index.meta_db(), k_incomplete_key, "7"));
    IndexMeta meta = FileIndex::read_meta(txn, index.meta_db()).value();
    meta.cursor = 6;
    return FileIndex::put_meta(txn, index.meta_db(), meta);
  }));
  ASSERT_TRUE(index.set_meta_value("watcher_pid", "42"));
  EXPECT_TRUE(index.meta()->incomplete);
  ASSERT_TRUE(index.start_afresh());
  const IndexMeta after = index.meta().value();
  EXPECT_FALSE(after.incomplete);
  EXPECT_EQ(after.cursor, 0u);
  EXPECT_NE(after.instance, instance);
  auto txn = index.env().begin_read().value();
  EXPECT_TRUE(index.records(txn).value().empty());
  EXPECT_FALSE(txn.get(index.tombstones(), "b").value());
  EXPECT_FALSE(txn.get(index.journal(), "j").value());
  txn.abort();
  EXPECT_EQ(index.meta_value("watcher_pid").value(), std::optional<std::string>("42"));
}

}  // namespace
}  // namespace forge::scan
