// Damaged LMDB files are refused at open instead of crashing a later read (issue 16 item 5).
// The damage is real: the data file is truncated or overwritten on disk.
#include <signal.h>
#ifndef _WIN32
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "forge/core/store/lmdb.h"
#include "forge/core/store/lmdb_check.h"
#include "forge/test/temp_dir.h"

namespace forge::store {
namespace {

EnvOptions options_for(const test::TempDir& dir) {
  EnvOptions options;
  options.dir = dir / "env";
  options.sync = true;
  return options;
}

// An index of a few MiB (many pages), closed cleanly.
void fill(const test::TempDir& dir) {
  auto env = Environment::open(options_for(dir)).value();
  auto db = env.open_database("files").value();
  ASSERT_TRUE(env.write([&](WriteTxn& txn) -> Result<void> {
    for (int i = 0; i < 20000; ++i) {
      FORGE_TRY_VOID(txn.put(db, "key" + std::to_string(i), std::string(100, 'v')));
    }
    return ok();
  }));
}

// Opens and reads everything: 0, or 10 (refused as damaged) ... 15 naming the failed step.
int open_and_read(const test::TempDir& dir) {
  auto env = Environment::open(options_for(dir));
  if (!env) return is_damaged_index(env.error()) ? 10 : 11;
  auto db = env->open_database("files");
  if (!db) return 12;
  auto txn = env->begin_read();
  if (!txn) return 13;
  auto cursor = txn->cursor(*db);
  if (!cursor) return 14;
  auto entry = cursor->first();
  while (entry && *entry) entry = cursor->next();
  return entry ? 0 : 15;
}

// open_and_read() in a child process on POSIX (a damaged map kills it with SIGBUS, which the
// parent reports as 128 + the signal); in this process on Windows, which has no fork().
int open_and_read_in_child(const test::TempDir& dir) {
#ifdef _WIN32
  return open_and_read(dir);
#else
  const pid_t pid = ::fork();
  if (pid == 0) _exit(open_and_read(dir));
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
#endif
}

TEST(LmdbCheckTest, AGoodFilePassesAndAMissingOneIsNew) {
  test::TempDir dir;
  EXPECT_TRUE(check_data_file(dir / "env"));
  fill(dir);
  EXPECT_TRUE(check_data_file(dir / "env"));
  EXPECT_EQ(open_and_read_in_child(dir), 0);
}

// Regression: a truncated data file crashed the reader with SIGBUS.
TEST(LmdbCheckTest, TruncatedDataFileIsRefusedNotACrash) {
  test::TempDir dir;
  fill(dir);
  const auto file = dir / "env" / "data.mdb";
  // 256 KiB of the ~2.5 MB written (not a fraction of the file: on Windows LMDB sizes the
  // file to the whole map, so a third of it would still hold every page).
  std::filesystem::resize_file(file, 256 * 1024);
  auto checked = check_data_file(dir / "env");
  ASSERT_FALSE(checked);
  EXPECT_TRUE(is_damaged_index(checked.error()));
  EXPECT_EQ(open_and_read_in_child(dir), 10) << "above 128: killed by signal (status - 128)";
}

TEST(LmdbCheckTest, OverwrittenMetaPagesAreRefused) {
  test::TempDir dir;
  fill(dir);
  {
    std::fstream stream(dir / "env" / "data.mdb", std::ios::in | std::ios::out | std::ios::binary);
    const std::string junk(8192, '\x5a');
    stream.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto checked = check_data_file(dir / "env");
  ASSERT_FALSE(checked);
  EXPECT_TRUE(is_damaged_index(checked.error()));
  EXPECT_EQ(checked.error().category(), ErrorCategory::validation);
}

TEST(LmdbCheckTest, AFileShorterThanTwoPagesIsRefused) {
  test::TempDir dir;
  fill(dir);
  std::filesystem::resize_file(dir / "env" / "data.mdb", 100);
  auto env = Environment::open(options_for(dir));
  ASSERT_FALSE(env);
  EXPECT_TRUE(is_damaged_index(env.error()));
}

}  // namespace
}  // namespace forge::store
