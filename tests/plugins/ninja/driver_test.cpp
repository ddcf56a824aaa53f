#include "forge/ninja/driver.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

// `forge ninja explain`: for each edge Ninja would run, content or mtime only; writes nothing.
TEST_F(DriverTest, ExplainSaysWhetherEachEdgeRunsForContentOrMtimeOnly) {
  const std::string forge = test::shell_quote(test::forge_binary().string()) + " ninja ";
  const std::string dir = " -C " + test::shell_quote(m_dir.path().string());
  ASSERT_EQ(test::run_shell(forge + "record" + dir).exit_code, 0);
  ASSERT_EQ(test::run_shell("sleep 0.01 && touch " + test::shell_quote((m_dir / "a.txt").string()))
                .exit_code,
            0);
  m_dir.write_file("b.txt", "b edited\n");
  const std::string log = m_dir.read_file(".ninja_log");
  const auto json = test::run_shell(forge + "explain" + dir + " --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto answer = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(answer.is_discarded()) << json.out;
  EXPECT_EQ(answer["edges"], 3);
  EXPECT_EQ(answer["would_settle"], 1);         // a.out
  EXPECT_EQ(answer["would_run"], 2);            // b.out and all.out after it
  std::map<std::string, std::string> verdicts;  // output -> "verdict/cause"
  for (const auto& edge : answer["details"]) {
    verdicts[edge["output"]] =
        edge["verdict"].get<std::string>() + "/" + edge["cause"].get<std::string>();
  }
  EXPECT_EQ(verdicts["a.out"], "mtime-only/mtime");
  EXPECT_EQ(verdicts["b.out"], "run/content");
  const auto text = test::run_shell(forge + "explain" + dir);
  EXPECT_NE(text.out.find("a.out: mtime only"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("3 edges: 1 mtime-only, 2 to run"), std::string::npos) << text.out;
  EXPECT_EQ(m_dir.read_file(".ninja_log"), log);  // nothing written
  EXPECT_EQ(ninja_would_run(), (std::set<std::string>{"a.out", "b.out", "all.out"}));
}

// Ninja state forge ninja cannot read safely: one clear message, then plain ninja decides.
TEST_F(DriverTest, AMissingOrNewerLogRunsPlainNinjaWithAMessage) {
  WrapOptions options;
  options.dir = m_dir.path();
  EXPECT_EQ(run_wrapped(*m_io, options, stderr), 0);  // records the existing build
  auto messages_of_a_run = [&] {
    std::FILE* messages = std::tmpfile();
    EXPECT_EQ(run_wrapped(*m_io, options, messages), 0);
    std::rewind(messages);
    std::string text(4096, '\0');
    text.resize(std::fread(text.data(), 1, text.size(), messages));
    std::fclose(messages);
    return text;
  };
  std::string log = m_dir.read_file(".ninja_log");
  log.replace(0, 14, "# ninja log v7");
  m_dir.write_file(".ninja_log", log);
  std::string said = messages_of_a_run();
  EXPECT_NE(said.find(".ninja_log is version 7"), std::string::npos) << said;
  EXPECT_NE(said.find("running plain ninja"), std::string::npos) << said;
  EXPECT_EQ(ninja_would_run(), std::set<std::string>{});

  std::filesystem::remove(m_dir / ".ninja_log");
  said = messages_of_a_run();
  EXPECT_NE(said.find("no .ninja_log"), std::string::npos) << said;
  EXPECT_NE(said.find("running plain ninja"), std::string::npos) << said;
  EXPECT_EQ(ninja_would_run(), std::set<std::string>{});
  EXPECT_EQ(m_dir.read_file("all.out"), "a\nh\nb\nh\n");
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
