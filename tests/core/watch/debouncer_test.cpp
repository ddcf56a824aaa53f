// Debouncer: the platform-neutral half of both watchers, driven directly (no file system),
// so it runs in the Linux and the Windows builds alike.
#include "forge/core/watch/debouncer.h"

#include <gtest/gtest.h>

namespace forge::watch {
namespace {

using namespace std::chrono_literals;

std::optional<WatchEvent> only(const std::vector<WatchEvent>& events) {
  if (events.size() != 1) return std::nullopt;
  return events[0];
}

TEST(DebouncerTest, KindsMergeAsTheWatcherContractSays) {
  struct Case {
    EventKind first, second;
    std::optional<EventKind> merged;
  };
  const Case cases[] = {
      {EventKind::created, EventKind::modified, EventKind::created},
      {EventKind::created, EventKind::removed, std::nullopt},
      {EventKind::removed, EventKind::created, EventKind::modified},
      {EventKind::modified, EventKind::removed, EventKind::removed},
      {EventKind::renamed, EventKind::modified, EventKind::renamed},
      {EventKind::modified, EventKind::modified, EventKind::modified},
  };
  for (const auto& c : cases) {
    Debouncer events(1h);
    events.note("f", c.first, false);
    events.note("f", c.second, false);
    const auto all = events.take_all();
    if (!c.merged) {
      EXPECT_TRUE(all.empty()) << to_string(c.first) << " then " << to_string(c.second);
    } else {
      ASSERT_EQ(all.size(), 1u);
      EXPECT_EQ(all[0].kind, *c.merged) << to_string(c.first) << " then " << to_string(c.second);
    }
  }
}

TEST(DebouncerTest, APathIsDueOnlyOnceItsWindowHasPassed) {
  Debouncer events(50ms);
  events.note("f", EventKind::modified, false);
  auto next_due = Debouncer::Clock::time_point::max();
  EXPECT_TRUE(events.take_due(Debouncer::Clock::now(), next_due).empty());
  EXPECT_NE(next_due, Debouncer::Clock::time_point::max());
  const auto ready = only(events.take_due(next_due, next_due));
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->path, "f");
  EXPECT_FALSE(events.has_events());
}

TEST(DebouncerTest, TwoHalvesOfARenameAreOneEventAndAHalfAloneIsARemoval) {
  Debouncer events(1h);
  events.note("a", EventKind::modified, false);
  events.moved_from(7, "a", false);
  EXPECT_EQ(events.moved_to(7, "b", false), std::optional<std::string>("a"));
  auto renamed = only(events.take_all());
  ASSERT_TRUE(renamed);  // the pending change of "a" went with it
  EXPECT_EQ(renamed->kind, EventKind::renamed);
  EXPECT_EQ(renamed->path, "b");
  EXPECT_EQ(renamed->from, "a");

  EXPECT_EQ(events.moved_to(8, "c", false), std::nullopt);  // moved in: the caller reports it
  Debouncer quick(0ms);
  quick.moved_from(9, "gone", true);
  quick.expire_moves(Debouncer::Clock::now());
  const auto removed = only(quick.take_all());
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->kind, EventKind::removed);
  EXPECT_TRUE(removed->is_directory);
}

TEST(DebouncerTest, ImmediateEventsSkipTheWindow) {
  Debouncer events(1h);
  events.note("slow", EventKind::modified, false);
  events.immediate(WatchEvent{EventKind::rescan_required, "", "", "overflow", false});
  auto next_due = Debouncer::Clock::time_point::max();
  const auto ready = only(events.take_due(Debouncer::Clock::now(), next_due));
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->kind, EventKind::rescan_required);
  EXPECT_TRUE(events.has_events());  // "slow" still waits
}

TEST(DebouncerTest, SkippedNamesAndRelativeJoins) {
  EXPECT_TRUE(skipped_name(".git"));
  EXPECT_TRUE(skipped_name(".forge"));
  EXPECT_FALSE(skipped_name(".gitignore"));
  EXPECT_EQ(join_relative("", "a"), "a");
  EXPECT_EQ(join_relative("a/b", "c"), "a/b/c");
}

}  // namespace
}  // namespace forge::watch
