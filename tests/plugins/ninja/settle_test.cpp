#include "forge/ninja/settle.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "forge/core/io/backend_selector.h"
#include "tiny_project.h"

namespace forge::ninja {
namespace {

class SettleTest : public test::TinyNinjaProject {
 protected:
  void SetUp() override {
    TinyNinjaProject::SetUp();
    auto io = io::create_platform_io(support::IoConfig{});
    ASSERT_TRUE(io);
    m_io = std::move(*io);
    RecordOptions options;
    options.dir = m_dir.path();
    options.racy_margin_ns = 0;
    auto recorded = record(*m_io, options);
    ASSERT_TRUE(recorded) << recorded.error().to_string();
    EXPECT_EQ(recorded->recorded, 3u);
  }

  Result<SettleReport> run_settle(bool dry_run = false) {
    SettleOptions options;
    options.dir = m_dir.path();
    options.dry_run = dry_run;
    return settle(*m_io, options);
  }

  void touch_all() {
    ASSERT_EQ(test::run_shell("cd " + test::shell_quote(m_dir.path().string()) +
                              " && sleep 0.01 && touch a.txt b.txt hdr.h")
                  .exit_code,
              0);
  }

  std::unique_ptr<io::PlatformIO> m_io;
};

TEST_F(SettleTest, TouchedInputsWithSameContentRunNothing) {
  touch_all();
  ASSERT_EQ(ninja_would_run().size(), 3u);
  auto report = run_settle();
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_EQ(report->settled, 3u);
  EXPECT_EQ(report->dirty, 0u);
  EXPECT_EQ(ninja_would_run(), std::set<std::string>{});
  EXPECT_NE(ninja("-n").out.find("no work to do"), std::string::npos);
  // Ninja can still read and compact both logs afterwards.
  EXPECT_NE(ninja("-t deps a.out").out.find("hdr.h"), std::string::npos);
  EXPECT_EQ(ninja("-t recompact").exit_code, 0);
  EXPECT_EQ(ninja_would_run(), std::set<std::string>{});
}

TEST_F(SettleTest, AnEditRunsExactlyWhatNinjaWouldWithoutForge) {
  touch_all();
  m_dir.write_file("a.txt", "edited\n");
  auto report = run_settle();
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_EQ(report->settled, 1u);  // b.out
  EXPECT_EQ(ninja_would_run(), (std::set<std::string>{"a.out", "all.out"}));
}

TEST_F(SettleTest, AHeaderEditRunsItsIncluders) {
  m_dir.write_file("hdr.h", "new\n");
  auto report = run_settle();
  ASSERT_TRUE(report);
  EXPECT_EQ(report->settled, 0u);
  EXPECT_EQ(ninja_would_run(), (std::set<std::string>{"a.out", "b.out", "all.out"}));
}

TEST_F(SettleTest, AnEditRevertedIsClean) {
  m_dir.write_file("a.txt", "edited\n");
  m_dir.write_file("a.txt", "a\n");
  ASSERT_TRUE(run_settle());
  EXPECT_EQ(ninja_would_run(), std::set<std::string>{});
}

// Without .ninja_deps (deleted, or a build dir restored without it) Ninja reruns every deps
// edge; the deps Forge recorded stand in, and settle writes them back as Ninja's record.
TEST_F(SettleTest, AMissingDepsLogIsRestoredFromTheRecordAndRunsNothing) {
  touch_all();
  std::filesystem::remove(m_dir / ".ninja_deps");
  ASSERT_EQ(ninja_would_run().size(), 3u);
  auto report = run_settle();
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_EQ(report->settled, 3u);
  EXPECT_EQ(report->dirty, 0u);
  EXPECT_EQ(ninja_would_run(), std::set<std::string>{});
  EXPECT_NE(ninja("-t deps a.out").out.find("hdr.h"), std::string::npos);
  EXPECT_NE(ninja("-t deps b.out").out.find("hdr.h"), std::string::npos);
}

TEST_F(SettleTest, AMissingDepsLogWithAHeaderEditRebuildsTheIncluders) {
  std::filesystem::remove(m_dir / ".ninja_deps");
  m_dir.write_file("hdr.h", "new\n");
  auto report = run_settle();
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_EQ(report->settled, 0u);
  EXPECT_EQ(ninja_would_run(), (std::set<std::string>{"a.out", "b.out", "all.out"}));
  ASSERT_EQ(ninja("").exit_code, 0);
  EXPECT_EQ(m_dir.read_file("a.out"), "a\nnew\n");
}

TEST_F(SettleTest, ADeletedOutputIsRebuilt) {
  touch_all();
  std::filesystem::remove(m_dir / "b.out");
  auto report = run_settle();
  ASSERT_TRUE(report);
  EXPECT_EQ(ninja_would_run(), (std::set<std::string>{"b.out", "all.out"}));
  ASSERT_EQ(ninja("").exit_code, 0);
  EXPECT_EQ(m_dir.read_file("b.out"), "b\nh\n");
}

TEST_F(SettleTest, AChangedCommandIsRebuilt) {
  touch_all();
  std::string manifest = test::k_tiny_manifest;
  manifest.replace(manifest.find("cat $in > $out"), 14, "cat $in  > $out");
  m_dir.write_file("build.ninja", manifest);
  ASSERT_TRUE(run_settle());
  EXPECT_EQ(ninja_would_run(), (std::set<std::string>{"all.out"}));
}

TEST_F(SettleTest, AHandEditedOutputIsNotTrusted) {
  touch_all();
  m_dir.write_file("a.out", "tampered\n");
  ASSERT_TRUE(run_settle());
  // Ninja reruns a.out (its log mtime is older than the touched inputs); Forge must not
  // settle it over content it did not record, nor all.out on top of it.
  EXPECT_EQ(ninja_would_run(), (std::set<std::string>{"a.out", "all.out"}));
}

TEST_F(SettleTest, DryRunWritesNothing) {
  touch_all();
  const std::string log = m_dir.read_file(".ninja_log");
  auto report = run_settle(/*dry_run=*/true);
  ASSERT_TRUE(report);
  EXPECT_EQ(report->settled, 3u);
  EXPECT_EQ(m_dir.read_file(".ninja_log"), log);
  EXPECT_EQ(ninja_would_run().size(), 3u);
}

TEST_F(SettleTest, CorruptDepsLogIsAnErrorAndWritesNothing) {
  touch_all();
  const std::string deps = m_dir.read_file(".ninja_deps");
  m_dir.write_file(".ninja_deps", deps.substr(0, deps.size() - 2));
  const std::string log = m_dir.read_file(".ninja_log");
  auto report = run_settle();
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().category(), ErrorCategory::validation);
  EXPECT_EQ(m_dir.read_file(".ninja_log"), log);
}

TEST_F(SettleTest, ALogFromANewerNinjaIsAnError) {
  touch_all();
  std::string log = m_dir.read_file(".ninja_log");
  log.replace(0, 14, "# ninja log v7");
  m_dir.write_file(".ninja_log", log);
  auto report = run_settle();
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().category(), ErrorCategory::validation);
}

// A file whose mtime or ctime lies within the racy margin of its last hash may have been
// rewritten in the same clock tick: its cached digest is never trusted, it is hashed again.
TEST_F(SettleTest, RacilyCleanFilesAreRehashedNeverTrusted) {
  touch_all();
  auto explain = [&](std::int64_t racy_margin_ns) {
    SettleOptions options;
    options.dir = m_dir.path();
    options.dry_run = true;  // still caches the digests it computed
    options.racy_margin_ns = racy_margin_ns;
    auto report = settle(*m_io, options);
    EXPECT_TRUE(report) << report.error().to_string();
    return report ? report->hashed : 0;
  };
  const std::size_t touched = explain(0);
  EXPECT_GE(touched, 3u);     // the touched sources at least
  EXPECT_EQ(explain(0), 0u);  // unchanged since hashed, outside a zero margin: trusted
  // Everything was written within the last minute: all racily clean, all hashed again, the
  // three sources and the three outputs (built a moment ago).
  EXPECT_EQ(explain(60'000'000'000), 6u);
}

// Settle writes only inside the build dir: an edge with an output outside it is left to
// Ninja, its output untouched.
TEST_F(SettleTest, AnOutputOutsideTheBuildDirIsNeverSettled) {
  test::TempDir outside;
  const std::string far = (outside / "far.out").string();
  m_dir.write_file("build.ninja",
                   std::string(test::k_tiny_manifest) + "build " + far + ": join a.txt\n");
  ASSERT_EQ(ninja("").exit_code, 0);
  RecordOptions recording;
  recording.dir = m_dir.path();
  recording.racy_margin_ns = 0;
  ASSERT_TRUE(record(*m_io, recording));
  touch_all();
  struct stat before {};
  ASSERT_EQ(::stat(far.c_str(), &before), 0);
  auto report = run_settle();
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_EQ(report->settled, 3u);
  EXPECT_EQ(report->dirty, 1u);
  ASSERT_EQ(report->report.size(), 4u);
  const EdgeReport& edge = report->report.back();
  EXPECT_EQ(edge.output, far);
  EXPECT_NE(edge.blocker.find("outside the build dir"), std::string::npos) << edge.blocker;
  struct stat after {};
  ASSERT_EQ(::stat(far.c_str(), &after), 0);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  EXPECT_EQ(ninja_would_run(), std::set<std::string>{far});
}

TEST_F(SettleTest, NotANinjaBuildDirIsAnError) {
  test::TempDir empty;
  SettleOptions options;
  options.dir = empty.path();
  auto report = settle(*m_io, options);
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().category(), ErrorCategory::validation);
}

}  // namespace
}  // namespace forge::ninja
