// Reads check content (issue 16 item 2): a blob whose bytes changed on disk is never
// served as good. The corruption is real: a byte of the blob file is flipped on disk.
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "blob_record.h"
#include "forge/cache/cas_store.h"
#include "forge/core/store/encoding.h"
#include "forge/test/temp_dir.h"

namespace forge::cache {
namespace {

std::shared_ptr<CasStore> open_store(const test::TempDir& dir) {
  StoreOptions options;
  options.dir = dir / "store";
  options.fsync = false;
  return CasStore::open(options).value();
}

std::span<const std::byte> bytes(const std::string& text) {
  return std::as_bytes(std::span(text));
}

void flip_byte(const std::filesystem::path& file, std::uint64_t offset) {
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  stream.seekg(static_cast<std::streamoff>(offset));
  const char c = static_cast<char>(stream.get());
  stream.seekp(static_cast<std::streamoff>(offset));
  stream.put(static_cast<char>(c ^ 0x01));
}

std::string big_content() {
  std::string content;
  for (int i = 0; content.size() < (2u << 20) + 5; ++i) content += std::to_string(i) + ",";
  return content;
}

TEST(BlobReaderTest, GoodBlobPassesEveryCheck) {
  test::TempDir dir;
  auto store = open_store(dir);
  const std::string content = big_content();
  const auto digest = store->put(bytes(content)).value();
  auto reader = store->open_blob(digest).value();
  ASSERT_TRUE(reader);
  EXPECT_TRUE(reader->verify_all());
  EXPECT_EQ(reader->read_all().value(), content);
  auto check = reader->verifier();
  for (std::size_t at = 0; at < content.size(); at += 65536) {
    check.update(bytes(content.substr(at, 65536)));
  }
  EXPECT_TRUE(check.finish());
  EXPECT_EQ(store->get(digest).value(), content);
}

// Regression: get() returned the corrupt bytes.
TEST(BlobReaderTest, GetOfABlobWithAFlippedByteIsAMissAndTheBlobIsQuarantined) {
  test::TempDir dir;
  auto store = open_store(dir);
  const std::string content = "object code that a link step will consume";
  const auto digest = store->put(bytes(content)).value();
  flip_byte(store->blob_path(digest), 7);
  EXPECT_EQ(store->get(digest).value(), std::nullopt);
  EXPECT_FALSE(store->contains(digest).value());
  EXPECT_FALSE(std::filesystem::exists(store->blob_path(digest)));
  EXPECT_FALSE(std::filesystem::is_empty(dir / "store" / "quarantine"));
  EXPECT_EQ(store->stats().value().entries, 0u);
  EXPECT_EQ(store->stats().value().bytes, 0u);
  // Clients upload it again: the new copy is stored and served.
  ASSERT_TRUE(store->put(bytes(content), digest));
  EXPECT_EQ(store->get(digest).value(), content);
}

TEST(BlobReaderTest, StreamingVerifierReportsAFlippedByteAtFinish) {
  test::TempDir dir;
  auto store = open_store(dir);
  const std::string content = big_content();
  const auto digest = store->put(bytes(content)).value();
  flip_byte(store->blob_path(digest), content.size() - 3);
  auto reader = store->open_blob(digest).value();
  ASSERT_TRUE(reader);
  auto check = reader->verifier();
  std::string chunk(100'000, '\0');
  for (std::uint64_t at = 0; at < reader->size();) {
    const std::size_t n = reader->read(at, std::as_writable_bytes(std::span(chunk))).value();
    ASSERT_GT(n, 0u);
    check.update(bytes(chunk.substr(0, n)));
    at += n;
  }
  auto finished = check.finish();
  ASSERT_FALSE(finished);
  EXPECT_TRUE(is_corrupt_blob(finished.error()));
  EXPECT_FALSE(store->contains(digest).value());
}

TEST(BlobReaderTest, VerifyAllCatchesATruncatedBlobButAShortPassIsNotCorruption) {
  test::TempDir dir;
  auto store = open_store(dir);
  const std::string content = "twenty-something bytes here";
  const auto digest = store->put(bytes(content)).value();
  {
    auto reader = store->open_blob(digest).value();
    auto check = reader->verifier();
    check.update(bytes(content.substr(0, 5)));  // a pass that stopped early (a range read)
    auto finished = check.finish();
    ASSERT_FALSE(finished);
    EXPECT_FALSE(is_corrupt_blob(finished.error()));
    EXPECT_TRUE(store->contains(digest).value());  // a good blob is not quarantined
  }
  std::filesystem::resize_file(store->blob_path(digest), 4);  // truncated for real
  auto reader = store->open_blob(digest).value();
  ASSERT_TRUE(reader);
  auto checked = reader->verify_all();
  ASSERT_FALSE(checked);
  EXPECT_TRUE(is_corrupt_blob(checked.error()));
  EXPECT_EQ(checked.error().category(), ErrorCategory::validation);
  EXPECT_FALSE(store->contains(digest).value());
}

// Records written before checksums (version 2) are checked against the SHA-256 name, and
// verify() records the checksum for them.
TEST(BlobReaderTest, RecordsWithoutAChecksumAreCheckedByNameAndVerifyAddsOne) {
  test::TempDir dir;
  auto store = open_store(dir);
  const std::string good = "stored by an older forge";
  const std::string bad = "also stored by an older forge";
  const auto good_digest = store->put(bytes(good)).value();
  const auto bad_digest = store->put(bytes(bad)).value();
  auto& env = store->environment();
  const auto blobs = env.open_database("blobs").value();
  auto to_v2 = [&](const BlobDigest& digest) {
    const auto raw = digest.sha256.bytes();
    const std::string key(reinterpret_cast<const char*>(raw.data()), raw.size());
    ASSERT_TRUE(env.write([&](store::WriteTxn& txn) -> Result<void> {
      FORGE_TRY(auto value, txn.get(blobs, key));
      auto record = BlobRecord::decode(value.value()).value();
      std::string v2 = {'\x02', '\x00'};
      for (std::uint64_t v : {record.size, record.stored_size}) store::put_le(v2, v);
      for (std::int64_t v : {record.inserted_ns, record.accessed_ns}) store::put_le(v2, v);
      return txn.put(blobs, key, v2);
    }));
  };
  to_v2(good_digest);
  to_v2(bad_digest);
  flip_byte(store->blob_path(bad_digest), 0);
  EXPECT_EQ(store->get(good_digest).value(), good);
  EXPECT_EQ(store->get(bad_digest).value(), std::nullopt);
  EXPECT_FALSE(store->contains(bad_digest).value());

  ASSERT_TRUE(store->verify());
  const auto raw = good_digest.sha256.bytes();
  const std::string key(reinterpret_cast<const char*>(raw.data()), raw.size());
  auto txn = env.begin_read().value();
  const auto record = BlobRecord::decode(txn.get(blobs, key).value().value());
  ASSERT_TRUE(record);
  EXPECT_TRUE(record->checksum);
}

TEST(BlobReaderTest, EmptyBlobAlwaysVerifies) {
  test::TempDir dir;
  auto store = open_store(dir);
  auto reader = store->open_blob(empty_blob()).value();
  ASSERT_TRUE(reader);
  EXPECT_TRUE(reader->verify_all());
  EXPECT_EQ(reader->read_all().value(), "");
}

}  // namespace
}  // namespace forge::cache
