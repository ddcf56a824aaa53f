#include "forge/cache/connection_pool.h"

#include <atomic>
#include <deque>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace forge::cache {
namespace {

using namespace std::chrono_literals;

// A connection that counts how many of its kind exist, like a socket would.
struct Connection {
  explicit Connection(std::atomic<int>& open_count) : open(open_count) { ++open; }
  ~Connection() { --open; }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  std::atomic<int>& open;
};

struct Counted {
  std::atomic<int> open{0};
  std::atomic<int> peak{0};
  std::atomic<int> created{0};
  ConnectionPool<Connection>::Factory factory() {
    return [this]() -> Result<std::unique_ptr<Connection>> {
      ++created;
      auto connection = std::make_unique<Connection>(open);
      const int now = open.load();
      int seen = peak.load();
      while (now > seen && !peak.compare_exchange_weak(seen, now)) {
      }
      return connection;
    };
  }
};

TEST(ConnectionPoolTest, ReusesAReturnedConnection) {
  Counted counted;
  ConnectionPool<Connection> pool(2, counted.factory());
  { auto lease = pool.acquire(0ms).value(); }
  { auto lease = pool.acquire(0ms).value(); }
  EXPECT_EQ(counted.created.load(), 1);
  EXPECT_EQ(pool.live(), 1u);
}

TEST(ConnectionPoolTest, AFullPoolTimesOutWithARetryableError) {
  Counted counted;
  ConnectionPool<Connection> pool(1, counted.factory());
  auto held = pool.acquire(0ms).value();
  auto second = pool.acquire(20ms);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().category(), ErrorCategory::timeout);
  EXPECT_TRUE(second.error().is_retryable());
}

TEST(ConnectionPoolTest, AWaiterGetsTheConnectionReturnedMeanwhile) {
  Counted counted;
  ConnectionPool<Connection> pool(1, counted.factory());
  std::optional<ConnectionPool<Connection>::Lease> held(pool.acquire(0ms).value());
  std::thread releaser([&] {
    std::this_thread::sleep_for(20ms);
    held.reset();
  });
  auto waited = pool.acquire(10s);
  releaser.join();
  EXPECT_TRUE(waited);
  EXPECT_EQ(counted.created.load(), 1);
}

TEST(ConnectionPoolTest, ADiscardedConnectionIsDestroyedAndFreesItsSlot) {
  Counted counted;
  ConnectionPool<Connection> pool(1, counted.factory());
  {
    auto lease = pool.acquire(0ms).value();
    lease.discard();
  }
  EXPECT_EQ(counted.open.load(), 0);
  EXPECT_EQ(pool.live(), 0u);
  EXPECT_TRUE(pool.acquire(0ms));
  EXPECT_EQ(counted.created.load(), 2);
}

TEST(ConnectionPoolTest, AFailingFactoryFreesItsSlot) {
  int calls = 0;
  ConnectionPool<int> pool(1, [&]() -> Result<std::unique_ptr<int>> {
    if (++calls == 1) return fail(Error(ErrorCategory::network, "refused"));
    return std::make_unique<int>(7);
  });
  auto first = pool.acquire(0ms);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().category(), ErrorCategory::network);
  auto second = pool.acquire(0ms);
  ASSERT_TRUE(second);
  EXPECT_EQ(**second, 7);
}

// Feature: platform-native-io-hardening, Property 26: for any configured pool size N, the
// pool maintains at most N active connections at any time.
RC_GTEST_PROP(ConnectionPoolProperty, Property26_AnySequenceOfLeasesKeepsAtMostNConnections, ()) {
  const auto size = *rc::gen::inRange<std::size_t>(1, 6);
  // Each step: 0 = acquire, 1 = release the oldest lease, 2 = discard the newest.
  const auto steps = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 3));
  Counted counted;
  ConnectionPool<Connection> pool(size, counted.factory());
  std::deque<ConnectionPool<Connection>::Lease> leases;
  for (int step : steps) {
    if (step == 0) {
      auto lease = pool.acquire(0ms);
      // The model: a lease is granted exactly when fewer than N are out.
      RC_ASSERT(lease.has_value() == (leases.size() < size));
      if (lease) leases.push_back(std::move(*lease));
    } else if (!leases.empty() && step == 1) {
      leases.pop_front();
    } else if (!leases.empty()) {
      leases.back().discard();
      leases.pop_back();
    }
    RC_ASSERT(counted.open.load() <= static_cast<int>(size));
    RC_ASSERT(pool.live() <= size);
    RC_ASSERT(pool.live() == static_cast<std::size_t>(counted.open.load()));
  }
  RC_ASSERT(counted.peak.load() <= static_cast<int>(size));
}

// Feature: platform-native-io-hardening, Property 26: for any configured pool size N, the
// pool maintains at most N active connections at any time — under concurrent use.
RC_GTEST_PROP(ConnectionPoolProperty, Property26_ConcurrentLeasesNeverExceedN, ()) {
  const auto size = *rc::gen::inRange<std::size_t>(1, 5);
  const auto threads = *rc::gen::inRange(2, 7);
  const auto rounds = *rc::gen::inRange(1, 40);
  Counted counted;
  ConnectionPool<Connection> pool(size, counted.factory());
  std::atomic<int> leased{0};
  std::atomic<int> peak_leased{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int r = 0; r < rounds; ++r) {
        auto lease = pool.acquire(5s);
        if (!lease) continue;
        const int now = ++leased;
        int seen = peak_leased.load();
        while (now > seen && !peak_leased.compare_exchange_weak(seen, now)) {
        }
        if ((t + r) % 3 == 0) std::this_thread::yield();
        --leased;
        if ((t + r) % 5 == 0) lease->discard();
      }
    });
  }
  for (auto& worker : workers) worker.join();
  RC_ASSERT(counted.peak.load() <= static_cast<int>(size));
  RC_ASSERT(peak_leased.load() <= static_cast<int>(size));
  RC_ASSERT(pool.peak_live() <= size);
}

}  // namespace
}  // namespace forge::cache
