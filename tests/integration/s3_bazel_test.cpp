// Issue 13's acceptance with Bazel (label `stress`: about a minute): two `forge serve` with
// empty local stores share one bucket on Ceph's RADOS Gateway (s3_test_server.h). Bazel
// builds bazel_workspace.h's workspace with --remote_cache=A; once A's queue has drained A
// is stopped, `bazel clean` drops the outputs, and the build against B is all remote cache
// hits: B reads the action results (validated: every output in some tier) and their
// outputs through from the bucket.
#include <regex>

#include <gtest/gtest.h>

#include "bazel_workspace.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"
#include "s3_test_server.h"
#include "serve_fixture.h"

namespace forge::test {
namespace {

using namespace std::chrono_literals;

// "INFO: 8 processes: 4 remote cache hit, 4 internal." -> 4
int remote_cache_hits(const std::string& output) {
  std::smatch match;
  if (!std::regex_search(output, match, std::regex(R"((\d+) remote cache hit)"))) return 0;
  return std::stoi(match[1]);
}

TEST(S3BazelTest, OutputsUploadedThroughOneServerAreRemoteCacheHitsThroughAnother) {
  if (run_shell("bazel --version").exit_code != 0) {
    GTEST_SKIP() << "bazel is not installed (Debian package bazel-bootstrap)";
  }
  const S3TestServer s3;
  ASSERT_TRUE(s3.started()) << "the S3 server did not start: " << s3.failure();
  ASSERT_TRUE(s3.make_bucket("forge-bazel"));
  auto args = s3.upstream_flags("forge-bazel", "ci");
  args.insert(args.end(), {"--no-grpc", "--no-fsync"});
  TempDir work;
  write_workspace(work);
  const std::string bazel =
      "cd " + shell_quote((work / "ws").string()) +
      " && bazel --batch --output_user_root=" + shell_quote((work / "bazel-root").string());
  const auto build = [&](const ServeFixture& server) {
    return run_shell(bazel + " build --remote_cache=" + server.url() + " //... 2>&1");
  };
  {
    ServeFixture a(args);
    ASSERT_TRUE(a.started()) << a.log();
    const auto first = build(a);
    ASSERT_EQ(first.exit_code, 0) << first.out << a.log();
    EXPECT_EQ(remote_cache_hits(first.out), 0) << first.out;
    ASSERT_TRUE(a.wait_for_empty_upload_queue(30s)) << a.upstream_status().dump() << a.log();
    EXPECT_EQ(a.upstream_status()["upload_errors"], 0) << a.upstream_status().dump();
    EXPECT_EQ(a.stop(), 0) << a.log();
  }
  // 4 action results, their outputs (and stdout/stderr blobs) in the bucket.
  EXPECT_EQ(s3.list_keys("forge-bazel", "ci/ac/").size(), 4u);
  EXPECT_GE(s3.list_keys("forge-bazel", "ci/cas/").size(), 4u);
  ASSERT_EQ(run_shell(bazel + " clean 2>&1").exit_code, 0);

  ServeFixture b(args);
  ASSERT_TRUE(b.started()) << b.log();
  const auto second = build(b);
  ASSERT_EQ(second.exit_code, 0) << second.out << b.log();
  // genrule x2, compile, link: every spawned action comes from the cache.
  EXPECT_EQ(remote_cache_hits(second.out), 4) << second.out << b.log();
  std::smatch summary;
  ASSERT_TRUE(
      std::regex_search(second.out, summary, std::regex(R"(INFO: \d+ processes: ([^\n]*))")));
  EXPECT_EQ(summary[1].str().find("sandbox"), std::string::npos) << summary[0];
  EXPECT_EQ(summary[1].str().find("local"), std::string::npos) << summary[0];
  EXPECT_EQ(run_shell(shell_quote((work / "ws/bazel-bin/hello").string())).out,
            "hello from a genrule\n");
  const auto status = b.upstream_status();
  EXPECT_GE(status["fetch_hits"].get<long>(), 4) << status.dump();
  EXPECT_EQ(status["corrupt"], 0) << status.dump();
  EXPECT_EQ(b.stop(), 0) << b.log();
}

}  // namespace
}  // namespace forge::test
