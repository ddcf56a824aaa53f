#include "forge/cache/upstream_tier.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "canned_http_server.h"
#include "forge/cache/cas_store.h"
#include "upstream_test_support.h"

namespace forge::cache {
namespace {

using namespace std::chrono_literals;

class UpstreamTierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions options;
    options.dir = m_dir / "local";
    options.fsync = false;
    m_local = CasStore::open(options).value();
  }
  void TearDown() override {
    if (m_tier) m_tier->stop();
  }

  // A tier over the local store with fast retries, no background workers unless asked.
  std::shared_ptr<UpstreamTier> tier(const std::string& url, unsigned workers = 0,
                                     UpstreamWrite write = UpstreamWrite::behind,
                                     std::uint64_t max_entries = 1000) {
    UpstreamOptions upstream_options;
    upstream_options.url = url;
    upstream_options.connections = 4;
    upstream_options.request_timeout = m_request_timeout;
    TierOptions options;
    options.write = write;
    options.workers = workers;
    options.retry.initial_delay = 5ms;
    options.retry.max_delay = 20ms;
    options.max_queue_pause = 50ms;
    options.breaker.open_for = m_open_for;
    options.queue.dir = m_dir / "queue";
    options.queue.fsync = false;
    options.queue.max_entries = max_entries;
    auto opened = UpstreamTier::open(options, open_upstream(upstream_options).value());
    EXPECT_TRUE(opened) << opened.error().to_string();
    m_tier = *opened;
    m_tier->bind(*m_local);
    return m_tier;
  }

  BlobDigest put_local(const std::string& content) {
    return m_local->put(std::as_bytes(std::span(content)), digest_of(content)).value();
  }

  // Drains until the queue is empty or 30 s pass (generous: CI is a loaded 2-core machine).
  bool drain_all() {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      (void)m_tier->drain_once();
      if (m_tier->stats().queue.length == 0) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  test::TempDir m_dir;
  std::shared_ptr<CasStore> m_local;
  std::shared_ptr<UpstreamTier> m_tier;
  std::chrono::milliseconds m_request_timeout = 2s;  // for the next tier()
  std::chrono::milliseconds m_open_for = 50ms;       // the breaker's, for the next tier()
};

TEST_F(UpstreamTierTest, ReadThroughStoresAVerifiedBlobLocally) {
  test::ForgeUpstreamServer server(m_dir / "upstream");
  const std::string blob(100'000, 'r');
  const auto digest = server.cas().put(std::as_bytes(std::span(blob))).value();
  auto t = tier(server.url());
  EXPECT_FALSE(m_local->contains(digest).value());
  EXPECT_TRUE(t->fetch_blob(digest.sha256, digest.size).value());
  EXPECT_EQ(m_local->get(digest).value(), blob);
  EXPECT_EQ(t->stats().fetch_hits, 1u);
  EXPECT_FALSE(t->fetch_blob(digest_of("absent").sha256).value());
  EXPECT_EQ(t->stats().fetch_misses, 1u);
}

TEST_F(UpstreamTierTest, ACorruptAnswerIsRetriedCountedAndNeverStored) {
  const auto digest = digest_of("the real content");
  test::CannedHttpServer canned([](const std::string&) -> std::optional<std::string> {
    return test::canned_response(200, "the evil content");  // same length, other bytes
  });
  auto t = tier(canned.url());
  EXPECT_FALSE(t->fetch_blob(digest.sha256, digest.size).value());
  EXPECT_EQ(t->stats().corrupt, 3u);  // every attempt
  EXPECT_EQ(canned.requests(), 3);
  EXPECT_FALSE(t->fetch_blob(digest.sha256).value());  // size unknown: the hash still decides
  // Two more corrupt answers make five faults in a row: the breaker takes the upstream out.
  EXPECT_EQ(t->stats().corrupt, 5u);
  EXPECT_EQ(t->stats().breaker, BreakerState::open);
  EXPECT_EQ(t->stats().fetch_errors, 2u);
  EXPECT_FALSE(m_local->contains(digest).value());
  EXPECT_EQ(m_local->stats().value().entries, 0u);
}

TEST_F(UpstreamTierTest, ServerErrorsAreRetriedThenAMiss) {
  test::CannedHttpServer canned([](const std::string&) -> std::optional<std::string> {
    return test::canned_response(503, "busy");
  });
  auto t = tier(canned.url());
  EXPECT_FALSE(t->fetch_blob(digest_of("x").sha256).value());
  EXPECT_EQ(canned.requests(), 3);
}

TEST_F(UpstreamTierTest, ConcurrentMissesOfOneDigestMakeOneRequest) {
  const std::string blob = "wanted by many";
  const auto digest = digest_of(blob);
  constexpr int k_callers = 8;
  // The upstream answers only once every other caller has joined the first one's flight
  // (a sleep here flaked: on a loaded machine a caller could start after the answer).
  std::atomic<UpstreamTier*> joined{nullptr};
  test::CannedHttpServer canned([&](const std::string&) -> std::optional<std::string> {
    const auto give_up = std::chrono::steady_clock::now() + 30s;
    while (joined.load()->stats().shared_fetches < std::uint64_t{k_callers - 1} &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(1ms);
    }
    return test::canned_response(200, blob);
  });
  m_request_timeout = 60s;  // the request waits for the callers above
  auto t = tier(canned.url());
  joined = t.get();
  std::vector<std::thread> threads;
  std::atomic<int> hits{0};
  for (int i = 0; i < k_callers; ++i) {
    threads.emplace_back([&] {
      if (t->fetch_blob(digest.sha256, digest.size).value_or(false)) ++hits;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(hits.load(), k_callers);
  EXPECT_EQ(canned.requests(), 1);
  EXPECT_EQ(t->stats().shared_fetches, static_cast<std::uint64_t>(k_callers - 1));
  EXPECT_EQ(m_local->get(digest).value(), blob);
}

// Regression: each concurrent action-cache miss made its own upstream GET.
TEST_F(UpstreamTierTest, ConcurrentActionMissesOfOneKeyMakeOneRequest) {
  constexpr int k_callers = 8;
  std::atomic<UpstreamTier*> joined{nullptr};
  test::CannedHttpServer canned([&](const std::string& head) -> std::optional<std::string> {
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (joined.load()->stats().shared_fetches < std::uint64_t{k_callers - 1} &&
           std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(1ms);
    }
    return head.starts_with("GET /ac/wanted ") ? test::canned_response(200, "an action result")
                                               : test::canned_response(404, "");
  });
  m_request_timeout = 60s;
  auto t = tier(canned.url());
  joined = t.get();
  std::vector<std::thread> threads;
  std::atomic<int> hits{0};
  for (int i = 0; i < k_callers; ++i) {
    threads.emplace_back([&] {
      if (t->fetch_action(UpstreamSpace::ac, "wanted").value() == "an action result") ++hits;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(hits.load(), k_callers);
  EXPECT_EQ(canned.requests(), 1);
  EXPECT_EQ(t->stats().shared_fetches, static_cast<std::uint64_t>(k_callers - 1));
  // Another key, or the same one later, is a new request.
  EXPECT_EQ(t->fetch_action(UpstreamSpace::raw, "wanted").value(), std::nullopt);
  EXPECT_EQ(t->fetch_action(UpstreamSpace::ac, "wanted").value(), "an action result");
  EXPECT_EQ(canned.requests(), 3);
}

// find_missing's upstream check: parallel HEADs, several in flight at once.
TEST_F(UpstreamTierTest, PresenceOfManyDigestsIsAskedInParallel) {
  std::atomic<int> in_flight{0}, most{0};
  test::CannedHttpServer canned([&](const std::string& head) -> std::optional<std::string> {
    const int now = ++in_flight;
    for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
    }
    // Held until a second request arrives (or 2 s pass): serial HEADs never overlap.
    const auto give_up = std::chrono::steady_clock::now() + 2s;
    while (most.load() < 2 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(1ms);
    }
    --in_flight;
    const bool known = head.find(digest_of("present 0").sha256.hex()) != std::string::npos;
    return test::canned_response(known ? 200 : 404, "");
  });
  auto t = tier(canned.url());
  std::vector<BlobDigest> digests;
  for (int i = 0; i < 6; ++i) digests.push_back(digest_of("present " + std::to_string(i)));
  const auto present = t->present_upstream(digests);
  EXPECT_EQ(canned.requests(), 6);
  EXPECT_GE(most.load(), 2);
  EXPECT_EQ(present, (std::vector<bool>{true, false, false, false, false, false}));
}

TEST_F(UpstreamTierTest, TheBreakerTakesAFailingUpstreamOutAndProbesItBack) {
  std::atomic<bool> healthy{false};
  test::CannedHttpServer canned([&](const std::string&) -> std::optional<std::string> {
    return healthy ? test::canned_response(404, "") : test::canned_response(500, "down");
  });
  // Long enough that the breaker is still open at the next calls on a loaded machine (at
  // 50 ms it could already be half-open there, and the "local" answer became a probe).
  m_open_for = 1s;
  auto t = tier(canned.url());
  const auto digest = digest_of("x");
  (void)t->fetch_blob(digest.sha256);  // 3 faults
  (void)t->fetch_blob(digest.sha256);  // 2 more: open
  EXPECT_EQ(t->stats().breaker, BreakerState::open);
  const int before = canned.requests();
  EXPECT_FALSE(t->fetch_blob(digest.sha256).value());
  EXPECT_EQ(canned.requests(), before);  // answered locally, the upstream was not asked
  healthy = true;
  std::this_thread::sleep_for(m_open_for);             // at least open_for since it opened
  EXPECT_FALSE(t->fetch_blob(digest.sha256).value());  // the probe: a 404 answer
  EXPECT_EQ(t->stats().breaker, BreakerState::closed);
}

TEST_F(UpstreamTierTest, WriteBehindQueuesThenUploads) {
  test::ForgeUpstreamServer server(m_dir / "upstream");
  auto t = tier(server.url());
  const auto digest = put_local("queued for upload");
  ASSERT_TRUE(t->stored(UpstreamSpace::cas, digest.sha256.hex(), digest));
  EXPECT_EQ(t->stats().queue.length, 1u);
  EXPECT_TRUE(t->needs_blob(digest.sha256));
  EXPECT_FALSE(server.cas().contains(digest).value());
  EXPECT_EQ(t->drain_once().value(), 1u);
  EXPECT_TRUE(server.cas().contains(digest).value());
  EXPECT_EQ(t->stats().queue.length, 0u);
  EXPECT_FALSE(t->needs_blob(digest.sha256));
}

TEST_F(UpstreamTierTest, AnActionResultWaitsForTheOutputsQueuedBeforeIt) {
  std::vector<std::string> order;
  std::mutex mutex;
  test::CannedHttpServer canned([&](const std::string& head) -> std::optional<std::string> {
    std::lock_guard lock(mutex);
    order.push_back(head.substr(0, head.find(' ', 4)));
    return test::canned_response(200, "");
  });
  auto t = tier(canned.url());
  const auto output = put_local("an output");
  const auto value = put_local("an action result");
  ASSERT_TRUE(t->stored(UpstreamSpace::cas, output.sha256.hex(), output));
  ASSERT_TRUE(t->stored(UpstreamSpace::ac, "key", value));
  EXPECT_TRUE(drain_all());
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0], "PUT /cas/" + output.sha256.hex());
  EXPECT_EQ(order[1], "PUT /ac/key");
}

// Regression: raw entries went up as ac/<key>, which Forge's /ac/ route refuses (400).
TEST_F(UpstreamTierTest, ARawEntryTravelsInTheRawSpaceOfAForgeUpstream) {
  test::ForgeUpstreamServer server(m_dir / "upstream");
  auto t = tier(server.url(), 0, UpstreamWrite::through);
  const std::string key = "r." + digest_of("/ccache/ab/cdef").sha256.hex();
  const auto value = put_local("a ccache entry");
  auto stored = t->stored(UpstreamSpace::raw, key, value);
  ASSERT_TRUE(stored) << stored.error().to_string();
  EXPECT_EQ(t->fetch_action(UpstreamSpace::raw, key).value(), "a ccache entry");
  EXPECT_EQ(t->fetch_action(UpstreamSpace::ac, key).value(), std::nullopt);
  EXPECT_EQ(t->fetch_action(UpstreamSpace::raw, "r.absent").value(), std::nullopt);
  EXPECT_EQ(t->stats().upload_errors, 0u);
}

TEST_F(UpstreamTierTest, RawEntriesAreQueuedAndUploadedUnderRaw) {
  std::vector<std::string> order;
  std::mutex mutex;
  test::CannedHttpServer canned([&](const std::string& head) -> std::optional<std::string> {
    std::lock_guard lock(mutex);
    order.push_back(head.substr(0, head.find(' ', 4)));
    return test::canned_response(200, "");
  });
  auto t = tier(canned.url());
  const auto value = put_local("a gradle entry");
  ASSERT_TRUE(t->stored(UpstreamSpace::raw, "r.key", value));
  EXPECT_TRUE(t->needs_blob(value.sha256));
  EXPECT_TRUE(drain_all());
  ASSERT_EQ(order.size(), 1u);
  EXPECT_EQ(order[0], "PUT /raw/r.key");
}

TEST_F(UpstreamTierTest, AnOutageKeepsTheQueueAndItDrainsWhenTheUpstreamReturns) {
  auto server = std::make_unique<test::ForgeUpstreamServer>(m_dir / "upstream");
  const auto port = server->port();
  const std::string url = server->url();
  server.reset();  // the upstream goes away
  auto t = tier(url);
  std::vector<BlobDigest> digests;
  for (int i = 0; i < 5; ++i) {
    digests.push_back(put_local("blob " + std::to_string(i)));
    ASSERT_TRUE(t->stored(UpstreamSpace::cas, digests.back().sha256.hex(), digests.back()));
  }
  EXPECT_EQ(t->drain_once().value(), 0u);
  EXPECT_EQ(t->stats().queue.length, 5u);
  EXPECT_GE(t->stats().upload_errors, 1u);
  server = std::make_unique<test::ForgeUpstreamServer>(m_dir / "upstream", port);
  ASSERT_EQ(server->port(), port);
  EXPECT_TRUE(drain_all());
  for (const auto& digest : digests) EXPECT_TRUE(server->cas().contains(digest).value());
}

TEST_F(UpstreamTierTest, TheQueueSurvivesARestartAndWorkersDrainIt) {
  test::ForgeUpstreamServer server(m_dir / "upstream");
  const auto digest = put_local("acknowledged before the crash");
  {
    auto t = tier("http://127.0.0.1:1");  // nothing listens there
    ASSERT_TRUE(t->stored(UpstreamSpace::cas, digest.sha256.hex(), digest));
    t->stop();
    m_tier.reset();
  }
  auto t = tier(server.url(), /*workers=*/2);
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (t->stats().queue.length > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(t->stats().queue.length, 0u);
  EXPECT_TRUE(server.cas().contains(digest).value());
}

TEST_F(UpstreamTierTest, WriteThroughUploadsBeforeReturningAndFailsWhenItCannot) {
  test::ForgeUpstreamServer server(m_dir / "upstream");
  auto t = tier(server.url(), 0, UpstreamWrite::through);
  const auto digest = put_local("synchronous");
  ASSERT_TRUE(t->stored(UpstreamSpace::cas, digest.sha256.hex(), digest));
  EXPECT_TRUE(server.cas().contains(digest).value());
  EXPECT_EQ(t->stats().queue.length, 0u);
  server.stop();
  const auto other = put_local("no upstream");
  auto failed = t->stored(UpstreamSpace::cas, other.sha256.hex(), other);
  ASSERT_FALSE(failed);
  EXPECT_TRUE(failed.error().is_retryable());
}

TEST_F(UpstreamTierTest, AFullQueueUploadsSynchronouslyOrFailsTheWrite) {
  test::ForgeUpstreamServer server(m_dir / "upstream");
  auto t = tier(server.url(), 0, UpstreamWrite::behind, /*max_entries=*/1);
  const auto first = put_local("first");
  const auto second = put_local("second");
  ASSERT_TRUE(t->stored(UpstreamSpace::cas, first.sha256.hex(), first));
  ASSERT_TRUE(t->stored(UpstreamSpace::cas, second.sha256.hex(), second));
  EXPECT_EQ(t->stats().queue.length, 1u);
  EXPECT_TRUE(server.cas().contains(second).value());  // went straight up
  server.stop();
  const auto third = put_local("third");
  auto refused = t->stored(UpstreamSpace::cas, third.sha256.hex(), third);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), ErrorCategory::network);
}

TEST_F(UpstreamTierTest, PresenceUpstreamIsAskedOnceWithinTheNegativeCacheTtl) {
  test::ForgeUpstreamServer server(m_dir / "upstream");
  const std::string there_text = "there", absent_text = "absent";
  const auto there = server.cas().put(std::as_bytes(std::span(there_text))).value();
  const auto absent = digest_of("absent");
  auto t = tier(server.url());
  const std::vector<BlobDigest> digests{there, absent};
  EXPECT_EQ(t->present_upstream(digests), (std::vector<bool>{true, false}));
  // Uploaded elsewhere meanwhile: still "absent" until the TTL passes.
  ASSERT_TRUE(server.cas().put(std::as_bytes(std::span(absent_text))));
  EXPECT_EQ(t->present_upstream(digests), (std::vector<bool>{true, false}));
}

}  // namespace
}  // namespace forge::cache
