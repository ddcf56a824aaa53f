// `forge watch` through the real binary: events, SIGTERM exit code, index kept current.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge {
namespace {

using test::shell_quote;

TEST(WatchCommandTest, PrintsEventsUpdatesTheIndexAndExitsZeroOnSigterm) {
  test::TempDir dir;
  dir.write_file("tree/old", "1");
  const std::string forge = shell_quote(test::forge_binary().string());
  const std::string tree = shell_quote((dir / "tree").string());
  const std::string index = shell_quote((dir / "index").string());
  ASSERT_EQ(test::run_shell(forge + " scan --index-dir " + index + " " + tree).exit_code, 0);
  const auto result =
      test::run_shell(forge + " watch --json --update-index --debounce-ms 10 --index-dir " + index +
                      " " + tree + " > " + shell_quote((dir / "events").string()) +
                      " & pid=$!; sleep 1; echo new > " + shell_quote((dir / "tree/new").string()) +
                      "; sleep 1; kill -TERM $pid; wait $pid; echo exit=$?");
  EXPECT_NE(result.out.find("exit=0"), std::string::npos) << result.out << result.err;
  const std::string events = dir.read_file("events");
  EXPECT_NE(events.find(R"({"event":"created","path":"new"})"), std::string::npos) << events;
  // The watcher already put "new" into the index: a scan now finds nothing new.
  const auto scan = test::run_shell(forge + " scan --json --index-dir " + index + " " + tree);
  const auto answer = nlohmann::json::parse(scan.out);
  EXPECT_TRUE(answer["changes"].empty()) << scan.out;
}

}  // namespace
}  // namespace forge

namespace forge {
namespace {

// With a watcher keeping the index, `scan --since` syncs through a cookie and answers from
// the index alone — including a change still inside the watcher's debounce window.
TEST(WatchCommandTest, ScanSinceAnswersFromTheWatcherWithoutWalking) {
  test::TempDir dir;
  dir.write_file("tree/a", "1");
  const std::string forge = shell_quote(test::forge_binary().string());
  const std::string tree = shell_quote((dir / "tree").string());
  const std::string index = shell_quote((dir / "index").string());
  const auto first = test::run_shell(forge + " scan --json --index-dir " + index + " " + tree);
  const std::string cursor = nlohmann::json::parse(first.out)["cursor"];
  const auto result = test::run_shell(
      forge + " watch --update-index --debounce-ms 60000 --index-dir " + index + " " + tree +
      " >/dev/null 2>&1 & pid=$!; sleep 1; echo changed > " +
      shell_quote((dir / "tree/a").string()) + "; " + forge + " scan --json --since " +
      shell_quote(cursor) + " --index-dir " + index + " " + tree + "; kill -TERM $pid; wait $pid");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto answer = nlohmann::json::parse(result.out);
  EXPECT_EQ(answer["backend"], "watcher");
  ASSERT_EQ(answer["changes"].size(), 1u) << result.out;
  EXPECT_EQ(answer["changes"][0]["path"], "a");
  EXPECT_EQ(answer["changes"][0]["change"], "modified");
}

}  // namespace
}  // namespace forge
