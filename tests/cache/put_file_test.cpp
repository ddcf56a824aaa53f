#include <cstdint>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "forge/cache/cas_store.h"
#include "forge/test/temp_dir.h"

namespace forge::cache {
namespace {

std::shared_ptr<CasStore> open_store(const test::TempDir& dir) {
  StoreOptions options;
  options.dir = dir / "store";
  options.fsync = false;
  return CasStore::open(options).value();
}

TEST(PutFileTest, StoresAFileLargerThanOneBufferAndReturnsItsDigest) {
  test::TempDir dir;
  auto store = open_store(dir);
  std::string content;
  for (std::uint64_t i = 0; content.size() < (3u << 20) + 17; ++i)
    content += std::to_string(i * 7919);
  const auto file = dir / "input.bin";
  std::ofstream(file, std::ios::binary) << content;
  auto digest = store->put_file(file);
  ASSERT_TRUE(digest) << digest.error().to_string();
  EXPECT_EQ(*digest, digest_of(content));
  EXPECT_EQ(store->get(*digest).value(), content);
}

TEST(PutFileTest, EmptyFileIsTheEmptyBlob) {
  test::TempDir dir;
  auto store = open_store(dir);
  const auto file = dir / "empty";
  std::ofstream(file).flush();
  EXPECT_EQ(store->put_file(file).value(), empty_blob());
}

TEST(PutFileTest, MissingFileIsAnErrorThatNamesItAndStoresNothing) {
  test::TempDir dir;
  auto store = open_store(dir);
  auto digest = store->put_file(dir / "no-such-file");
  ASSERT_FALSE(digest);
  EXPECT_EQ(digest.error().category(), ErrorCategory::file_system);
  EXPECT_EQ(store->stats().value().entries, 0u);
}

TEST(PutFileTest, DirectoryIsRejectedWithoutLeavingATempFile) {
  test::TempDir dir;
  auto store = open_store(dir);
  auto digest = store->put_file(dir.path());
  ASSERT_FALSE(digest);
  EXPECT_TRUE(std::filesystem::is_empty(dir / "store" / "tmp"));
}

}  // namespace
}  // namespace forge::cache
