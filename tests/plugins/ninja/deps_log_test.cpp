#include "forge/ninja/deps_log.h"

#include <fstream>

#include <gtest/gtest.h>

#include "tiny_project.h"

namespace forge::ninja {
namespace {

using DepsLogTest = test::TinyNinjaProject;

TEST_F(DepsLogTest, ReadsTheDepsTheRealNinjaRecorded) {
  auto log = read_deps_log(m_dir / ".ninja_deps");
  ASSERT_TRUE(log) << log.error().to_string();
  for (const char* output : {"a.out", "b.out"}) {
    const DepsRecord* record = log->find(output);
    ASSERT_NE(record, nullptr) << output;
    EXPECT_EQ(record->mtime, mtime_ns(output));
    const auto deps = log->dep_paths(*record);
    ASSERT_EQ(deps.size(), 2u);
    EXPECT_EQ(deps[1], "hdr.h");
  }
  EXPECT_EQ(log->find("all.out"), nullptr);  // rule without deps
}

TEST_F(DepsLogTest, AppendedRecordWinsAndNinjaReadsIt) {
  auto log = read_deps_log(m_dir / ".ninja_deps");
  ASSERT_TRUE(log);
  DepsUpdate update{"a.out", mtime_ns("a.out") + 5, {"a.txt", "hdr.h", "new_header.h"}};
  ASSERT_TRUE(append_deps_log(m_dir / ".ninja_deps", *log, std::span(&update, 1)));
  auto reread = read_deps_log(m_dir / ".ninja_deps");
  ASSERT_TRUE(reread) << reread.error().to_string();
  const DepsRecord* record = reread->find("a.out");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(record->mtime, update.mtime);
  EXPECT_EQ(reread->dep_paths(*record), update.deps);
  EXPECT_EQ(reread->paths, log->paths);  // the in-memory log was kept in step
  const auto deps = ninja("-t deps a.out");
  EXPECT_NE(deps.out.find("new_header.h"), std::string::npos) << deps.out;
  ASSERT_EQ(ninja("-t recompact").exit_code, 0);
  auto compacted = read_deps_log(m_dir / ".ninja_deps");
  ASSERT_TRUE(compacted) << compacted.error().to_string();
  EXPECT_EQ(compacted->dep_paths(*compacted->find("a.out")), update.deps);
}

TEST_F(DepsLogTest, TruncatedOrGarbageLogIsAValidationError) {
  const std::string bytes = m_dir.read_file(".ninja_deps");
  for (const std::string& broken :
       {bytes.substr(0, bytes.size() - 3), bytes.substr(0, bytes.size() - 4), bytes.substr(0, 10),
        std::string("garbage garbage garbage"),
        bytes + std::string("\x08\x00\x00\x00zzzz\x01\x02\x03\x04", 12)}) {
    auto log = parse_deps_log(broken, ".ninja_deps");
    ASSERT_FALSE(log) << broken.size();
    EXPECT_EQ(log.error().category(), ErrorCategory::validation);
  }
}

TEST(DepsLogParse, RejectsOtherVersions) {
  std::string bytes(k_deps_signature);
  bytes += std::string("\x03\x00\x00\x00", 4);
  auto log = parse_deps_log(bytes, "deps");
  ASSERT_FALSE(log);
  EXPECT_EQ(log.error().category(), ErrorCategory::validation);
}

TEST(DepsLogAppend, CreatesAFileNinjaCanRead) {
  test::TempDir dir;
  DepsLog log;
  DepsUpdate update{"out.o", 42, {"in.c", "in.h"}};
  ASSERT_TRUE(append_deps_log(dir / "deps", log, std::span(&update, 1)));
  auto reread = read_deps_log(dir / "deps");
  ASSERT_TRUE(reread) << reread.error().to_string();
  EXPECT_EQ(reread->paths, (std::vector<std::string>{"out.o", "in.c", "in.h"}));
  EXPECT_EQ(reread->find("out.o")->mtime, 42);
}

}  // namespace
}  // namespace forge::ninja
