#include "single_flight.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace forge::cache {
namespace {

using namespace std::chrono_literals;

// Waits (polling, no timing assert) until pred holds; false after 30 s.
template <class Pred>
bool eventually(Pred pred) {
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(SingleFlightTest, ConcurrentCallsForOneKeyRunTheWorkOnce) {
  SingleFlight<std::string, std::string> flights;
  constexpr int k_callers = 8;
  std::atomic<int> runs{0};
  std::vector<std::string> results(k_callers);
  std::vector<std::thread> threads;
  for (int i = 0; i < k_callers; ++i) {
    threads.emplace_back([&, i] {
      results[i] = flights.run("key", [&] {
        ++runs;
        // The leader finishes only once every other caller has joined its flight.
        EXPECT_TRUE(eventually([&] { return flights.followers("key") == k_callers - 1; }));
        return std::string("the one answer");
      });
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(flights.joined(), std::uint64_t{k_callers - 1});
  for (const auto& result : results) EXPECT_EQ(result, "the one answer");
  EXPECT_EQ(flights.in_flight(), 0u);
}

TEST(SingleFlightTest, ACallAfterTheFlightEndedRunsAgain) {
  SingleFlight<int, int> flights;
  int runs = 0;
  EXPECT_EQ(flights.run(1, [&] { return ++runs; }), 1);
  EXPECT_EQ(flights.run(1, [&] { return ++runs; }), 2);
  EXPECT_EQ(flights.joined(), 0u);
}

TEST(SingleFlightTest, DifferentKeysDoNotWaitForEachOther) {
  SingleFlight<int, int> flights;
  std::atomic<bool> second_done{false};
  // Key 1's work waits for key 2's whole run: a shared lock or queue would deadlock here.
  std::thread first([&] {
    EXPECT_EQ(flights.run(1,
                          [&] {
                            EXPECT_TRUE(eventually([&] { return second_done.load(); }));
                            return 10;
                          }),
              10);
  });
  ASSERT_TRUE(eventually([&] { return flights.in_flight() == 1; }));
  EXPECT_EQ(flights.run(2, [] { return 20; }), 20);
  second_done = true;
  first.join();
  EXPECT_EQ(flights.joined(), 0u);
}

TEST(SingleFlightTest, AThrowingWorkReachesEveryCallerAndFreesTheKey) {
  SingleFlight<int, int> flights;
  std::atomic<int> thrown{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      try {
        flights.run(7, [&]() -> int {
          EXPECT_TRUE(eventually([&] { return flights.followers(7) == 3; }));
          throw std::runtime_error("upstream gone");
        });
      } catch (const std::runtime_error& error) {
        EXPECT_STREQ(error.what(), "upstream gone");
        ++thrown;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(thrown.load(), 4);
  EXPECT_EQ(flights.in_flight(), 0u);
  EXPECT_EQ(flights.run(7, [] { return 1; }), 1);
}

// Many keys, many rounds: each round's callers of one key all see that round's one run.
TEST(SingleFlightTest, ManyKeysAndRoundsUnderContention) {
  SingleFlight<int, int> flights;
  constexpr int k_keys = 4;
  constexpr int k_threads = 8;
  constexpr int k_rounds = 200;
  std::atomic<int> runs{0};
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < k_threads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < k_rounds; ++r) {
        const int key = (t + r) % k_keys;
        const int got = flights.run(key, [&] {
          ++runs;
          return key * 1000;
        });
        if (got != key * 1000) ++bad;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(bad.load(), 0);
  // Every call either ran the work or joined a run.
  EXPECT_EQ(static_cast<std::uint64_t>(runs.load()) + flights.joined(),
            std::uint64_t{k_threads * k_rounds});
  EXPECT_EQ(flights.in_flight(), 0u);
}

}  // namespace
}  // namespace forge::cache
