#include "forge/ninja/clean_stamp.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "forge/core/io/backend_selector.h"
#include "forge/core/store/encoding.h"
#include "forge/ninja/settle.h"
#include "tiny_project.h"

namespace forge::ninja {
namespace {

class CleanStampTest : public test::TinyNinjaProject {
 protected:
  void SetUp() override {
    TinyNinjaProject::SetUp();
    auto io = io::create_platform_io(support::IoConfig{});
    ASSERT_TRUE(io);
    m_io = std::move(*io);
    RecordOptions options;
    options.dir = m_dir.path();
    options.racy_margin_ns = 0;  // the build just wrote build.ninja: stamp it anyway
    ASSERT_TRUE(record(*m_io, options));
  }

  Result<SettleReport> run_settle() {
    SettleOptions options;
    options.dir = m_dir.path();
    return settle(*m_io, options);
  }

  // Sets `relative`'s mtime to `mtime_ns` (atime left alone).
  void set_mtime(const std::string& relative, std::int64_t mtime_ns) {
    struct timespec times[2];
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_sec = mtime_ns / 1'000'000'000;
    times[1].tv_nsec = mtime_ns % 1'000'000'000;
    ASSERT_EQ(::utimensat(AT_FDCWD, (m_dir / relative).c_str(), times, 0), 0);
  }

  std::unique_ptr<io::PlatformIO> m_io;
};

TEST_F(CleanStampTest, ACleanBuildIsAnsweredFromTheStamp) {
  ASSERT_TRUE(std::filesystem::exists(clean_stamp_path(m_dir.path())));
  EXPECT_EQ(clean_stamp_edges(m_dir.path()), std::optional<std::size_t>(3));
  auto report = run_settle();
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_TRUE(report->from_stamp);
  EXPECT_EQ(report->edges, 3u);
  EXPECT_EQ(report->settled + report->dirty, 0u);
}

TEST_F(CleanStampTest, ATouchedSourceOrHeaderVoidsItAndSettleRunsInFull) {
  for (const char* source : {"a.txt", "hdr.h"}) {
    set_mtime(source, mtime_ns("all.out") + 1'000'000'000);  // newer than every output
    EXPECT_EQ(clean_stamp_edges(m_dir.path()), std::nullopt) << source;
    auto report = run_settle();
    ASSERT_TRUE(report) << report.error().to_string();
    EXPECT_FALSE(report->from_stamp);
    EXPECT_GT(report->settled, 0u) << source;
    EXPECT_EQ(ninja_would_run(), std::set<std::string>{});
  }
}

TEST_F(CleanStampTest, AnEditIsNeverHiddenByTheStamp) {
  m_dir.write_file("a.txt", "edited\n");
  EXPECT_EQ(clean_stamp_edges(m_dir.path()), std::nullopt);
  auto report = run_settle();
  ASSERT_TRUE(report);
  EXPECT_FALSE(report->from_stamp);
  EXPECT_EQ(ninja_would_run(), (std::set<std::string>{"a.out", "all.out"}));
}

TEST_F(CleanStampTest, ManifestAndLogChangesVoidIt) {
  {
    std::string manifest = test::k_tiny_manifest;
    manifest.replace(manifest.find("cat $in > $out"), 14, "cat $in  > $out");
    m_dir.write_file("build.ninja", manifest);
    EXPECT_EQ(clean_stamp_edges(m_dir.path()), std::nullopt);
    m_dir.write_file("build.ninja", test::k_tiny_manifest);
    ASSERT_EQ(ninja("").exit_code, 0);
  }
  RecordOptions options;
  options.dir = m_dir.path();
  options.racy_margin_ns = 0;
  ASSERT_TRUE(record(*m_io, options));
  ASSERT_TRUE(clean_stamp_edges(m_dir.path()));
  const std::string log = m_dir.read_file(".ninja_log");
  m_dir.write_file(".ninja_log", log + log.substr(log.find('\n') + 1));
  EXPECT_EQ(clean_stamp_edges(m_dir.path()), std::nullopt);
}

TEST_F(CleanStampTest, ADeletedOutputIsLeftToNinja) {
  std::filesystem::remove(m_dir / "b.out");
  auto report = run_settle();
  ASSERT_TRUE(report);
  EXPECT_EQ(ninja_would_run(), (std::set<std::string>{"b.out", "all.out"}));
  ASSERT_EQ(ninja("").exit_code, 0);
  EXPECT_EQ(m_dir.read_file("b.out"), "b\nh\n");
}

TEST_F(CleanStampTest, ARacilyCleanManifestIsNeverStamped) {
  std::filesystem::remove(clean_stamp_path(m_dir.path()));
  m_dir.write_file("build.ninja", test::k_tiny_manifest);  // rewritten just now
  ASSERT_EQ(ninja("").exit_code, 0);
  RecordOptions options;
  options.dir = m_dir.path();
  options.racy_margin_ns = 60'000'000'000;  // everything written in the last minute is racy
  ASSERT_TRUE(record(*m_io, options));
  EXPECT_FALSE(std::filesystem::exists(clean_stamp_path(m_dir.path())));
}

TEST_F(CleanStampTest, TruncatedGarbageOrOtherVersionStampsDoNotHold) {
  const auto path = clean_stamp_path(m_dir.path());
  const std::string bytes = m_dir.read_file(".forge/ninja-clean");
  ASSERT_GT(bytes.size(), 8u);
  std::string other_version;
  store::put_le<std::uint32_t>(other_version, k_clean_stamp_version + 1);
  for (const std::string& damaged :
       {bytes.substr(0, bytes.size() - 1), bytes + "x", std::string("garbage"),
        other_version + bytes.substr(4), std::string()}) {
    m_dir.write_file(".forge/ninja-clean", damaged);
    EXPECT_EQ(clean_stamp_edges(m_dir.path()), std::nullopt);
  }
  remove_clean_stamp(m_dir.path());
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(clean_stamp_edges(m_dir.path()), std::nullopt);
}

TEST_F(CleanStampTest, ARecordOfADirtyBuildRemovesIt) {
  m_dir.write_file("a.txt", "edited\n");
  RecordOptions options;
  options.dir = m_dir.path();
  options.racy_margin_ns = 0;
  ASSERT_TRUE(record(*m_io, options));  // a.out and all.out are dirty now
  EXPECT_FALSE(std::filesystem::exists(clean_stamp_path(m_dir.path())));
}

}  // namespace
}  // namespace forge::ninja
