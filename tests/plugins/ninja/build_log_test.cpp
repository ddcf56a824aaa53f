#include "forge/ninja/build_log.h"

#include <gtest/gtest.h>

#include "forge/ninja/murmur_hash.h"
#include "tiny_project.h"

namespace forge::ninja {
namespace {

using BuildLogTest = test::TinyNinjaProject;

TEST_F(BuildLogTest, ReadsTheLogTheRealNinjaWrote) {
  auto log = read_build_log(m_dir / ".ninja_log");
  ASSERT_TRUE(log) << log.error().to_string();
  EXPECT_EQ(log->version, 5);
  EXPECT_EQ(log->entries.size(), 3u);
  for (const char* output : {"a.out", "b.out", "all.out"}) {
    const LogEntry* entry = log->find(output);
    ASSERT_NE(entry, nullptr) << output;
    EXPECT_EQ(entry->mtime, mtime_ns(output)) << output;  // nanoseconds, as stat reports
    EXPECT_LE(entry->start_ms, entry->end_ms);
  }
}

TEST_F(BuildLogTest, AppendedEntryWinsAndNinjaAcceptsIt) {
  auto before = read_build_log(m_dir / ".ninja_log");
  ASSERT_TRUE(before);
  LogEntry entry = *before->find("all.out");
  entry.command_hash = command_hash("something else");
  ASSERT_TRUE(append_build_log(m_dir / ".ninja_log", std::span(&entry, 1)));
  auto after = read_build_log(m_dir / ".ninja_log");
  ASSERT_TRUE(after) << after.error().to_string();
  EXPECT_EQ(after->find("all.out")->command_hash, entry.command_hash);
  EXPECT_EQ(after->lines, before->lines + 1);
  // Ninja reads our line: the command hash no longer matches, so it wants to rerun all.out.
  const auto explain = ninja("-n -d explain all.out");
  EXPECT_NE(explain.err.find("command line changed for all.out"), std::string::npos) << explain.err;
  EXPECT_EQ(ninja("-t recompact").exit_code, 0);
}

TEST_F(BuildLogTest, CreatesAMissingLogWithItsHeader) {
  LogEntry entry{"x.out", 1, 2, 3, 0xabc};
  const auto path = m_dir / "fresh_log";
  ASSERT_TRUE(append_build_log(path, std::span(&entry, 1)));
  EXPECT_EQ(m_dir.read_file("fresh_log"), "# ninja log v5\n1\t2\t3\tx.out\tabc\n");
}

TEST(BuildLogParse, ReadsNewerVersionsWithTheSameLayout) {
  auto log = parse_build_log("# ninja log v7\n1\t2\t3\tout\tff\n", "log");
  ASSERT_TRUE(log);
  EXPECT_EQ(log->version, 7);
  EXPECT_EQ(log->find("out")->command_hash, 0xffu);
}

TEST(BuildLogParse, RejectsUnknownVersionsAndBrokenLines) {
  for (const char* text :
       {"# ninja log v8\n", "# ninja log v4\n", "garbage\n", "", "# ninja log v5\n1\t2\t3\tout\n",
        "# ninja log v5\n1\t2\t3\tout\tff", "# ninja log v5\nx\t2\t3\tout\tff\n",
        "# ninja log v5\n1\t2\t3\tout\tzz\n"}) {
    auto log = parse_build_log(text, "log");
    ASSERT_FALSE(log) << text;
    EXPECT_EQ(log.error().category(), ErrorCategory::validation) << text;
  }
}

TEST(BuildLogRead, MissingFileIsAFileSystemError) {
  auto log = read_build_log("/nonexistent/.ninja_log");
  ASSERT_FALSE(log);
  EXPECT_EQ(log.error().code(), ENOENT);
}

}  // namespace
}  // namespace forge::ninja
