// Streamed full scans (issue 16, first-scan memory): entries are decided and committed in
// batches of ScanOptions::batch_entries, changes are handed out as each batch commits, and
// only the last transaction publishes the cursor. These tests cross batch boundaries with a
// tiny batch size and interrupt scans between batches with a failing write.
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "change_list.h"
#include "forge/core/io/backend_selector.h"
#include "forge/core/scan/scanner.h"
#include "forge/test/temp_dir.h"

namespace forge::scan {
namespace {

void write_raw(const std::filesystem::path& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

class BatchFixture {
 public:
  BatchFixture()
      : m_index(FileIndex::open(m_dir / "index").value()),
        m_io(io::create_fallback_io({}, nullptr)),
        m_scanner(m_dir / "tree", m_index, *m_io) {
    std::filesystem::create_directories(m_dir / "tree");
  }
  std::filesystem::path tree() const { return m_dir / "tree"; }
  Scanner& scanner() { return m_scanner; }
  FileIndex& index() { return m_index; }
  ChangeSet scan(ScanOptions options = {}) {
    auto result = m_scanner.scan(options);
    EXPECT_TRUE(result) << result.error().to_string();
    return result ? std::move(*result) : ChangeSet{};
  }
  // A scan of `batch` entries a transaction whose write fails at batch number `failing`.
  Error interrupted_scan(std::size_t batch, std::size_t failing) {
    ScanOptions options;
    options.batch_entries = batch;
    options.before_batch_write = [failing](std::size_t number) -> Result<void> {
      if (number == failing)
        return fail(Error(ErrorCategory::file_system, "injected write failure"));
      return ok();
    };
    auto result = m_scanner.scan(options);
    EXPECT_FALSE(result);
    return result ? Error(ErrorCategory::unknown, "scan did not fail") : result.error();
  }

 private:
  test::TempDir m_dir;
  FileIndex m_index;
  std::unique_ptr<io::PlatformIO> m_io;
  Scanner m_scanner;
};

// Files d0/f00 .. d3/f09 plus their four directories: 44 entries.
void make_tree(const std::filesystem::path& root) {
  for (int d = 0; d < 4; ++d) {
    std::filesystem::create_directories(root / fmt::format("d{}", d));
    for (int f = 0; f < 10; ++f) {
      write_raw(root / fmt::format("d{}/f{:02}", d, f), fmt::format("content {} {}", d, f));
    }
  }
}

std::vector<std::string> paths_of(const std::vector<Change>& changes) {
  std::vector<std::string> out;
  for (const auto& change : changes) out.push_back(change.path);
  return out;
}

TEST(ScannerBatchTest, ChangesComeOutInPathOrderAcrossBatchBoundaries) {
  BatchFixture fx;
  make_tree(fx.tree());
  ScanOptions options;
  options.batch_entries = 5;  // 44 entries: nine transactions
  std::vector<Change> streamed;
  options.on_change = [&](const Change& change) { streamed.push_back(change); };
  const ChangeSet first = fx.scan(options);
  EXPECT_TRUE(first.changes.empty());  // handed out, not collected
  EXPECT_TRUE(first.fresh_instance);
  EXPECT_EQ(first.entries, 44u);
  EXPECT_EQ(first.hashed, 40u);
  ASSERT_EQ(streamed.size(), 44u);
  const auto streamed_paths = paths_of(streamed);
  EXPECT_TRUE(std::is_sorted(streamed_paths.begin(), streamed_paths.end()));
  EXPECT_EQ(std::set<std::string>(streamed_paths.begin(), streamed_paths.end()).size(), 44u);
  for (const auto& change : streamed) EXPECT_EQ(change.kind, ChangeKind::added) << change.path;
  EXPECT_FALSE(fx.index().meta()->incomplete);

  // Removals of records the walk no longer meets fall between batches of walked entries.
  std::filesystem::remove(fx.tree() / "d0/f03");
  std::filesystem::remove_all(fx.tree() / "d2");
  write_raw(fx.tree() / "d1/f05", "changed");
  write_raw(fx.tree() / "d3/new", "new");
  ScanOptions second_options;
  second_options.batch_entries = 2;
  second_options.racy_margin_ns = -1'000'000'000'000;  // nothing racy: only real changes hash
  const ChangeSet second = fx.scan(second_options);
  ChangeList expected{{"d0/f03", ChangeKind::removed},
                      {"d1/f05", ChangeKind::modified},
                      {"d3/new", ChangeKind::added},
                      {"d2", ChangeKind::removed}};
  for (int f = 0; f < 10; ++f) expected[fmt::format("d2/f{:02}", f)] = ChangeKind::removed;
  EXPECT_EQ(as_map(second), expected);
  const auto second_paths = paths_of(second.changes);
  EXPECT_TRUE(std::is_sorted(second_paths.begin(), second_paths.end()));
  auto since = fx.scanner().since(first.cursor);
  ASSERT_TRUE(since);
  EXPECT_FALSE(since->fresh_instance);
  EXPECT_EQ(as_map(*since), expected);
}

// An interrupted first scan (a write failing after two committed batches) leaves an index
// the next scan treats as a fresh instance: every file reported, nothing trusted from the
// half-written records, and since() of any earlier cursor flagged fresh meanwhile.
TEST(ScannerBatchTest, AnInterruptedFirstScanLeavesAFreshInstanceForTheNextScan) {
  BatchFixture fx;
  make_tree(fx.tree());
  const auto before = fx.scanner().since("x:0");
  ASSERT_TRUE(before);
  const std::string instance = fx.index().meta()->instance;
  const Error error = fx.interrupted_scan(8, 2);
  EXPECT_NE(error.to_string().find("injected write failure"), std::string::npos);
  ASSERT_TRUE(fx.index().meta()->incomplete);
  EXPECT_EQ(fx.index().meta()->cursor, 0u);  // the cursor was never published

  auto since = fx.scanner().since(instance + ":0");
  ASSERT_TRUE(since);
  EXPECT_TRUE(since->fresh_instance);  // not the 16 records of the two committed batches

  // A file written after the interrupted scan hashed it: must not be trusted from its record.
  write_raw(fx.tree() / "d0/f00", "rewritten");
  const ChangeSet next = fx.scan();
  EXPECT_TRUE(next.fresh_instance);
  EXPECT_EQ(next.changes.size(), 44u);
  for (const auto& change : next.changes) EXPECT_EQ(change.kind, ChangeKind::added);
  ASSERT_EQ(next.changes[1].path, "d0/f00");
  ASSERT_TRUE(next.changes[1].xxh3);
  EXPECT_EQ(*next.changes[1].xxh3, hash::xxh3_of("rewritten"));
  EXPECT_FALSE(fx.index().meta()->incomplete);
  EXPECT_NE(fx.index().meta()->instance, instance);

  // From here on the index answers exactly, removals included.
  std::filesystem::remove(fx.tree() / "d3/f09");
  const ChangeSet after = fx.scan();
  EXPECT_EQ(as_map(after), (ChangeList{{"d3/f09", ChangeKind::removed}}));
  auto exact = fx.scanner().since(next.cursor);
  ASSERT_TRUE(exact);
  EXPECT_FALSE(exact->fresh_instance);
  EXPECT_EQ(as_map(*exact), (ChangeList{{"d3/f09", ChangeKind::removed}}));
}

// The same for a later scan: since() of the last complete cursor never answers from the
// half-written journal, a partial scan falls back to a full one, and removals made before
// and after the interruption are all found.
TEST(ScannerBatchTest, AnInterruptedLaterScanNeverAnswersPartially) {
  BatchFixture fx;
  make_tree(fx.tree());
  const ChangeSet first = fx.scan();
  std::filesystem::remove(fx.tree() / "d1/f01");
  write_raw(fx.tree() / "d0/f02", "modified before the interruption");
  (void)fx.interrupted_scan(4, 3);
  auto since = fx.scanner().since(first.cursor);
  ASSERT_TRUE(since);
  EXPECT_TRUE(since->fresh_instance);

  std::filesystem::remove(fx.tree() / "d2/f07");
  auto partial = fx.scanner().scan_paths({"d0/f02"}, ScanOptions{});
  ASSERT_TRUE(partial) << partial.error().to_string();
  EXPECT_TRUE(partial->fresh_instance);  // answered by a full scan
  EXPECT_EQ(partial->changes.size(), 42u);
  EXPECT_FALSE(as_map(*partial).contains("d1/f01"));
  EXPECT_FALSE(as_map(*partial).contains("d2/f07"));

  std::filesystem::remove(fx.tree() / "d3/f00");
  EXPECT_EQ(as_map(fx.scan()), (ChangeList{{"d3/f00", ChangeKind::removed}}));
}

// Whatever the batch size and wherever a scan is interrupted, the next complete scan and
// since() answer exactly: a fresh instance listing every entry after an interruption, the
// precise changes otherwise.
RC_GTEST_PROP(ScannerBatchProperty, InterruptedOrNotBatchedScansAnswerExactly, ()) {
  BatchFixture fx;
  std::map<std::string, std::string> model;
  std::string cursor = fx.scan().cursor;
  const int rounds = *rc::gen::inRange(1, 5);
  for (int round = 0; round < rounds; ++round) {
    const auto before = model;
    const int edits = *rc::gen::inRange(0, 12);
    for (int e = 0; e < edits; ++e) {
      const std::string name = fmt::format("f{}", *rc::gen::inRange(0, 15));
      if (*rc::gen::inRange(0, 3) == 0) {
        model.erase(name);
        std::filesystem::remove(fx.tree() / name);
      } else {
        model[name] = *rc::gen::arbitrary<std::string>();
        write_raw(fx.tree() / name, model[name]);
      }
    }
    const auto batch = static_cast<std::size_t>(*rc::gen::inRange(1, 6));
    const bool interrupt = *rc::gen::arbitrary<bool>();
    bool interrupted = false;
    if (interrupt && model.size() > batch) {
      const auto failing = static_cast<std::size_t>(*rc::gen::inRange<int>(1, 3));
      ScanOptions options;
      options.batch_entries = batch;
      options.before_batch_write = [failing](std::size_t number) -> Result<void> {
        if (number == failing) return fail(Error(ErrorCategory::file_system, "injected"));
        return ok();
      };
      // Fails only if the changes needed more batches than `failing`.
      interrupted = !fx.scanner().scan(options).has_value();
      if (interrupted) {
        auto since = fx.scanner().since(cursor);
        RC_ASSERT(since.has_value());
        RC_ASSERT(since->fresh_instance);
      } else {
        cursor.clear();  // that scan completed: `before` is stale, compare with the index
      }
    }
    ScanOptions options;
    options.batch_entries = batch;
    const ChangeSet result = fx.scan(options);
    std::set<std::string> reported;
    for (const auto& change : result.changes) reported.insert(change.path);
    std::set<std::string> expected;
    if (interrupted) {
      RC_ASSERT(result.fresh_instance);
      for (const auto& [path, content] : model) expected.insert(path);
      RC_ASSERT(reported == expected);
    } else if (!cursor.empty()) {
      for (const auto& [path, content] : model) {
        if (!before.contains(path) || before.at(path) != content) expected.insert(path);
      }
      for (const auto& [path, content] : before) {
        if (!model.contains(path)) expected.insert(path);
      }
      RC_ASSERT(reported == expected);
      auto since = fx.scanner().since(cursor);
      RC_ASSERT(since.has_value());
      std::set<std::string> since_paths;
      for (const auto& change : since->changes) since_paths.insert(change.path);
      RC_ASSERT(since_paths == expected);
    }
    RC_ASSERT(!fx.index().meta()->incomplete);
    cursor = result.cursor;
  }
}

}  // namespace
}  // namespace forge::scan
