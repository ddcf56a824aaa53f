#include "body_chunk.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace forge::bazel_remote {
namespace {

TEST(BodyChunkTest, ABufferGivenBackIsTheNextOneTaken) {
  char* first = nullptr;
  {
    BodyChunk chunk;
    first = chunk.data();
    chunk.data()[BodyChunk::size() - 1] = 'x';  // the whole size is writable (ASan checks)
  }
  EXPECT_GE(BodyChunk::spare_on_this_thread(), 1u);
  BodyChunk again;
  EXPECT_EQ(again.data(), first);
}

TEST(BodyChunkTest, BuffersInUseAtOnceAreDistinct) {
  std::vector<std::unique_ptr<BodyChunk>> chunks;
  std::set<char*> seen;
  for (int i = 0; i < 8; ++i) {
    chunks.push_back(std::make_unique<BodyChunk>());
    EXPECT_TRUE(seen.insert(chunks.back()->data()).second);
  }
}

TEST(BodyChunkTest, IdleBuffersKeptPerThreadAreBounded) {
  {
    std::vector<std::unique_ptr<BodyChunk>> burst;
    for (std::size_t i = 0; i < 4 * k_spare_body_chunks; ++i) {
      burst.push_back(std::make_unique<BodyChunk>());
    }
  }  // all given back at once
  EXPECT_EQ(BodyChunk::spare_on_this_thread(), k_spare_body_chunks);
}

TEST(BodyChunkTest, ABufferTakenOnOneThreadMayBeGivenBackOnAnother) {
  auto chunk = std::make_unique<BodyChunk>();  // a coroutine that resumes elsewhere
  std::size_t spare_there = 0;
  std::thread other([&] {
    chunk.reset();
    spare_there = BodyChunk::spare_on_this_thread();
  });
  other.join();
  EXPECT_EQ(spare_there, 1u);
}

}  // namespace
}  // namespace forge::bazel_remote
