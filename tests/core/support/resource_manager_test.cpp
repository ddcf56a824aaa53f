#include "forge/core/support/resource_manager.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace forge::support {
namespace {

using namespace std::chrono_literals;

TEST(ResourceManagerTest, TryAcquireFailsAtTheLimitAndSucceedsAfterRelease) {
  ResourceManager manager(2);
  auto a = manager.try_acquire();
  auto b = manager.try_acquire();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(manager.try_acquire());
  EXPECT_EQ(manager.active(), 2u);
  a->release();
  EXPECT_EQ(manager.active(), 1u);
  EXPECT_TRUE(manager.try_acquire());
}

TEST(ResourceManagerTest, AcquireForTimesOutWithATimeoutError) {
  ResourceManager manager(1);
  auto held = manager.acquire();
  ASSERT_TRUE(held);
  const auto second = manager.acquire_for(20ms);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().category(), ErrorCategory::timeout);
}

TEST(ResourceManagerTest, MovedGuardReleasesOnce) {
  ResourceManager manager(1);
  {
    auto guard = manager.acquire();
    ASSERT_TRUE(guard);
    HandleGuard moved = std::move(*guard);
    EXPECT_TRUE(moved.holds());
    EXPECT_EQ(manager.active(), 1u);
  }
  EXPECT_EQ(manager.active(), 0u);
}

TEST(ResourceManagerTest, ShutdownReportsHandlesStillHeldAndRefusesNewAcquires) {
  ResourceManager manager(4);
  auto held = manager.acquire();
  ASSERT_TRUE(held);
  const auto result = manager.shutdown(10ms);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category(), ErrorCategory::timeout);
  EXPECT_FALSE(manager.try_acquire());
  EXPECT_FALSE(manager.acquire());
  held->release();
  EXPECT_TRUE(manager.shutdown(10ms));
}

TEST(ResourceManagerTest, ShutdownWaitsForAReleaseOnAnotherThread) {
  ResourceManager manager(1);
  auto held = manager.acquire();
  ASSERT_TRUE(held);
  std::thread releaser([&] {
    std::this_thread::sleep_for(20ms);
    held->release();
  });
  EXPECT_TRUE(manager.shutdown(5s));
  releaser.join();
}

// Feature: platform-native-io-hardening, Property 12: For any sequence of file operations,
// the number of concurrently held file handles SHALL never exceed the configured maximum.
RC_GTEST_PROP(ResourceManagerProperty, Property12_HeldHandlesNeverExceedTheLimit, ()) {
  const auto limit = *rc::gen::inRange<std::size_t>(1, 8);
  const auto threads = *rc::gen::inRange(2, 6);
  const auto per_thread = *rc::gen::inRange(1, 30);
  ResourceManager manager(limit);
  std::atomic<std::size_t> concurrent{0};
  std::atomic<std::size_t> observed_max{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < per_thread; ++i) {
        auto guard = manager.acquire();
        if (!guard) return;
        const auto now = concurrent.fetch_add(1) + 1;
        auto seen = observed_max.load();
        while (now > seen && !observed_max.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::yield();
        concurrent.fetch_sub(1);
      }
    });
  }
  for (auto& worker : workers) worker.join();
  RC_ASSERT(observed_max.load() <= limit);
  RC_ASSERT(manager.high_water_mark() <= limit);
  RC_ASSERT(manager.active() == 0u);
}

// Feature: platform-native-io-hardening, Property 13: For any operation requested when the
// file handle limit is reached, the operation SHALL be queued and SHALL complete
// successfully once a handle becomes available.
RC_GTEST_PROP(ResourceManagerProperty, Property13_AcquireAtTheLimitQueuesThenCompletes, ()) {
  const auto limit = *rc::gen::inRange<std::size_t>(1, 6);
  const auto waiters = *rc::gen::inRange<std::size_t>(1, 6);
  ResourceManager manager(limit);
  std::vector<HandleGuard> held;
  for (std::size_t i = 0; i < limit; ++i) held.push_back(std::move(*manager.acquire()));
  std::atomic<std::size_t> completed{0};
  std::vector<std::thread> queued;
  for (std::size_t i = 0; i < waiters; ++i) {
    queued.emplace_back([&] {
      auto guard = manager.acquire();
      if (guard) completed.fetch_add(1);
    });
  }
  std::this_thread::sleep_for(2ms);
  RC_ASSERT(completed.load() == 0u);  // all queued while the limit is held
  held.clear();                       // release every handle
  for (auto& thread : queued) thread.join();
  RC_ASSERT(completed.load() == waiters);
  RC_ASSERT(manager.active() == 0u);
}

}  // namespace
}  // namespace forge::support
