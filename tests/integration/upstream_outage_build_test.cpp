// Issue 13's fault acceptance with a real build: ccache compiles through F, a `forge serve`
// in front of an upstream U (another `forge serve`); U is killed with SIGKILL half-way
// through the build. The build still succeeds from F's local tier, with no remote-storage
// error; once U is back (same port, same store) F's queue drains, and a third server B with
// an empty store in front of U serves every object of the build as a remote hit.
#include <signal.h>

#include <gtest/gtest.h>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"
#include "serve_fixture.h"

namespace forge::test {
namespace {

using namespace std::chrono_literals;

// One counter of `ccache --print-stats` ("<key>\t<value>" lines); -1 when absent.
long counter(const std::string& stats, const std::string& key) {
  const std::string text = "\n" + stats;
  const auto at = text.find("\n" + key + "\t");
  return at == std::string::npos ? -1 : std::stol(text.substr(at + key.size() + 2));
}

TEST(UpstreamOutageBuildTest, AnUpstreamKilledMidBuildLosesNothingAndTheQueueDrainsAfter) {
  if (run_shell("ccache --version && cc --version").exit_code != 0) {
    GTEST_SKIP() << "ccache or cc is not installed (scripts/install-deps.sh installs them)";
  }
  constexpr int k_files = 8;
  TempDir work;
  for (int i = 0; i < k_files; ++i) {
    work.write_file("src/part" + std::to_string(i) + ".c", "int part" + std::to_string(i) +
                                                               "(int x) { return x + " +
                                                               std::to_string(i * 7 + 1) + "; }\n");
  }
  // Compiles parts [first, last) through `server` with the given local ccache state.
  const auto build = [&](const ServeFixture& server, int first, int last, bool wipe) {
    std::string compile;
    for (int i = first; i < last; ++i) {
      compile += "ccache cc -O2 -c part" + std::to_string(i) + ".c -o part" + std::to_string(i) +
                 ".o || exit 1; ";
    }
    return run_shell("export CCACHE_DIR=" + shell_quote((work / "ccache").string()) +
                     " CCACHE_REMOTE_STORAGE=" + shell_quote(server.url() + "/ccache") +
                     " CCACHE_CONFIGPATH=/dev/null CCACHE_NOHASHDIR=1; " +
                     (wipe ? "rm -rf \"$CCACHE_DIR\"; " : "") + "cd " +
                     shell_quote((work / "src").string()) + " && ccache -z >/dev/null && " +
                     compile + "ccache --print-stats");
  };

  ServeFixture upstream({"--no-grpc"});  // kept: its temp dir holds the store U restarts on
  ASSERT_TRUE(upstream.started()) << upstream.log();
  ServeFixture front({"--no-grpc", "--upstream", upstream.url()});
  ASSERT_TRUE(front.started()) << front.log();

  const auto first_half = build(front, 0, k_files / 2, true);
  ASSERT_EQ(first_half.exit_code, 0) << first_half.err << front.log();
  ::kill(upstream.pid(), SIGKILL);  // mid-build
  (void)upstream.wait_for_exit();
  const auto second_half = build(front, k_files / 2, k_files, false);
  ASSERT_EQ(second_half.exit_code, 0) << second_half.err << front.log();
  EXPECT_EQ(counter(second_half.out, "cache_miss"), k_files / 2) << second_half.out;
  EXPECT_EQ(counter(second_half.out, "remote_storage_error"), 0) << second_half.out << front.log();
  // What the second half wrote is acknowledged and waiting for the upstream.
  EXPECT_GE(front.upstream_status()["queue_length"].get<int>(), k_files / 2)
      << front.upstream_status().dump();

  ServeFixture back({"--no-grpc", "--http-port", std::to_string(upstream.http_port()), "--dir",
                     upstream.store().string()});
  ASSERT_TRUE(back.started()) << back.log();
  ASSERT_TRUE(front.wait_for_empty_upload_queue(60s))
      << front.upstream_status().dump() << front.log();

  ServeFixture other({"--no-grpc", "--upstream", back.url()});
  ASSERT_TRUE(other.started()) << other.log();
  const auto everything = build(other, 0, k_files, true);
  ASSERT_EQ(everything.exit_code, 0) << everything.err << other.log();
  EXPECT_EQ(counter(everything.out, "remote_storage_hit"), k_files) << everything.out;
  EXPECT_EQ(counter(everything.out, "cache_miss"), 0) << everything.out;
}

}  // namespace
}  // namespace forge::test
