// ccache from Debian against a real `forge serve`, in each of ccache's remote layouts:
//   bazel    remote_storage = http://HOST:PORT/|layout=bazel, with --ac-raw (ccache keeps its
//            own entries under /ac/)
//   subdirs  remote_storage = http://HOST:PORT/ccache (the default: PREFIX/<2 chars>/<rest>),
//            raw entries
//   flat     remote_storage = http://HOST:PORT/ccache|layout=flat (PREFIX/<key>), raw entries
//            under a server restricted to --raw-prefix /ccache/
// Compile a small C project, wipe the local cache, compile again: the second round must be
// all remote hits.
#include <gtest/gtest.h>

#include "serve_fixture.h"

namespace forge::test {
namespace {

// ccache --print-stats: "<key>\t<value>" lines.
long stat_value(const std::string& stats, const std::string& key) {
  const auto at = stats.find("\n" + key + "\t");
  if (at == std::string::npos) return -1;
  return std::stol(stats.substr(at + key.size() + 2));
}

struct Layout {
  std::string name;
  std::vector<std::string> serve_args;
  std::string storage_suffix;  // appended to the server's URL
};

class CcacheIntegrationTest : public ::testing::TestWithParam<Layout> {};

TEST_P(CcacheIntegrationTest, SecondBuildAfterWipingTheLocalCacheIsAllRemoteHits) {
  if (run_shell("ccache --version && cc --version").exit_code != 0) {
    GTEST_SKIP() << "ccache or cc is not installed (scripts/install-deps.sh installs them)";
  }
  const Layout& layout = GetParam();
  ServeFixture server(layout.serve_args);
  ASSERT_TRUE(server.started()) << server.log();
  const auto& dir = server.dir();
  constexpr int k_files = 6;
  for (int i = 0; i < k_files; ++i) {
    dir.write_file("src/unit" + std::to_string(i) + ".c",
                   "#include <stdio.h>\nint unit" + std::to_string(i) +
                       "(int x) { printf(\"%d\\n\", x); return x * " + std::to_string(i + 2) +
                       "; }\n");
  }
  const std::string env =
      "export CCACHE_DIR=" + shell_quote((dir / "ccache").string()) +
      " CCACHE_REMOTE_STORAGE=" + shell_quote(server.url() + layout.storage_suffix) +
      " CCACHE_CONFIGPATH=/dev/null CCACHE_NOHASHDIR=1; cd " + shell_quote((dir / "src").string()) +
      "; ";
  const std::string build =
      "for f in unit*.c; do ccache cc -O2 -c $f -o ${f%.c}.o || exit 1; done; ";
  const auto first = run_shell(env + "ccache -z >/dev/null; " + build + "ccache --print-stats");
  ASSERT_EQ(first.exit_code, 0) << first.err << server.log();
  const std::string first_stats = "\n" + first.out;
  EXPECT_EQ(stat_value(first_stats, "cache_miss"), k_files) << first.out;
  EXPECT_EQ(stat_value(first_stats, "remote_storage_error"), 0) << first.out << server.log();

  const auto second = run_shell(env + "rm -rf " + shell_quote((dir / "ccache").string()) +
                                " *.o; ccache -z >/dev/null; " + build + "ccache --print-stats");
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const std::string stats = "\n" + second.out;
  EXPECT_EQ(stat_value(stats, "cache_miss"), 0) << second.out;
  EXPECT_EQ(stat_value(stats, "remote_storage_hit"), k_files) << second.out;
  EXPECT_EQ(stat_value(stats, "remote_storage_error"), 0) << second.out;
  for (int i = 0; i < k_files; ++i) {
    EXPECT_TRUE(std::filesystem::exists(dir / ("src/unit" + std::to_string(i) + ".o")));
  }
  // The entries went where the layout puts them: raw entries are served by the raw endpoint.
  const auto metrics = curl(server.url() + "/metrics").out;
  const bool raw_served =
      metrics.find("http_requests_total{endpoint=\"raw\"}") != std::string::npos &&
      metrics.find("http_requests_total{endpoint=\"raw\"} 0") == std::string::npos;
  EXPECT_EQ(raw_served, layout.name != "bazel") << metrics;
  EXPECT_EQ(server.stop(), 0) << server.log();
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, CcacheIntegrationTest,
    ::testing::Values(Layout{"bazel", {"--ac-raw"}, "/|layout=bazel"},
                      Layout{"subdirs", {}, "/ccache"},
                      Layout{"flat", {"--raw-prefix", "/ccache/"}, "/ccache|layout=flat"}),
    [](const ::testing::TestParamInfo<Layout>& info) { return info.param.name; });

}  // namespace
}  // namespace forge::test
