// Eviction with uploads in flight (issue 16 item 4).
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "forge/cache/cas_store.h"
#include "forge/test/temp_dir.h"

namespace forge::cache {
namespace {

std::span<const std::byte> bytes(const std::string& text) {
  return std::as_bytes(std::span(text));
}

std::string blob_of(int i, std::size_t size) {
  std::string content = std::to_string(i) + ":";
  content.resize(size, static_cast<char>('a' + i % 26));
  return content;
}

// Regression: the bytes of uploads in progress were invisible to eviction, so concurrent
// uploads landed on a full store and pushed it to ~1.8x max_size. Now a put reserves its
// size when it starts, and eviction makes room before the uploads land.
TEST(EvictionTest, UploadsInFlightAreReservedSoTheStoreStaysUnderMaxSize) {
  test::TempDir dir;
  StoreOptions options;
  options.dir = dir / "store";
  options.fsync = false;
  options.max_size = 1 << 20;  // 1 MiB
  auto store = CasStore::open(options).value();
  constexpr std::size_t k_blob = 64 << 10;
  for (int i = 0; i < 14; ++i) ASSERT_TRUE(store->put(bytes(blob_of(i, k_blob))));  // 0.875 MiB
  ASSERT_LE(store->stats().value().bytes, options.max_size);

  // Eight 96 KiB uploads start at once (0.75 MiB in flight).
  std::vector<std::string> contents;
  std::vector<BlobWriter> writers;
  for (int i = 0; i < 8; ++i) {
    contents.push_back(blob_of(100 + i, 96 << 10));
    writers.push_back(store->begin_put(digest_of(contents.back())).value());
  }
  // The background eviction makes room for them while they upload.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (store->stats().value().bytes + 8 * (96 << 10) > options.max_size &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_LE(store->stats().value().bytes + 8 * (96 << 10), options.max_size)
      << "eviction did not make room for the uploads in flight";
  for (std::size_t i = 0; i < writers.size(); ++i) {
    ASSERT_TRUE(writers[i].write(bytes(contents[i])));
    ASSERT_TRUE(writers[i].commit());
  }
  EXPECT_LE(store->stats().value().bytes, options.max_size)
      << "uploads in flight pushed the store past max_size";
  for (const auto& content : contents) EXPECT_EQ(store->get(digest_of(content)).value(), content);
}

TEST(EvictionTest, AFinishedOrAbandonedPutReleasesItsReservation) {
  test::TempDir dir;
  StoreOptions options;
  options.dir = dir / "store";
  options.fsync = false;
  options.max_size = 1 << 20;
  options.background_eviction = false;
  auto store = CasStore::open(options).value();
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(store->put(bytes(blob_of(i, 64 << 10))));
  {
    // Abandoned: destroyed without commit.
    auto writer = store->begin_put(BlobDigest{digest_of("x").sha256, 900 << 10}).value();
  }
  {
    auto writer = store->begin_put_expecting_hash(digest_of(blob_of(50, 1000)).sha256).value();
    ASSERT_TRUE(writer.write(bytes(blob_of(50, 1000))));
    ASSERT_TRUE(writer.commit());
  }
  // Nothing reserved any more: a default eviction (target low_watermark * max_size) has
  // nothing to do at 0.5 MiB.
  EXPECT_EQ(store->evict_now().value().evicted, 0u);
}

}  // namespace
}  // namespace forge::cache
