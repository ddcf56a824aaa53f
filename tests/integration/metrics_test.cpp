// /metrics of a real `forge serve` after HTTP and gRPC traffic, checked by Prometheus' own
// linter (`promtool check metrics`, Debian package prometheus): counters end in _total, no
// family mixes an unlabelled series with labelled ones, every family has a HELP text.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "serve_fixture.h"

namespace forge::test {
namespace {

TEST(MetricsIntegrationTest, MetricsPassPromtoolCheckMetrics) {
  if (run_shell("promtool --version").exit_code != 0) {
    GTEST_SKIP() << "promtool is not installed (scripts/install-deps.sh installs prometheus)";
  }
  ServeFixture server;
  ASSERT_TRUE(server.started()) << server.log();
  // Traffic on every endpoint, so that the labelled series exist.
  const std::string hex(64, 'a');
  for (const std::string& path :
       std::vector<std::string>{"/cas/" + hex, "/ac/" + hex, "/ccache/ab/cd",
                                "/v8/artifacts/0123?slug=t", "/status", "/healthz", "/nope/"}) {
    curl("-o /dev/null " + server.url() + path);
  }
  curl("-o /dev/null -X PUT --data-binary x " + server.url() + "/ccache/ab/cd");
  const auto file = server.dir() / "metrics.txt";
  ASSERT_EQ(curl("-o " + shell_quote(file.string()) + " " + server.url() + "/metrics").out, "200");
  const auto checked = run_shell("promtool check metrics < " + shell_quote(file.string()));
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_EQ(checked.out + checked.err, "") << server.dir().read_file("metrics.txt");
  // Every family says what it counts: no HELP text that merely repeats the name.
  const std::string metrics = server.dir().read_file("metrics.txt");
  std::size_t at = 0;
  while ((at = metrics.find("# HELP ", at)) != std::string::npos) {
    const auto end = metrics.find('\n', at);
    const std::string line = metrics.substr(at + 7, end - at - 7);
    const auto space = line.find(' ');
    EXPECT_NE(line.substr(space + 1), line.substr(0, space)) << line;
    at = end;
  }
  EXPECT_EQ(server.stop(), 0) << server.log();
}

}  // namespace
}  // namespace forge::test
