// CasStore and ActionCache with an upstream tier attached (cas_store_upstream.cpp): every
// lookup and put of the store goes through the tier, against a real Forge HTTP cache.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>

#include "forge/cache/action_cache.h"
#include "forge/cache/upstream_tier.h"
#include "upstream_test_support.h"

namespace forge::cache {
namespace {

using namespace std::chrono_literals;

// ActionResult{output_files: [OutputFile{path, digest}]} in protobuf wire format.
std::string action_result_with(const BlobDigest& output) {
  auto field = [](std::string& out, int number, const std::string& payload) {
    out.push_back(static_cast<char>((number << 3) | 2));
    out.push_back(static_cast<char>(payload.size()));  // every payload here is < 128 bytes
    out += payload;
  };
  std::string digest;
  field(digest, 1, output.sha256.hex());
  digest.push_back(static_cast<char>(2 << 3));
  digest.push_back(static_cast<char>(output.size));  // sizes here are < 128
  std::string file;
  field(file, 1, "out/a");
  field(file, 2, digest);
  std::string result;
  field(result, 2, file);
  return result;
}

class CasStoreUpstreamTest : public ::testing::Test {
 protected:
  void SetUp() override { m_server = std::make_unique<test::ForgeUpstreamServer>(m_dir / "up"); }
  void TearDown() override {
    m_cache.reset();
    m_local.reset();
  }

  void open_local(std::string url = {}, std::uint64_t max_size = 0) {
    StoreOptions options;
    options.dir = m_dir / "local";
    options.fsync = false;
    options.max_size = max_size;
    options.background_eviction = false;
    m_local = CasStore::open(options).value();
    UpstreamOptions upstream;
    upstream.url = url.empty() ? m_server->url() : url;
    upstream.request_timeout = 2s;
    TierOptions tier;
    tier.workers = 0;  // the tests drain by hand
    tier.retry.initial_delay = 1ms;
    tier.retry.max_delay = 5ms;
    tier.queue.dir = m_dir / "queue";
    tier.queue.fsync = false;
    m_local->attach_upstream(UpstreamTier::open(tier, open_upstream(upstream).value()).value());
    m_cache = ActionCache::open(m_local).value();
  }

  BlobDigest put_upstream(const std::string& content) {
    return m_server->cas().put(std::as_bytes(std::span(content))).value();
  }
  UpstreamTier& tier() { return *m_local->upstream(); }

  test::TempDir m_dir;
  std::unique_ptr<test::ForgeUpstreamServer> m_server;
  std::shared_ptr<CasStore> m_local;
  std::shared_ptr<ActionCache> m_cache;
};

TEST_F(CasStoreUpstreamTest, ALocalMissIsReadThroughAndThenServedLocally) {
  open_local();
  const auto digest = put_upstream("only upstream");
  EXPECT_EQ(m_local->get(digest).value(), "only upstream");
  m_server->stop();  // from now on only the local tier can answer
  EXPECT_EQ(m_local->get(digest).value(), "only upstream");
  EXPECT_EQ(tier().stats().fetch_hits, 1u);
}

TEST_F(CasStoreUpstreamTest, FindByHashLearnsTheSizeFromTheUpstream) {
  open_local();
  const auto digest = put_upstream("named without a size");
  EXPECT_EQ(m_local->find(digest.sha256).value(), digest);
  EXPECT_FALSE(m_local->find(digest_of("nowhere").sha256).value());
}

TEST_F(CasStoreUpstreamTest, FindMissingCountsBlobsTheUpstreamHolds) {
  open_local();
  const auto upstream_only = put_upstream("upstream only");
  const auto nowhere = digest_of("nowhere");
  const std::vector<BlobDigest> asked{upstream_only, nowhere};
  EXPECT_EQ(m_local->find_missing(asked).value(), std::vector<BlobDigest>{nowhere});
  EXPECT_TRUE(m_local->contains(upstream_only).value());
}

TEST_F(CasStoreUpstreamTest, APutIsQueuedAndReadThroughBlobsAreNot) {
  open_local();
  const auto fetched = put_upstream("fetched");
  ASSERT_TRUE(m_local->get(fetched).value());
  EXPECT_EQ(tier().stats().queue.length, 0u);  // never sent back where it came from
  const std::string content = "written here";
  const auto digest = m_local->put(std::as_bytes(std::span(content))).value();
  EXPECT_EQ(tier().stats().queue.length, 1u);
  EXPECT_FALSE(m_server->cas().contains(digest).value());
  EXPECT_EQ(tier().drain_once().value(), 1u);
  EXPECT_TRUE(m_server->cas().contains(digest).value());
}

TEST_F(CasStoreUpstreamTest, EvictionNeverDropsABlobStillQueuedForUpload) {
  open_local("http://127.0.0.1:1", /*max_size=*/1 << 20);  // an upstream that is down
  std::vector<BlobDigest> digests;
  for (int i = 0; i < 4; ++i) {
    const std::string content(100'000, static_cast<char>('a' + i));
    digests.push_back(m_local->put(std::as_bytes(std::span(content))).value());
  }
  const auto report = m_local->evict_now(0).value();
  EXPECT_EQ(report.evicted, 0u);
  EXPECT_EQ(report.skipped_queued, 4u);
  for (const auto& digest : digests) EXPECT_TRUE(m_local->get(digest).value());
}

TEST_F(CasStoreUpstreamTest, AnActionEntryFromUpstreamIsAdoptedWhenItsOutputsAreReachable) {
  open_local();
  const auto output = put_upstream("the output");
  const std::string key(64, 'a');
  ASSERT_TRUE(m_server->action_cache().put(Keyspace::raw, key, action_result_with(output)));
  auto hit = m_cache->get(Keyspace::ac, key).value();
  ASSERT_TRUE(hit);
  EXPECT_EQ(*hit, action_result_with(output));
  EXPECT_EQ(tier().stats().queue.length, 0u);
  EXPECT_EQ(m_local->get(output).value(), "the output");  // the client downloads it
  m_server->stop();
  EXPECT_TRUE(m_cache->get(Keyspace::ac, key).value());  // adopted: a local hit now
}

TEST_F(CasStoreUpstreamTest, AnActionEntryWhoseOutputsNoTierHasIsAMiss) {
  open_local();
  const std::string key(64, 'b');
  ASSERT_TRUE(m_server->action_cache().put(Keyspace::raw, key,
                                           action_result_with(digest_of("never stored"))));
  EXPECT_FALSE(m_cache->get(Keyspace::ac, key).value());
  // Junk under an ac key upstream is a miss too, never stored.
  ASSERT_TRUE(m_server->action_cache().put(Keyspace::raw, std::string(64, 'c'), "\xff\xff junk"));
  EXPECT_FALSE(m_cache->get(Keyspace::ac, std::string(64, 'c')).value());
}

TEST_F(CasStoreUpstreamTest, ActionPutsAreQueuedAfterTheirValueBlob) {
  open_local();
  const std::string content = "an output";
  const auto output = m_local->put(std::as_bytes(std::span(content))).value();
  ASSERT_TRUE(m_cache->put(Keyspace::ac, std::string(64, 'd'), action_result_with(output)));
  EXPECT_EQ(tier().stats().queue.length, 3u);  // output, value blob, ac entry
  while (tier().stats().queue.length > 0) ASSERT_GT(tier().drain_once().value(), 0u);
  EXPECT_TRUE(m_server->cas().contains(output).value());
  EXPECT_EQ(m_server->action_cache().get(Keyspace::raw, std::string(64, 'd')).value(),
            action_result_with(output));
}

// The world of the property below: a local store with a write-behind tier in front of a real
// Forge HTTP cache on 127.0.0.1, each of which can be stopped and started again.
class TierWorld {
 public:
  TierWorld() {
    m_server = std::make_unique<test::ForgeUpstreamServer>(m_dir / "up");
    m_port = m_server->port();
    open_local();
  }
  ~TierWorld() {
    m_local.reset();
    m_server.reset();
  }
  TierWorld(const TierWorld&) = delete;
  TierWorld& operator=(const TierWorld&) = delete;

  void open_local() {
    StoreOptions options;
    options.dir = m_dir / "local";
    options.fsync = false;
    options.max_size = 1 << 30;
    options.background_eviction = false;
    m_local = CasStore::open(options).value();
    UpstreamOptions upstream;
    upstream.url = "http://127.0.0.1:" + std::to_string(m_port);
    upstream.request_timeout = 2s;
    upstream.connect_timeout = 500ms;
    TierOptions tier;
    tier.workers = 0;  // drained by the property's own steps
    tier.retry.max_attempts = 2;
    tier.retry.initial_delay = 1ms;
    tier.retry.max_delay = 2ms;
    tier.max_queue_pause = 1ms;
    tier.breaker.open_for = 1ms;
    tier.queue.dir = m_dir / "queue";
    tier.queue.fsync = false;
    m_local->attach_upstream(UpstreamTier::open(tier, open_upstream(upstream).value()).value());
  }
  void restart_local() {
    m_local.reset();  // closes the store, stops the tier; the queue stays on disk
    open_local();
  }
  void stop_upstream() { m_server.reset(); }
  void start_upstream() {
    if (!m_server) m_server = std::make_unique<test::ForgeUpstreamServer>(m_dir / "up", m_port);
  }
  bool upstream_up() const { return m_server != nullptr; }
  CasStore& local() { return *m_local; }
  test::ForgeUpstreamServer& server() { return *m_server; }

 private:
  test::TempDir m_dir;
  std::unique_ptr<test::ForgeUpstreamServer> m_server;
  std::uint16_t m_port = 0;
  std::shared_ptr<CasStore> m_local;
};

// Feature: platform-native-io-hardening, Property 8: Blob Integrity Round-Trip
// Across tiers: random interleavings of puts, gets, evictions of the local tier, drains of
// the upload queue, the upstream stopped and started again and the local store closed and
// reopened. Every get answers the blob's own bytes or nothing (never other bytes), and at
// the end every acknowledged blob reads back whole from some tier: from the local store,
// or, once the local tier has evicted everything it may, through it from the upstream.
RC_GTEST_PROP(CasStoreUpstreamProperty, Property8_AcknowledgedBlobsSurviveFaultsAndReadBackWhole,
              ()) {
  enum class Step : int { put, get, evict, drain, stop_upstream, start_upstream, restart_local };
  const auto blobs = *rc::gen::container<std::vector<std::string>>(
      *rc::gen::inRange(1, 6), rc::gen::container<std::string>(rc::gen::arbitrary<char>()));
  const auto steps = *rc::gen::container<std::vector<std::pair<Step, int>>>(
      *rc::gen::inRange(1, 25),
      rc::gen::pair(rc::gen::cast<Step>(rc::gen::inRange(0, 7)), rc::gen::inRange(0, 100)));
  TierWorld world;
  std::set<std::size_t> acknowledged;
  auto digest = [&](std::size_t i) {
    return BlobDigest{hash::sha256_of(blobs[i]), blobs[i].size()};
  };
  for (const auto& [step, n] : steps) {
    const std::size_t i = static_cast<std::size_t>(n) % blobs.size();
    switch (step) {
      case Step::put:
        if (world.local().put(std::as_bytes(std::span(blobs[i])))) acknowledged.insert(i);
        break;
      case Step::get: {
        auto got = world.local().get(digest(i));
        RC_ASSERT(got.has_value());
        if (*got) RC_ASSERT(**got == blobs[i]);  // never other bytes
        // A blob the upstream holds is found when the local tier lacks it.
        if (world.upstream_up() && world.server().cas().contains(digest(i)).value()) {
          RC_ASSERT(got->has_value());
        }
        break;
      }
      case Step::evict: RC_ASSERT(world.local().evict_now(0).has_value()); break;
      case Step::drain: (void)world.local().upstream()->drain_once(); break;
      case Step::stop_upstream: world.stop_upstream(); break;
      case Step::start_upstream: world.start_upstream(); break;
      case Step::restart_local: world.restart_local(); break;
    }
  }
  // The upstream back, the queue drained: nothing acknowledged is lost, all of it whole.
  world.start_upstream();
  auto& tier = *world.local().upstream();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (tier.stats().queue.length > 0 && std::chrono::steady_clock::now() < deadline) {
    (void)tier.drain_once();
  }
  RC_ASSERT(tier.stats().queue.length == 0u);
  for (const std::size_t i : acknowledged) {
    RC_ASSERT(world.server().cas().get(digest(i)).value() == std::optional(blobs[i]));
  }
  RC_ASSERT(world.local().evict_now(0).has_value());
  for (const std::size_t i : acknowledged) {
    RC_ASSERT(world.local().get(digest(i)).value() == std::optional(blobs[i]));
  }
}

}  // namespace
}  // namespace forge::cache
