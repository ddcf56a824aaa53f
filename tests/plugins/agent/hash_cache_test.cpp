#include "forge/agent/hash_cache.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <ctime>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "forge/core/io/backend_selector.h"
#include "forge/test/temp_dir.h"

namespace forge::agent {
namespace {

HashCache make_cache() {
  auto io = io::create_platform_io(support::IoConfig{});
  EXPECT_TRUE(io);
  return HashCache(std::move(*io));
}

void set_mtime_from_now(const std::string& file, std::chrono::seconds offset) {
  timespec times[2];
  ASSERT_EQ(::clock_gettime(CLOCK_REALTIME, &times[0]), 0);
  times[0].tv_sec += offset.count();
  times[1] = times[0];
  ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
}

TEST(HashCacheTest, ServesAnUnchangedFileFromMemoryAndRehashesAChangedOne) {
  test::TempDir dir;
  const std::string file = dir.write_file("f", "one").string();
  std::this_thread::sleep_for(std::chrono::milliseconds(120));  // out of the racy window
  HashCache cache = make_cache();
  const auto first = cache.hash({file}, {true, false});
  ASSERT_TRUE(first[0].digests);
  EXPECT_FALSE(first[0].cached);
  EXPECT_EQ(first[0].digests->sha256, hash::sha256_of(std::string_view("one")));
  const auto second = cache.hash({file}, {true, false});
  EXPECT_TRUE(second[0].cached);
  EXPECT_EQ(second[0].size, 3u);
  dir.write_file("f", "two!");  // new size, mtime, ctime
  const auto third = cache.hash({file}, {true, false});
  ASSERT_TRUE(third[0].digests);
  EXPECT_FALSE(third[0].cached);
  EXPECT_EQ(third[0].digests->sha256, hash::sha256_of(std::string_view("two!")));
}

TEST(HashCacheTest, RacilyCleanFilesAndAnotherAlgorithmAreNotServedFromMemory) {
  test::TempDir dir;
  const std::string file = dir.write_file("f", "fresh").string();
  // Modified "just now" whatever the machine's speed: an mtime ahead of the clock stays inside
  // the racy window (a plain write flaked when more than the window passed before the hash).
  set_mtime_from_now(file, std::chrono::hours(1));
  HashCache cache = make_cache();
  ASSERT_TRUE(cache.hash({file}, {true, false})[0].digests);
  // Racily clean: a same-tick rewrite could keep its stat, so it was not cached.
  EXPECT_FALSE(cache.hash({file}, {true, false})[0].cached);
  // An old mtime; the ctime this sets leaves the racy window after the sleep.
  set_mtime_from_now(file, -std::chrono::hours(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  ASSERT_TRUE(cache.hash({file}, {true, false})[0].digests);
  EXPECT_TRUE(cache.hash({file}, {true, false})[0].cached);
  const auto xxh3 = cache.hash({file}, {false, true});
  EXPECT_FALSE(xxh3[0].cached);
  ASSERT_TRUE(xxh3[0].digests);
  EXPECT_TRUE(xxh3[0].digests->xxh3);
  const auto missing = cache.hash({(dir / "absent").string()}, {true, false});
  ASSERT_FALSE(missing[0].digests);
  EXPECT_EQ(missing[0].digests.error().code(), ENOENT);
}

}  // namespace
}  // namespace forge::agent
