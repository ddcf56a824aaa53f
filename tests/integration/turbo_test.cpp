// Turborepo (`turbo` from npm) against a real `forge serve` through its remote cache API
// (/v8/artifacts): a two-package npm workspace built twice with the local cache wiped in
// between; the second run replays both tasks from the remote cache. Offline: turbo talks only
// to 127.0.0.1 (telemetry off).
#include <gtest/gtest.h>

#include "serve_fixture.h"

namespace forge::test {
namespace {

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

// Two packages whose build writes dist/out.txt; npm's lockfile written as npm 9+ does.
void write_workspace(const TempDir& dir) {
  dir.write_file("ws/package.json",
                 R"({"name": "ws", "private": true, "packageManager": "npm@9.2.0",)"
                 R"( "workspaces": ["packages/*"]})");
  dir.write_file("ws/turbo.json", R"({"tasks": {"build": {"outputs": ["dist/**"]}}})");
  std::string lock = R"({"name": "ws", "lockfileVersion": 3, "requires": true, "packages": {)"
                     R"("": {"name": "ws", "workspaces": ["packages/*"]})";
  for (const std::string name : {"alpha", "beta"}) {
    dir.write_file("ws/packages/" + name + "/package.json",
                   R"({"name": ")" + name + R"(", "version": "1.0.0", "scripts": {"build": )" +
                       R"("mkdir -p dist && echo built )" + name +
                       R"( > dist/out.txt && echo building )" + name + R"("}})");
    lock += R"(, "node_modules/)" + name + R"(": {"resolved": "packages/)" + name +
            R"(", "link": true}, "packages/)" + name + R"(": {"version": "1.0.0"})";
  }
  dir.write_file("ws/package-lock.json", lock + "}}\n");
}

TEST(TurboIntegrationTest, SecondRunAfterWipingTheLocalCacheIsAllRemoteHits) {
  if (run_shell("turbo --version").exit_code != 0) {
    GTEST_SKIP() << "turbo is not installed (scripts/install-deps.sh installs it from npm)";
  }
  TempDir secrets;
  secrets.write_file("tokens", "turbo-token-0123456789\n");
  ServeFixture server({"--tokens", (secrets / "tokens").string()});
  ASSERT_TRUE(server.started()) << server.log();
  const auto& dir = server.dir();
  write_workspace(dir);
  const std::string env =
      "export TURBO_API=" + shell_quote(server.url()) +
      " TURBO_TOKEN=turbo-token-0123456789 TURBO_TEAM=forge-team TURBO_TELEMETRY_DISABLED=1"
      " DO_NOT_TRACK=1 TURBO_NO_UPDATE_NOTIFIER=1 TURBO_UI=0 HOME=" +
      shell_quote(dir.path().string()) + "; cd " + shell_quote((dir / "ws").string()) + "; ";
  const std::string run = "turbo run build --output-logs=full 2>&1";
  const auto first = run_shell(env + run);
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err << server.log();
  EXPECT_EQ(count_of(first.out, "cache miss, executing"), 2u) << first.out;

  const auto second = run_shell(env + "rm -rf .turbo packages/*/dist packages/*/.turbo; " + run);
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(count_of(second.out, "cache hit, replaying logs"), 2u) << second.out << server.log();
  EXPECT_NE(second.out.find("FULL TURBO"), std::string::npos) << second.out;
  EXPECT_EQ(dir.read_file("ws/packages/alpha/dist/out.txt"), "built alpha\n");
  EXPECT_EQ(dir.read_file("ws/packages/beta/dist/out.txt"), "built beta\n");

  // The bearer token guards the artifacts: a wrong one is refused.
  const auto refused = curl("-o /dev/null -H 'Authorization: Bearer wrong' " + server.url() +
                            "/v8/artifacts/0123456789abcdef?slug=forge-team");
  EXPECT_EQ(refused.out, "401");
  EXPECT_EQ(server.stop(), 0) << server.log();
}

}  // namespace
}  // namespace forge::test
