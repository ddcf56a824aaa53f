// Issue 13's acceptance with a real client: two `forge serve` with empty local stores share
// one bucket on Ceph's RADOS Gateway (s3_test_server.h). ccache from Debian compiles a small
// C project against A (remote_storage = A/ccache); once A's upload queue has drained, A is
// stopped, the local ccache is wiped and the project compiled again against B: every
// object is a remote hit that B read through from the bucket.
#include <gtest/gtest.h>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"
#include "s3_test_server.h"
#include "serve_fixture.h"

namespace forge::test {
namespace {

using namespace std::chrono_literals;

// One counter of `ccache --print-stats` ("<key>\t<value>" lines); -1 when absent.
long ccache_counter(const std::string& stats, const std::string& key) {
  const std::string text = "\n" + stats;
  const auto at = text.find("\n" + key + "\t");
  return at == std::string::npos ? -1 : std::stol(text.substr(at + key.size() + 2));
}

class S3ServeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { s_server = new S3TestServer(); }
  static void TearDownTestSuite() { delete s_server; }

  void SetUp() override {
    ASSERT_TRUE(s_server->started()) << "the S3 server did not start: " << s_server->failure();
    m_bucket = "forge-serve-" + std::to_string(++s_buckets);
    ASSERT_TRUE(s_server->make_bucket(m_bucket));
  }

  std::vector<std::string> serve_args() const {
    auto args = s_server->upstream_flags(m_bucket, "team");
    args.insert(args.end(), {"--no-grpc", "--no-fsync"});
    return args;
  }

  static inline S3TestServer* s_server = nullptr;
  static inline int s_buckets = 0;
  std::string m_bucket;
};

TEST_F(S3ServeTest, CcacheOutputsUploadedThroughOneServerAreRemoteHitsThroughAnother) {
  if (run_shell("ccache --version && cc --version").exit_code != 0) {
    GTEST_SKIP() << "ccache or cc is not installed (scripts/install-deps.sh installs them)";
  }
  constexpr int k_files = 6;
  TempDir work;
  for (int i = 0; i < k_files; ++i) {
    work.write_file("src/unit" + std::to_string(i) + ".c",
                    "#include <stdio.h>\nint unit" + std::to_string(i) +
                        "(int x) { printf(\"%d\\n\", x); return x * " + std::to_string(i + 3) +
                        "; }\n");
  }
  // Compiles every unit with a wiped local ccache against `server`; ccache's counters.
  const auto build = [&](const ServeFixture& server) {
    return run_shell(
        "export CCACHE_DIR=" + shell_quote((work / "ccache").string()) +
        " CCACHE_REMOTE_STORAGE=" + shell_quote(server.url() + "/ccache") +
        " CCACHE_CONFIGPATH=/dev/null CCACHE_NOHASHDIR=1; rm -rf \"$CCACHE_DIR\"; cd " +
        shell_quote((work / "src").string()) +
        " && rm -f *.o && for f in unit*.c; do ccache cc -O2 -c $f -o ${f%.c}.o "
        "|| exit 1; done && ccache --print-stats");
  };
  const std::string objects = "cd " + shell_quote((work / "src").string()) + " && sha256sum *.o";

  std::string built;
  {
    ServeFixture a(serve_args());
    ASSERT_TRUE(a.started()) << a.log();
    const auto first = build(a);
    ASSERT_EQ(first.exit_code, 0) << first.err << a.log();
    EXPECT_EQ(ccache_counter(first.out, "cache_miss"), k_files) << first.out;
    EXPECT_EQ(ccache_counter(first.out, "remote_storage_error"), 0) << first.out << a.log();
    built = run_shell(objects).out;
    // Acknowledged locally, then written behind to the bucket.
    ASSERT_TRUE(a.wait_for_empty_upload_queue(30s)) << a.upstream_status().dump() << a.log();
    const auto status = a.upstream_status();
    EXPECT_EQ(status["upload_errors"], 0) << status.dump() << a.log();
    EXPECT_GE(status["uploads"].get<long>(), k_files) << status.dump();
    EXPECT_EQ(a.stop(), 0) << a.log();
  }
  // In the bucket under PREFIX/raw/ (ccache's entries are raw entries), not only in A.
  EXPECT_GE(s_server->list_keys(m_bucket, "team/raw/").size(), std::size_t{k_files});

  ServeFixture b(serve_args());
  ASSERT_TRUE(b.started()) << b.log();
  const auto second = build(b);
  ASSERT_EQ(second.exit_code, 0) << second.err << b.log();
  EXPECT_EQ(ccache_counter(second.out, "cache_miss"), 0) << second.out << b.log();
  EXPECT_EQ(ccache_counter(second.out, "remote_storage_hit"), k_files) << second.out << b.log();
  EXPECT_EQ(ccache_counter(second.out, "remote_storage_error"), 0) << second.out << b.log();
  EXPECT_EQ(run_shell(objects).out, built);  // the same object files, byte for byte
  const auto status = b.upstream_status();
  EXPECT_GE(status["fetch_hits"].get<long>(), k_files) << status.dump();
  EXPECT_EQ(status["corrupt"], 0) << status.dump();
  EXPECT_EQ(b.stop(), 0) << b.log();
}

}  // namespace
}  // namespace forge::test
