#include "forge/cache/upload_queue.h"

#include <gtest/gtest.h>

#include "forge/test/temp_dir.h"

namespace forge::cache {
namespace {

class UploadQueueTest : public ::testing::Test {
 protected:
  std::unique_ptr<UploadQueue> open(std::uint64_t max_entries = 100) {
    UploadQueueOptions options;
    options.dir = m_dir / "queue";
    options.max_entries = max_entries;
    options.fsync = false;
    auto queue = UploadQueue::open(options);
    EXPECT_TRUE(queue) << queue.error().to_string();
    return std::move(*queue);
  }
  test::TempDir m_dir;
};

TEST_F(UploadQueueTest, EntriesComeOutOldestFirst) {
  auto queue = open();
  const auto a = digest_of("a"), b = digest_of("b");
  ASSERT_EQ(queue->push(UpstreamSpace::cas, a.sha256.hex(), a).value(), Pushed::added);
  ASSERT_EQ(queue->push(UpstreamSpace::cas, b.sha256.hex(), b).value(), Pushed::added);
  ASSERT_EQ(queue->push(UpstreamSpace::ac, "key1", b).value(), Pushed::added);
  auto entries = queue->peek(10).value();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].value, a);
  EXPECT_EQ(entries[1].key, b.sha256.hex());
  EXPECT_EQ(entries[2].space, UpstreamSpace::ac);
  EXPECT_EQ(entries[2].key, "key1");
  EXPECT_EQ(entries[2].value, b);
  EXPECT_LT(entries[0].seq, entries[1].seq);
}

TEST_F(UploadQueueTest, AKeyIsQueuedOnce) {
  auto queue = open();
  const auto a = digest_of("a");
  ASSERT_EQ(queue->push(UpstreamSpace::cas, a.sha256.hex(), a).value(), Pushed::added);
  EXPECT_EQ(queue->push(UpstreamSpace::cas, a.sha256.hex(), a).value(), Pushed::already_queued);
  EXPECT_EQ(queue->stats().value().length, 1u);
}

TEST_F(UploadQueueTest, AFullQueueRefusesInsteadOfGrowing) {
  auto queue = open(2);
  for (std::string text : {"a", "b"}) {
    const auto d = digest_of(text);
    ASSERT_EQ(queue->push(UpstreamSpace::cas, d.sha256.hex(), d).value(), Pushed::added);
  }
  const auto c = digest_of("c");
  EXPECT_EQ(queue->push(UpstreamSpace::cas, c.sha256.hex(), c).value(), Pushed::full);
  EXPECT_EQ(queue->stats().value().length, 2u);
}

TEST_F(UploadQueueTest, EntriesSurviveReopening) {
  const auto a = digest_of("a");
  {
    auto queue = open();
    ASSERT_TRUE(queue->push(UpstreamSpace::cas, a.sha256.hex(), a));
    auto entry = queue->peek(1).value().at(0);
    ASSERT_TRUE(queue->record_attempt(entry));
  }
  auto queue = open();
  auto entries = queue->peek(10).value();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].value, a);
  EXPECT_EQ(entries[0].attempts, 1u);
  EXPECT_GT(entries[0].enqueued_ns, 0);
  EXPECT_EQ(queue->stats().value().oldest_enqueued_ns, entries[0].enqueued_ns);
}

TEST_F(UploadQueueTest, RawAndAcEntriesOfOneKeyAreTwoEntriesThatKeepTheirSpace) {
  const auto v = digest_of("value");
  {
    auto queue = open();
    ASSERT_EQ(queue->push(UpstreamSpace::ac, "r.key", v).value(), Pushed::added);
    ASSERT_EQ(queue->push(UpstreamSpace::raw, "r.key", v).value(), Pushed::added);
    EXPECT_EQ(queue->push(UpstreamSpace::raw, "r.key", v).value(), Pushed::already_queued);
  }
  auto queue = open();
  auto entries = queue->peek(10).value();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].space, UpstreamSpace::ac);
  EXPECT_EQ(entries[1].space, UpstreamSpace::raw);
  EXPECT_EQ(entries[1].key, "r.key");
  EXPECT_EQ(entries[1].value, v);
}

TEST_F(UploadQueueTest, NeedsBlobUntilEveryEntryNamingItIsRemoved) {
  auto queue = open();
  const auto v = digest_of("value");
  ASSERT_TRUE(queue->push(UpstreamSpace::cas, v.sha256.hex(), v));
  ASSERT_TRUE(queue->push(UpstreamSpace::ac, "k", v));
  auto entries = queue->peek(10).value();
  EXPECT_TRUE(queue->needs_blob(v.sha256).value());
  ASSERT_TRUE(queue->remove(entries[0]));
  EXPECT_TRUE(queue->needs_blob(v.sha256).value());
  ASSERT_TRUE(queue->remove(entries[1]));
  EXPECT_FALSE(queue->needs_blob(v.sha256).value());
  EXPECT_EQ(queue->stats().value().length, 0u);
  EXPECT_EQ(queue->stats().value().oldest_enqueued_ns, 0);
}

TEST_F(UploadQueueTest, ARemovedKeyCanBeQueuedAgain) {
  auto queue = open();
  const auto a = digest_of("a");
  ASSERT_TRUE(queue->push(UpstreamSpace::cas, a.sha256.hex(), a));
  auto first = queue->peek(1).value().at(0);
  ASSERT_TRUE(queue->remove(first));
  EXPECT_EQ(queue->push(UpstreamSpace::cas, a.sha256.hex(), a).value(), Pushed::added);
  // Removing the old entry again changes nothing.
  ASSERT_TRUE(queue->remove(first));
  EXPECT_EQ(queue->stats().value().length, 1u);
  EXPECT_TRUE(queue->needs_blob(a.sha256).value());
}

}  // namespace
}  // namespace forge::cache
