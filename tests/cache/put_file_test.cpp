#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

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

TEST(ReadToEndTest, HandsEveryChunkToTheSinkInOrderAndCountsTheBytes) {
  test::TempDir dir;
  const std::string content(10'000, 'x');
  const auto file = dir / "input.bin";
  std::ofstream(file, std::ios::binary) << content << "end";
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  std::vector<std::byte> buffer(4096);
  std::string seen;
  int chunks = 0;
  auto read = read_to_end(fd, file, buffer, [&](std::span<const std::byte> chunk) {
    seen.append(reinterpret_cast<const char*>(chunk.data()), chunk.size());
    ++chunks;
    return ok();
  });
  ASSERT_TRUE(read) << read.error().to_string();
  EXPECT_EQ(*read, content.size() + 3);
  EXPECT_EQ(seen, content + "end");
  EXPECT_EQ(chunks, 3);
}

TEST(ReadToEndTest, TheSinksErrorStopsTheReadAndIsReturned) {
  test::TempDir dir;
  const auto file = dir / "input.bin";
  std::ofstream(file, std::ios::binary) << std::string(10'000, 'x');
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  std::vector<std::byte> buffer(4096);
  int chunks = 0;
  auto read = read_to_end(fd, file, buffer, [&](std::span<const std::byte>) -> Result<void> {
    ++chunks;
    return fail(Error::from_errno(ENOSPC, "write", "sink"));
  });
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), ENOSPC);
  EXPECT_EQ(chunks, 1);
}

TEST(ReadToEndTest, AReadErrorNamesThePath) {
  test::TempDir dir;
  UniqueFd fd(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  std::vector<std::byte> buffer(4096);
  auto read =
      read_to_end(fd, dir / "named", buffer, [](std::span<const std::byte>) { return ok(); });
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), EISDIR);
  EXPECT_EQ(read.error().context().file, (dir / "named").string());
  EXPECT_EQ(read.error().context().operation, "read");
}

}  // namespace
}  // namespace forge::cache
