#include "forge/core/store/lmdb.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "forge/test/temp_dir.h"

namespace forge::store {
namespace {

EnvOptions options_for(const test::TempDir& dir) {
  EnvOptions options;
  options.dir = dir / "env";
  options.sync = false;
  return options;
}

TEST(LmdbTest, PutThenGetInLaterTransactionReturnsValue) {
  test::TempDir dir;
  auto env = Environment::open(options_for(dir));
  ASSERT_TRUE(env) << env.error().to_string();
  auto db = env->open_database("files");
  ASSERT_TRUE(db);
  ASSERT_TRUE(env->write([&](WriteTxn& txn) { return txn.put(*db, "key", "value"); }));
  auto txn = env->begin_read();
  ASSERT_TRUE(txn);
  auto value = txn->get(*db, "key");
  ASSERT_TRUE(value && value->has_value());
  EXPECT_EQ(**value, "value");
  auto missing = txn->get(*db, "absent");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST(LmdbTest, UncommittedWriteIsInvisible) {
  test::TempDir dir;
  auto env = Environment::open(options_for(dir));
  ASSERT_TRUE(env);
  auto db = env->open_database("files");
  ASSERT_TRUE(db);
  {
    auto txn = env->begin_write();
    ASSERT_TRUE(txn);
    ASSERT_TRUE(txn->put(*db, "k", "v"));
  }  // destroyed without commit -> aborted
  auto txn = env->begin_read();
  ASSERT_TRUE(txn);
  EXPECT_FALSE(txn->get(*db, "k")->has_value());
}

TEST(LmdbTest, WriteGrowsTheMapWhenFull) {
  test::TempDir dir;
  EnvOptions options = options_for(dir);
  options.initial_map_size = 1 << 20;  // 1 MiB: far less than what we write
  auto env = Environment::open(options);
  ASSERT_TRUE(env);
  auto db = env->open_database("big");
  ASSERT_TRUE(db);
  const std::string value(4096, 'x');
  const std::size_t before = env->map_size();
  auto result = env->write([&](WriteTxn& txn) -> Result<void> {
    for (int i = 0; i < 2000; ++i) FORGE_TRY_VOID(txn.put(*db, std::to_string(i), value));
    return ok();
  });
  ASSERT_TRUE(result) << result.error().to_string();
  EXPECT_GT(env->map_size(), before);
  auto txn = env->begin_read();
  EXPECT_EQ(txn->count(*db).value(), 2000u);
}

TEST(LmdbTest, CursorWalksKeysInOrderAndSeeks) {
  test::TempDir dir;
  auto env = Environment::open(options_for(dir));
  auto db = env->open_database("d");
  ASSERT_TRUE(env->write([&](WriteTxn& txn) -> Result<void> {
    for (const char* key : {"b", "a", "d", "c"}) FORGE_TRY_VOID(txn.put(*db, key, key));
    return ok();
  }));
  auto txn = env->begin_read();
  auto cursor = txn->cursor(*db);
  ASSERT_TRUE(cursor);
  std::string keys;
  for (auto entry = cursor->first(); entry && entry->has_value(); entry = cursor->next()) {
    keys += (*entry)->first;
  }
  EXPECT_EQ(keys, "abcd");
  auto seek = cursor->seek("bb");
  ASSERT_TRUE(seek && seek->has_value());
  EXPECT_EQ((*seek)->first, "c");
}

TEST(LmdbTest, EraseAndClear) {
  test::TempDir dir;
  auto env = Environment::open(options_for(dir));
  auto db = env->open_database("d");
  ASSERT_TRUE(env->write([&](WriteTxn& txn) -> Result<void> {
    FORGE_TRY_VOID(txn.put(*db, "a", "1"));
    FORGE_TRY_VOID(txn.put(*db, "b", "2"));
    FORGE_TRY(bool erased, txn.erase(*db, "a"));
    EXPECT_TRUE(erased);
    FORGE_TRY(bool erased_again, txn.erase(*db, "a"));
    EXPECT_FALSE(erased_again);
    return ok();
  }));
  EXPECT_EQ(env->begin_read()->count(*db).value(), 1u);
  ASSERT_TRUE(env->write([&](WriteTxn& txn) { return txn.clear(*db); }));
  EXPECT_EQ(env->begin_read()->count(*db).value(), 0u);
}

TEST(LmdbTest, ManyReaderThreadsSeeConsistentSnapshotsWhileOneWriterWrites) {
  test::TempDir dir;
  auto env = Environment::open(options_for(dir));
  auto db = env->open_database("d");
  // Invariant kept by the writer: keys "a" and "b" always hold the same number.
  ASSERT_TRUE(env->write([&](WriteTxn& txn) -> Result<void> {
    FORGE_TRY_VOID(txn.put(*db, "a", "0"));
    return txn.put(*db, "b", "0");
  }));
  std::atomic<bool> stop{false};
  std::atomic<int> inconsistencies{0};
  std::atomic<int> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      while (!stop) {
        auto txn = env->begin_read();
        if (!txn) {
          ++inconsistencies;
          continue;
        }
        auto a = txn->get(*db, "a");
        auto b = txn->get(*db, "b");
        if (!a || !b || **a != **b) ++inconsistencies;
        ++reads;
      }
    });
  }
  // Keep writing until the readers have really overlapped with the writer.
  for (int i = 1; i <= 300 || reads.load() < 200; ++i) {
    ASSERT_TRUE(env->write([&](WriteTxn& txn) -> Result<void> {
      FORGE_TRY_VOID(txn.put(*db, "a", std::to_string(i)));
      return txn.put(*db, "b", std::to_string(i));
    }));
  }
  stop = true;
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(inconsistencies.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

TEST(LmdbTest, StaleReaderSlotOfCrashedProcessIsClearedAtOpen) {
  test::TempDir dir;
  const EnvOptions options = options_for(dir);
  auto env = Environment::open(options);  // stays open, so the table is not reset
  ASSERT_TRUE(env);
  const pid_t child = fork();
  ASSERT_NE(child, -1);
  if (child == 0) {
    auto child_env = Environment::open(options);
    if (!child_env) _exit(2);
    auto txn = child_env->begin_read();  // takes a reader slot ...
    if (!txn) _exit(3);
    _exit(0);  // ... and dies without releasing it
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto cleared = env->clear_stale_readers();
  ASSERT_TRUE(cleared);
  EXPECT_EQ(*cleared, 1);
  EXPECT_EQ(env->clear_stale_readers().value(), 0);
}

TEST(LmdbTest, OpeningAFileAsEnvironmentDirIsAFileSystemError) {
  test::TempDir dir;
  dir.write_file("not_a_dir", "x");
  EnvOptions options;
  options.dir = dir / "not_a_dir";
  auto env = Environment::open(options);
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().category(), ErrorCategory::file_system);
  EXPECT_FALSE(env.error().suggestions().empty());
}

TEST(LmdbTest, CorruptDataFileIsAValidationErrorWithRebuildSuggestion) {
  test::TempDir dir;
  dir.write_file("env/data.mdb", std::string(16384, 'z'));
  EnvOptions options;
  options.dir = dir / "env";
  auto env = Environment::open(options);
  ASSERT_FALSE(env);
  EXPECT_EQ(env.error().category(), ErrorCategory::validation);
}

}  // namespace
}  // namespace forge::store
