#include "forge/core/store/lmdb.h"

#ifndef _WIN32
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
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

// kB of the data.mdb mapping resident in this process (/proc/self/smaps).
std::size_t resident_map_kb(const std::filesystem::path& data_file) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool in_map = false;
  std::size_t kb = 0;
  while (std::getline(smaps, line)) {
    if (!line.empty() && std::isxdigit(static_cast<unsigned char>(line[0])) &&
        line.find('-') != std::string::npos && line.find(' ') > line.find('-')) {
      in_map = line.ends_with(data_file.string());
    } else if (in_map && line.starts_with("Rss:")) {
      kb += std::stoul(line.substr(4));
    }
  }
  return kb;
}

TEST(LmdbTest, ReleasingResidentPagesUnmapsThemAndKeepsEveryValue) {
#ifdef _WIN32
  GTEST_SKIP() << "Linux only: reads /proc/self/smaps; on Windows release_resident_pages() "
                  "does nothing (the OS trims the working set)";
#endif
  test::TempDir dir;
  auto env = Environment::open(options_for(dir));
  ASSERT_TRUE(env) << env.error().to_string();
  auto db = env->open_database("files");
  ASSERT_TRUE(db);
  const std::string value(1000, 'v');
  ASSERT_TRUE(env->write([&](WriteTxn& txn) -> Result<void> {
    for (int i = 0; i < 8000; ++i) FORGE_TRY_VOID(txn.put(*db, std::to_string(i), value));
    return ok();
  }));
  auto read_all = [&] {
    auto txn = env->begin_read();
    EXPECT_TRUE(txn);
    std::size_t found = 0;
    for (int i = 0; i < 8000; ++i) {
      auto got = txn->get(*db, std::to_string(i));
      found += got && got->has_value() && **got == value ? 1 : 0;
    }
    return found;
  };
  ASSERT_EQ(read_all(), 8000u);  // every page touched: ~8 MB resident
  const auto data_file = std::filesystem::canonical(dir / "env" / "data.mdb");
  const std::size_t before = resident_map_kb(data_file);
  EXPECT_GT(before, 4000u);
  ASSERT_TRUE(env->release_resident_pages());
  EXPECT_LT(resident_map_kb(data_file), before / 10);
  EXPECT_EQ(read_all(), 8000u);  // faulted back in, unchanged
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
#ifdef _WIN32
  GTEST_SKIP() << "POSIX only: the crashed reader is a fork()ed child";
#else
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
#endif
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

namespace forge::store {
namespace {

// Issue 16 item 5 (regression: the map was grown with mdb_env_set_mapsize while another
// thread held a read transaction, which LMDB forbids: the reader's memory was remapped under
// it). Growth now waits until no transaction is open.
TEST(LmdbTest, MapGrowthWaitsForOpenReadTransactions) {
  test::TempDir dir;
  EnvOptions options;
  options.dir = dir / "env";
  options.sync = false;
  options.initial_map_size = 1 << 20;  // 1 MiB: the writes below must grow it
  auto env = Environment::open(options).value();
  auto db = env.open_database("files").value();
  ASSERT_TRUE(env.write([&](WriteTxn& txn) { return txn.put(db, "first", "held by a reader"); }));
  const std::size_t before = env.map_size();

  std::atomic<bool> holding{false};
  std::atomic<std::int64_t> released_at{0};
  std::string seen;
  std::thread reader([&] {
    auto txn = env.begin_read().value();
    const std::string_view value = txn.get(db, "first").value().value();
    holding = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    seen = std::string(value);  // still the mapped page: no remap happened meanwhile
    released_at = std::chrono::steady_clock::now().time_since_epoch().count();
    txn.abort();
  });
  while (!holding) std::this_thread::yield();
  const std::string big(4000, 'x');
  ASSERT_TRUE(env.write([&](WriteTxn& txn) -> Result<void> {
    for (int i = 0; i < 1000; ++i) FORGE_TRY_VOID(txn.put(db, "k" + std::to_string(i), big));
    return ok();
  }));
  const auto written_at = std::chrono::steady_clock::now().time_since_epoch().count();
  reader.join();
  EXPECT_GT(env.map_size(), before);
  EXPECT_EQ(seen, "held by a reader");
  EXPECT_GE(written_at, released_at.load()) << "the map grew while a reader held it";
  auto txn = env.begin_read().value();
  EXPECT_EQ(txn.get(db, "k999").value().value(), big);
}

}  // namespace
}  // namespace forge::store
