// push_to_upstream / pull_from_upstream against a real Forge HTTP cache in-process
// (upstream_test_support.h): batches, what is already there, an upstream that goes away.
#include "forge/cache/tier_transfer.h"

#include <gtest/gtest.h>

#include "upstream_test_support.h"

namespace forge::cache {
namespace {

struct Local {
  test::TempDir dir;
  std::shared_ptr<CasStore> cas;
  std::shared_ptr<ActionCache> actions;
  Local() {
    StoreOptions options;
    options.dir = dir / "store";
    options.fsync = false;
    cas = CasStore::open(options).value();
    actions = ActionCache::open(cas).value();
  }
};

std::unique_ptr<Upstream> upstream_at(const std::string& url) {
  UpstreamOptions options;
  options.url = url;
  options.connect_timeout = std::chrono::milliseconds(500);
  options.request_timeout = std::chrono::milliseconds(2'000);
  return open_upstream(options).value();
}

BlobDigest put(CasStore& cas, const std::string& content) {
  return cas.put(std::as_bytes(std::span(content.data(), content.size()))).value();
}

TransferOptions quick(std::size_t batch) {
  TransferOptions options;
  options.batch = batch;
  options.parallel = 3;
  options.retry.max_attempts = 2;
  options.retry.initial_delay = std::chrono::milliseconds(10);
  return options;
}

TEST(TierTransferTest, PushSendsOnlyWhatTheUpstreamLacksInBatches) {
  test::TempDir upstream_dir;
  test::ForgeUpstreamServer server(upstream_dir / "store");
  Local local;
  std::vector<BlobDigest> blobs;
  std::uint64_t bytes = 0;
  for (int i = 0; i < 7; ++i) {
    blobs.push_back(put(*local.cas, "blob number " + std::to_string(i)));
    bytes += blobs.back().size;
  }
  put(server.cas(), "blob number 0");
  bytes -= blobs[0].size;
  auto upstream = upstream_at(server.url());

  auto report = push_to_upstream(*local.actions, *upstream, quick(3));
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_TRUE(report->complete()) << report->to_json().dump();
  EXPECT_EQ(report->blobs.checked, 7u);
  EXPECT_EQ(report->blobs.present, 1u);
  EXPECT_EQ(report->blobs.copied, 6u);
  EXPECT_EQ(report->blobs.bytes, bytes);
  for (const auto& blob : blobs) EXPECT_TRUE(server.cas().contains(blob).value());

  report = push_to_upstream(*local.actions, *upstream, quick(3));
  ASSERT_TRUE(report);
  EXPECT_EQ(report->blobs.present, 7u);
  EXPECT_EQ(report->blobs.copied, 0u);
}

TEST(TierTransferTest, PullStoresVerifiedBlobsAndReportsMissingOnes) {
  test::TempDir upstream_dir;
  test::ForgeUpstreamServer server(upstream_dir / "store");
  const auto there = put(server.cas(), "on the upstream");
  const auto also = put(server.cas(), "also there, asked for by hash alone");
  Local local;
  auto upstream = upstream_at(server.url());
  const PullRequest request{
      .blobs = {there.to_string(), also.sha256.hex(), digest_of("nowhere").to_string()}};
  auto report = pull_from_upstream(*local.actions, *upstream, request, quick(2));
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_FALSE(report->complete());
  EXPECT_EQ(report->blobs.copied, 2u) << report->to_json().dump();
  EXPECT_EQ(report->blobs.missing, 1u);
  EXPECT_EQ(report->blobs.bytes, there.size + also.size);
  ASSERT_EQ(report->failures.size(), 1u);
  EXPECT_NE(report->failures[0].find("not in the upstream"), std::string::npos);
  EXPECT_EQ(local.cas->get(there).value(), "on the upstream");
  EXPECT_TRUE(local.cas->contains(also).value());

  const PullRequest bad{.blobs = {"not-a-digest"}};
  auto refused = pull_from_upstream(*local.actions, *upstream, bad, quick(2));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), ErrorCategory::validation);
}

// Regression: raw entries were pushed as ac/<key>, which Forge's /ac/ route refuses.
TEST(TierTransferTest, RawEntriesArePushedToTheRawSpaceAndPulledIntoAnotherStore) {
  test::TempDir upstream_dir;
  test::ForgeUpstreamServer server(upstream_dir / "store");
  auto upstream = upstream_at(server.url());
  const std::string key = "r." + digest_of("/ccache/ab/cdef").sha256.hex();
  Local writer;
  ASSERT_TRUE(writer.actions->put(Keyspace::raw, key, "a ccache entry"));
  auto pushed = push_to_upstream(*writer.actions, *upstream, quick(3));
  ASSERT_TRUE(pushed) << pushed.error().to_string();
  EXPECT_TRUE(pushed->complete()) << pushed->to_json().dump();
  EXPECT_EQ(pushed->actions.copied, 1u);

  Local reader;
  const PullRequest request{.raw = {key, "r.absent"}};
  auto pulled = pull_from_upstream(*reader.actions, *upstream, request, quick(2));
  ASSERT_TRUE(pulled) << pulled.error().to_string();
  EXPECT_EQ(pulled->actions.copied, 1u) << pulled->to_json().dump();
  EXPECT_EQ(pulled->actions.missing, 1u);
  EXPECT_EQ(reader.actions->get(Keyspace::raw, key).value(), "a ccache entry");
  EXPECT_EQ(reader.actions->get(Keyspace::ac, key).value(), std::nullopt);
}

TEST(TierTransferTest, AnUnreachableUpstreamIsReportedNotThrownOrHung) {
  std::string url;
  {
    test::TempDir upstream_dir;
    test::ForgeUpstreamServer server(upstream_dir / "store");
    url = server.url();
  }  // gone: connections are refused
  Local local;
  put(*local.cas, "stays local");
  auto upstream = upstream_at(url);
  auto report = push_to_upstream(*local.actions, *upstream, quick(4));
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_FALSE(report->complete());
  EXPECT_EQ(report->blobs.failed, 1u);
  EXPECT_EQ(report->blobs.copied, 0u);
  ASSERT_EQ(report->failures.size(), 1u);
  EXPECT_EQ(report->to_json()["blobs"]["failed"], 1);
}

}  // namespace
}  // namespace forge::cache
