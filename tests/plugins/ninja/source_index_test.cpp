// The clean stamp asks the scan index what changed since its cursor (source_index.h, issue
// 11): with a live keeper (a real `forge watch --update-index` process) a no-op settle
// stats no source path and a settle after touching N sources stats exactly those; without
// one, or with a cursor the index no longer knows, it stats every source path, flagged.
#include "forge/ninja/source_index.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <thread>

#include <gtest/gtest.h>

#include "forge/core/io/backend_selector.h"
#include "forge/core/scan/file_index.h"
#include "forge/core/watch/index_sync.h"
#include "forge/ninja/clean_stamp.h"
#include "forge/ninja/settle.h"
#include "forge/test/process.h"
#include "tiny_project.h"

namespace forge::ninja {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t k_sources = 3;  // a.txt, b.txt, hdr.h

class SourceIndexTest : public test::TinyNinjaProject {
 protected:
  void SetUp() override {
    TinyNinjaProject::SetUp();
    ::setenv("XDG_CACHE_HOME", m_cache.path().c_str(), 1);
    m_root = std::filesystem::canonical(m_dir.path());
    m_io = io::create_platform_io(support::IoConfig{}).value();
  }
  void TearDown() override {
    stop_keeper();
    ::unsetenv("XDG_CACHE_HOME");
  }

  // A real keeper of the build dir's index; returns once it has claimed the index.
  void start_keeper() {
    m_keeper = std::make_unique<test::BackgroundProcess>(
        std::vector<std::string>{test::forge_binary().string(), "watch", m_root.string(),
                                 "--update-index"},
        m_cache / "watch.log");
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (claimed()) return;
      std::this_thread::sleep_for(20ms);
    }
    FAIL() << "forge watch --update-index did not claim the index: "
           << m_cache.read_file("watch.log");
  }
  void stop_keeper() {
    if (m_keeper) m_keeper->stop(SIGTERM, 10s);
    m_keeper.reset();
  }
  bool claimed() {
    auto index = scan::FileIndex::open(scan::default_index_dir(m_root));
    if (!index) return false;
    auto pid = index->meta_value(watch::k_watcher_pid_key);
    return pid && pid->has_value() && **pid == std::to_string(m_keeper->pid());
  }

  void record_build() {
    RecordOptions options;
    options.dir = m_dir.path();
    options.racy_margin_ns = 0;  // the build just wrote build.ninja: stamp it anyway
    ASSERT_TRUE(record(*m_io, options));
  }
  SettleReport run_settle() {
    SettleOptions options;
    options.dir = m_dir.path();
    options.racy_margin_ns = 0;
    auto report = settle(*m_io, options);
    EXPECT_TRUE(report) << report.error().to_string();
    return report ? *report : SettleReport{};
  }
  void touch(const std::string& relative) {
    struct timespec times[2];
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_nsec = UTIME_NOW;
    ASSERT_EQ(::utimensat(AT_FDCWD, (m_dir / relative).c_str(), times, 0), 0);
  }

  test::TempDir m_cache;
  std::filesystem::path m_root;
  std::unique_ptr<io::PlatformIO> m_io;
  std::unique_ptr<test::BackgroundProcess> m_keeper;
};

TEST_F(SourceIndexTest, ANoOpSettleWithALiveKeeperStatsNoSourcePath) {
  start_keeper();
  record_build();
  const SettleReport report = run_settle();
  EXPECT_TRUE(report.from_stamp);
  EXPECT_TRUE(report.stamp_via_index) << report.stamp_fallback;
  EXPECT_EQ(report.stamp_sources, k_sources);
  EXPECT_EQ(report.stamp_sources_stated, 0u);
}

TEST_F(SourceIndexTest, AfterTouchingTwoSourcesSettleStatsOnlyThoseAndNinjaHasNothingToDo) {
  start_keeper();
  record_build();
  std::this_thread::sleep_for(20ms);  // a new mtime tick
  touch("a.txt");
  touch("hdr.h");
  const SettleReport touched = run_settle();
  EXPECT_FALSE(touched.from_stamp);
  EXPECT_TRUE(touched.stamp_via_index) << touched.stamp_fallback;
  EXPECT_EQ(touched.stamp_sources_stated, 2u);
  EXPECT_EQ(touched.dirty, 0u);
  EXPECT_GT(touched.settled, 0u);
  const auto dry = ninja("-n");
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("no work to do"), std::string::npos) << dry.out;
  // The next settle finds every edge clean and stamps at a cursor after the touches; the
  // one after it has nothing left to stat.
  const SettleReport clean = run_settle();
  EXPECT_EQ(clean.settled + clean.dirty, 0u);
  const SettleReport again = run_settle();
  EXPECT_TRUE(again.from_stamp);
  EXPECT_TRUE(again.stamp_via_index) << again.stamp_fallback;
  EXPECT_EQ(again.stamp_sources_stated, 0u);
}

TEST_F(SourceIndexTest, AnEditSeenThroughTheIndexIsRebuilt) {
  start_keeper();
  record_build();
  m_dir.write_file("b.txt", "b edited\n");
  const SettleReport report = run_settle();
  EXPECT_FALSE(report.from_stamp);
  EXPECT_TRUE(report.stamp_via_index) << report.stamp_fallback;
  EXPECT_EQ(report.stamp_sources_stated, 1u);
  EXPECT_EQ(ninja_would_run(), (std::set<std::string>{"b.out", "all.out"}));
}

TEST_F(SourceIndexTest, WithoutAKeeperOrWithAFreshInstanceEverySourceIsStatted) {
  start_keeper();
  record_build();
  stop_keeper();
  const SettleReport without = run_settle();
  EXPECT_TRUE(without.from_stamp);
  EXPECT_FALSE(without.stamp_via_index);
  EXPECT_NE(without.stamp_fallback.find("no live index keeper"), std::string::npos)
      << without.stamp_fallback;
  EXPECT_EQ(without.stamp_sources_stated, k_sources);

  // The index is rebuilt under a new instance: the stamp's cursor means nothing there.
  std::filesystem::remove_all(scan::default_index_dir(m_root));
  start_keeper();
  const SettleReport fresh = run_settle();
  EXPECT_TRUE(fresh.from_stamp);
  EXPECT_FALSE(fresh.stamp_via_index);
  EXPECT_NE(fresh.stamp_fallback.find("fresh instance"), std::string::npos) << fresh.stamp_fallback;
  EXPECT_EQ(fresh.stamp_sources_stated, k_sources);
}

// A build dir outside the indexed tree (CMake's out-of-tree build): --index-root names the
// tree whose index covers the sources; without it every source is stat'ed.
TEST_F(SourceIndexTest, ABuildDirOutsideTheIndexedTreeUsesTheIndexRoot) {
  test::TempDir build;
  const std::string src = m_root.string();
  build.write_file("build.ninja",
                   "rule cp\n  command = cat $in > $out\n"
                   "build a.out: cp " +
                       src + "/a.txt " + src +
                       "/hdr.h\n"
                       "build b.out: cp " +
                       src + "/b.txt\n");
  const auto built = test::run_shell("ninja -C " + test::shell_quote(build.path().string()));
  ASSERT_EQ(built.exit_code, 0) << built.err;
  start_keeper();
  RecordOptions recording;
  recording.dir = build.path();
  recording.racy_margin_ns = 0;
  recording.index_root = m_root;
  ASSERT_TRUE(record(*m_io, recording));
  SettleOptions options;
  options.dir = build.path();
  options.racy_margin_ns = 0;
  options.index_root = m_root;
  auto noop = settle(*m_io, options);
  ASSERT_TRUE(noop) << noop.error().to_string();
  EXPECT_TRUE(noop->from_stamp);
  EXPECT_TRUE(noop->stamp_via_index) << noop->stamp_fallback;
  EXPECT_EQ(noop->stamp_sources, k_sources);
  EXPECT_EQ(noop->stamp_sources_stated, 0u);

  // The CLI passes --index-root to settle and record alike.
  const std::string forge = test::shell_quote(test::forge_binary().string()) + " ninja ";
  const std::string dir = " -C " + test::shell_quote(build.path().string());
  const auto cli = test::run_shell(forge + "settle" + dir + " --index-root " + src);
  EXPECT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("0 of 3 sources stat'ed (chosen by the scan index)"), std::string::npos)
      << cli.out;
  const auto bad = test::run_shell(forge + "settle" + dir + " --index-root /nonexistent");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--index-root /nonexistent: not a directory"), std::string::npos)
      << bad.err;

  std::this_thread::sleep_for(20ms);  // a new mtime tick
  touch("a.txt");
  auto touched = settle(*m_io, options);
  ASSERT_TRUE(touched) << touched.error().to_string();
  EXPECT_TRUE(touched->stamp_via_index) << touched->stamp_fallback;
  EXPECT_EQ(touched->stamp_sources_stated, 1u);
  EXPECT_EQ(touched->dirty, 0u);
  const auto dry = test::run_shell("ninja -n -C " + test::shell_quote(build.path().string()));
  EXPECT_NE(dry.out.find("no work to do"), std::string::npos) << dry.out;

  // Without it no index covers the build dir: the stamp written then stats every source.
  options.index_root.clear();
  ASSERT_TRUE(settle(*m_io, options));  // clean: stamps without a cursor
  auto without = settle(*m_io, options);
  ASSERT_TRUE(without) << without.error().to_string();
  EXPECT_TRUE(without->from_stamp);
  EXPECT_FALSE(without->stamp_via_index);
  EXPECT_EQ(without->stamp_sources_stated, k_sources);
}

TEST_F(SourceIndexTest, NoIndexMeansNoCursorAndUntrackedPathsAreNeverTrusted) {
  EXPECT_FALSE(find_source_cursor(m_dir.path()));
  start_keeper();
  const auto cursor = find_source_cursor(m_dir.path());
  ASSERT_TRUE(cursor);
  EXPECT_EQ(cursor->root, m_root);
  const auto tracked =
      tracked_paths(*cursor, {(m_root / "a.txt").string(), (m_root / "missing").string(),
                              "/etc/hostname", (m_root / ".").string()});
  EXPECT_EQ(tracked, (std::vector<bool>{true, false, false, false}));
}

}  // namespace
}  // namespace forge::ninja
