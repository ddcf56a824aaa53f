#include "forge/cache/cas_store.h"

#include <filesystem>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "forge/test/temp_dir.h"

namespace forge::cache {
namespace {

std::shared_ptr<CasStore> open_store(const test::TempDir& dir, bool fsync = false) {
  StoreOptions options;
  options.dir = dir / "store";
  options.fsync = fsync;
  auto store = CasStore::open(options);
  EXPECT_TRUE(store) << store.error().to_string();
  return *store;
}

std::span<const std::byte> bytes(const std::string& text) {
  return std::as_bytes(std::span(text));
}

std::size_t files_under(const std::filesystem::path& dir) {
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    count += entry.is_regular_file() ? 1 : 0;
  }
  return count;
}

TEST(CasStoreTest, PutThenGetReturnsSameBytesAndFsyncPathWorks) {
  test::TempDir dir;
  auto store = open_store(dir, /*fsync=*/true);
  const std::string content = "int main() { return 0; }";
  auto digest = store->put(bytes(content), digest_of(content));
  ASSERT_TRUE(digest) << digest.error().to_string();
  EXPECT_EQ(*digest, digest_of(content));
  EXPECT_TRUE(store->contains(*digest).value());
  EXPECT_EQ(store->get(*digest).value(), content);
  EXPECT_TRUE(std::filesystem::exists(store->blob_path(*digest)));
}

TEST(CasStoreTest, DigestMismatchIsRejectedAndLeavesNothingBehind) {
  test::TempDir dir;
  auto store = open_store(dir);
  const auto claimed = digest_of("what the client said");
  auto result = store->put(bytes(std::string("what it sent")), claimed);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category(), ErrorCategory::validation);
  EXPECT_FALSE(store->contains(claimed).value());
  EXPECT_EQ(files_under(dir / "store" / "cas"), 0u);
  EXPECT_EQ(files_under(dir / "store" / "tmp"), 0u);
  EXPECT_EQ(store->stats()->entries, 0u);
}

TEST(CasStoreTest, WrongSizeWithRightHashIsAMismatchToo) {
  test::TempDir dir;
  auto store = open_store(dir);
  BlobDigest claimed = digest_of("abc");
  claimed.size = 4;
  EXPECT_FALSE(store->put(bytes(std::string("abc")), claimed));
  EXPECT_FALSE(store->contains(claimed).value());
}

TEST(CasStoreTest, EmptyBlobAlwaysExists) {
  test::TempDir dir;
  auto store = open_store(dir);
  EXPECT_TRUE(store->contains(empty_blob()).value());
  EXPECT_EQ(store->get(empty_blob()).value(), "");
  EXPECT_TRUE(store->find_missing(std::span(&empty_blob(), 1))->empty());
}

TEST(CasStoreTest, OversizedBlobIsRefusedWithAClearError) {
  test::TempDir dir;
  StoreOptions options;
  options.dir = dir / "store";
  options.fsync = false;
  options.max_blob_size = 10;
  auto store = CasStore::open(options).value();
  auto result = store->put(bytes(std::string(11, 'x')));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category(), ErrorCategory::validation);
  EXPECT_EQ(files_under(dir / "store" / "tmp"), 0u);
}

TEST(CasStoreTest, AbandonedWriterRemovesItsTempFile) {
  test::TempDir dir;
  auto store = open_store(dir);
  {
    auto writer = store->begin_put(std::nullopt);
    ASSERT_TRUE(writer);
    ASSERT_TRUE(writer->write(bytes(std::string("partial upload"))));
    EXPECT_EQ(files_under(dir / "store" / "tmp"), 1u);
  }  // client went away
  EXPECT_EQ(files_under(dir / "store" / "tmp"), 0u);
  EXPECT_EQ(files_under(dir / "store" / "cas"), 0u);
}

TEST(CasStoreTest, IndexAndTotalsPersistAcrossReopen) {
  test::TempDir dir;
  BlobDigest a, b;
  {
    auto store = open_store(dir);
    a = store->put(bytes(std::string("alpha"))).value();
    b = store->put(bytes(std::string("beta!"))).value();
    ASSERT_TRUE(store->put(bytes(std::string("alpha"))));  // again: counted once
  }
  auto store = open_store(dir);
  EXPECT_TRUE(store->contains(a).value());
  EXPECT_EQ(store->stats()->entries, 2u);
  EXPECT_EQ(store->stats()->bytes, 10u);
  const BlobDigest absent = digest_of("gamma");
  const std::vector<BlobDigest> asked{a, absent, b};
  EXPECT_EQ(store->find_missing(asked).value(), std::vector<BlobDigest>{absent});
}

// Feature: platform-native-io-hardening, Property 8: Blob Integrity Round-Trip
RC_GTEST_PROP(CasStoreProperty, Property8_PutThenGetIsIdenticalAndHashesToItsDigest,
              (const std::vector<std::string>& blobs)) {
  test::TempDir dir;
  auto store = open_store(dir);
  for (const auto& blob : blobs) {
    auto digest = store->put(bytes(blob));
    RC_ASSERT(digest.has_value());
    auto back = store->get(*digest);
    RC_ASSERT(back.has_value() && back->has_value());
    RC_ASSERT(**back == blob);
    RC_ASSERT(hash::sha256_of(**back) == digest->sha256);
  }
}

// Feature: platform-native-io-hardening, Property 24: Write Serialization
RC_GTEST_PROP(CasStoreProperty, Property24_ConcurrentPutsOfOneBlobLeaveIdenticalContent,
              (const std::string& blob)) {
  test::TempDir dir;
  auto store = open_store(dir);
  std::vector<std::thread> writers;
  std::vector<Result<BlobDigest>> results(4, BlobDigest{});
  for (auto& result : results) {
    writers.emplace_back([&] { result = store->put(bytes(blob), digest_of(blob)); });
  }
  for (auto& writer : writers) writer.join();
  for (auto& result : results) RC_ASSERT(result.has_value());
  RC_ASSERT(store->get(digest_of(blob))->value() == blob);
  RC_ASSERT(store->stats()->entries == 1u);  // indexed once, whoever won
  RC_ASSERT(files_under(dir / "store" / "tmp") == 0u);
}

// Feature: platform-native-io-hardening, Property 23: Concurrent Read Support
RC_GTEST_PROP(CasStoreProperty, Property23_ConcurrentReadsOfOneBlobAreIdentical,
              (const std::string& blob)) {
  test::TempDir dir;
  auto store = open_store(dir);
  const auto digest = store->put(bytes(blob)).value();
  std::vector<std::optional<std::string>> reads(4);
  std::vector<std::thread> readers;
  for (auto& read : reads) {
    readers.emplace_back([&] { read = store->get(digest).value(); });
  }
  for (auto& reader : readers) reader.join();
  for (auto& read : reads) RC_ASSERT(read == std::optional<std::string>(blob));
}

// Feature: platform-native-io-hardening, Property 7: Concurrent Storage Operations
RC_GTEST_PROP(CasStoreProperty, Property7_ConcurrentOpsOnDifferentBlobsNeverCorrupt,
              (const std::set<std::string>& distinct)) {
  test::TempDir dir;
  auto store = open_store(dir);
  const std::vector<std::string> blobs(distinct.begin(), distinct.end());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (std::size_t t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = t; i < blobs.size(); i += 3) {
        auto digest = store->put(bytes(blobs[i]));
        if (!digest || store->get(*digest).value() != blobs[i]) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  RC_ASSERT(failures.load() == 0);
  // The end state equals the sequential one: every blob present once, totals exact.
  std::uint64_t bytes_total = 0;
  std::uint64_t entries = 0;
  for (const auto& blob : blobs) {
    RC_ASSERT(store->get(digest_of(blob))->value() == blob);
    bytes_total += blob.size();
    entries += 1;
  }
  RC_ASSERT(store->stats()->entries == entries);
  RC_ASSERT(store->stats()->bytes == bytes_total);
}

}  // namespace
}  // namespace forge::cache
