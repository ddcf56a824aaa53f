// The cursor journal's stat-only entries (core/scan/src/journal.h, issue 11): a touch or
// chmod that leaves content alone is journaled, reported by since() only when asked, and
// never hides or replaces a content change.
#include <fcntl.h>
#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

#include "change_list.h"
#include "forge/core/io/backend_selector.h"
#include "forge/core/scan/scanner.h"
#include "forge/test/temp_dir.h"

namespace forge::scan {
namespace {

void set_mtime(const std::filesystem::path& path, std::int64_t seconds) {
  timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
}

void write_raw(const std::filesystem::path& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

class JournalFixture : public ::testing::Test {
 protected:
  JournalFixture()
      : m_index(FileIndex::open(m_dir / "index").value()),
        m_io(io::create_fallback_io({}, nullptr)),
        m_scanner(m_dir / "tree", m_index, *m_io) {
    std::filesystem::create_directories(m_dir / "tree");
  }
  std::filesystem::path tree() const { return m_dir / "tree"; }
  ChangeSet scan() {
    auto result = m_scanner.scan({});
    EXPECT_TRUE(result) << result.error().to_string();
    return result ? std::move(*result) : ChangeSet{};
  }
  ChangeList since(const std::string& cursor, bool stat_only) {
    auto result = m_scanner.since(cursor, SinceOptions{.stat_only = stat_only});
    EXPECT_TRUE(result) << result.error().to_string();
    EXPECT_FALSE(result && result->fresh_instance);
    return result ? as_map(*result) : ChangeList{};
  }

  test::TempDir m_dir;
  FileIndex m_index;
  std::unique_ptr<io::PlatformIO> m_io;
  Scanner m_scanner;
};

TEST_F(JournalFixture, TouchOnlyChangeAppearsAsStatOnlySinceTheCursorWhenAsked) {
  write_raw(tree() / "touched", "same");
  write_raw(tree() / "edited", "old");
  write_raw(tree() / "quiet", "q");
  std::filesystem::create_directory(tree() / "dir");
  const std::string cursor = scan().cursor;
  set_mtime(tree() / "touched", 1'500'000'000);
  write_raw(tree() / "edited", "new content");
  write_raw(tree() / "dir" / "born", "b");  // the directory's stat changes: never reported
  const ChangeSet scanned = scan();
  // A scan's own answer stays content-only.
  EXPECT_EQ(as_map(scanned),
            (ChangeList{{"dir/born", ChangeKind::added}, {"edited", ChangeKind::modified}}));
  EXPECT_EQ(since(cursor, false),
            (ChangeList{{"dir/born", ChangeKind::added}, {"edited", ChangeKind::modified}}));
  EXPECT_EQ(since(cursor, true), (ChangeList{{"dir/born", ChangeKind::added},
                                             {"edited", ChangeKind::modified},
                                             {"touched", ChangeKind::stat_only}}));
  EXPECT_TRUE(since(scanned.cursor, true).empty());
}

TEST_F(JournalFixture, ChmodAndWatcherStylePartialScansAreJournaledToo) {
  write_raw(tree() / "a", "a");
  write_raw(tree() / "b", "b");
  std::filesystem::create_symlink("a", tree() / "link");
  const std::string cursor = scan().cursor;
  std::filesystem::permissions(tree() / "a", std::filesystem::perms::owner_all);
  timespec times[2] = {{1'400'000'000, 0}, {1'400'000'000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, (tree() / "link").c_str(), times, AT_SYMLINK_NOFOLLOW), 0);
  // The keeper re-checks only what the watcher named (IN_ATTRIB on a and link).
  auto partial = m_scanner.scan_paths({"a", "link"}, {});
  ASSERT_TRUE(partial) << partial.error().to_string();
  EXPECT_TRUE(partial->changes.empty());
  EXPECT_EQ(since(cursor, true),
            (ChangeList{{"a", ChangeKind::stat_only}, {"link", ChangeKind::stat_only}}));
  EXPECT_TRUE(since(cursor, false).empty());
}

TEST_F(JournalFixture, ContentKindsWinOverStatOnlyAcrossCursors) {
  write_raw(tree() / "f", "1");
  write_raw(tree() / "gone", "g");
  const std::string cursor = scan().cursor;
  set_mtime(tree() / "f", 1'500'000'000);
  set_mtime(tree() / "gone", 1'500'000'000);
  scan();
  write_raw(tree() / "f", "2 and longer");
  std::filesystem::remove(tree() / "gone");
  write_raw(tree() / "later", "x");
  scan();
  set_mtime(tree() / "later", 1'500'000'000);  // born after the cursor, then touched
  scan();
  EXPECT_EQ(since(cursor, true), (ChangeList{{"f", ChangeKind::modified},
                                             {"gone", ChangeKind::removed},
                                             {"later", ChangeKind::added}}));
}

TEST_F(JournalFixture, UnchangedOrRacilyRehashedFilesLeaveNoEntry) {
  write_raw(tree() / "f", "same");
  const std::string cursor = scan().cursor;
  // f is racily clean (written just now): the next scans re-hash it, same stat, same content.
  const ChangeSet again = scan();
  EXPECT_GE(again.hashed, 1u);
  scan();
  EXPECT_TRUE(since(cursor, true).empty());
}

}  // namespace
}  // namespace forge::scan
