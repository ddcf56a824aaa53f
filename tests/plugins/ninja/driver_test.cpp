#include "forge/ninja/driver.h"

#include <sys/stat.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "forge/core/io/backend_selector.h"
#include "tiny_project.h"

namespace forge::ninja {
namespace {

class DriverTest : public test::TinyNinjaProject {
 protected:
  void SetUp() override {
    TinyNinjaProject::SetUp();
    auto io = io::create_platform_io(support::IoConfig{});
    ASSERT_TRUE(io);
    m_io = std::move(*io);
  }
  std::unique_ptr<io::PlatformIO> m_io;
};

TEST_F(DriverTest, KeepIfSameRestoresTheMtimeOfAnUnchangedOutput) {
  const auto out = m_dir / "gen.h";
  m_dir.write_file("gen.h", "same\n");
  ASSERT_EQ(test::run_shell("touch -d '2001-01-01' " + test::shell_quote(out.string())).exit_code,
            0);
  const std::int64_t before = mtime_ns("gen.h");
  auto status = keep_if_same(*m_io, {out}, {"sh", "-c", "printf 'same\\n' > " + out.string()});
  ASSERT_TRUE(status) << status.error().to_string();
  EXPECT_EQ(*status, 0);
  EXPECT_EQ(mtime_ns("gen.h"), before);
}

TEST_F(DriverTest, KeepIfSameLeavesAChangedOutputNew) {
  const auto out = m_dir / "gen.h";
  m_dir.write_file("gen.h", "old\n");
  ASSERT_EQ(test::run_shell("touch -d '2001-01-01' " + test::shell_quote(out.string())).exit_code,
            0);
  const std::int64_t before = mtime_ns("gen.h");
  auto status = keep_if_same(*m_io, {out}, {"sh", "-c", "printf 'new\\n' > " + out.string()});
  ASSERT_TRUE(status);
  EXPECT_GT(mtime_ns("gen.h"), before);
}

TEST_F(DriverTest, KeepIfSamePassesTheExitCodeThrough) {
  auto status = keep_if_same(*m_io, {m_dir / "none"}, {"sh", "-c", "exit 3"});
  ASSERT_TRUE(status);
  EXPECT_EQ(*status, 3);
}

TEST_F(DriverTest, WrappedRunSettlesRunsNinjaAndRecords) {
  WrapOptions options;
  options.dir = m_dir.path();
  EXPECT_EQ(run_wrapped(*m_io, options, stderr), 0);  // records the existing build
  ASSERT_EQ(test::run_shell("sleep 0.01 && touch " + test::shell_quote((m_dir / "a.txt").string()) +
                            " " + test::shell_quote((m_dir / "hdr.h").string()))
                .exit_code,
            0);
  const std::string log = m_dir.read_file(".ninja_log");
  EXPECT_EQ(run_wrapped(*m_io, options, stderr), 0);
  EXPECT_EQ(ninja_would_run(), std::set<std::string>{});
  EXPECT_EQ(m_dir.read_file("a.out"), "a\nh\n");
  options.ninja_args = {"no_such_target"};
  EXPECT_NE(run_wrapped(*m_io, options, stderr), 0);  // ninja's failure is passed through
}

TEST_F(DriverTest, TheLockSerialisesTwoHolders) {
  auto first = BuildDirLock::acquire(m_dir.path());
  ASSERT_TRUE(first);
  std::atomic<bool> second_held{false};
  std::thread other([&] {
    auto second = BuildDirLock::acquire(m_dir.path());
    second_held = second.has_value();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(second_held.load());  // still waiting for the first
  { auto released = std::move(*first); }
  other.join();
  EXPECT_TRUE(second_held.load());
}

}  // namespace
}  // namespace forge::ninja
