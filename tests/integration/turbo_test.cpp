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
// signed: remoteCache.signature on, so turbo sends x-artifact-tag and verifies it on a hit.
void write_workspace(const TempDir& dir, bool signed_artifacts = false) {
  dir.write_file("ws/package.json",
                 R"({"name": "ws", "private": true, "packageManager": "npm@9.2.0",)"
                 R"( "workspaces": ["packages/*"]})");
  dir.write_file("ws/turbo.json",
                 std::string(signed_artifacts ? R"({"remoteCache": {"signature": true}, )" : "{") +
                     R"("tasks": {"build": {"outputs": ["dist/**"]}}})");
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

TEST(TurboIntegrationTest, SignedArtifactsKeepTheirTagAndAWrongKeyIsAMiss) {
  if (run_shell("turbo --version").exit_code != 0) {
    GTEST_SKIP() << "turbo is not installed (scripts/install-deps.sh installs it from npm)";
  }
  ServeFixture server;
  ASSERT_TRUE(server.started()) << server.log();
  const auto& dir = server.dir();
  write_workspace(dir, /*signed_artifacts=*/true);
  // turbo wants keys of at least 32 bytes.
  const std::string k_key = "forge-test-signing-key-0123456789abcdef";
  const std::string k_other_key = "another-signing-key-0123456789abcdefgh";
  const auto env = [&](const std::string& key) {
    return "export TURBO_API=" + shell_quote(server.url()) +
           " TURBO_TOKEN=any TURBO_TEAM=forge-team TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1"
           " TURBO_NO_UPDATE_NOTIFIER=1 TURBO_UI=0 TURBO_REMOTE_CACHE_SIGNATURE_KEY=" +
           key + " HOME=" + shell_quote(dir.path().string()) + "; cd " +
           shell_quote((dir / "ws").string()) +
           "; rm -rf .turbo packages/*/dist packages/*/.turbo; ";
  };
  const std::string run = "turbo run build --output-logs=full 2>&1";
  const auto first = run_shell(env(k_key) + run);
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err << server.log();
  EXPECT_EQ(count_of(first.out, "cache miss, executing"), 2u) << first.out;

  // Same key, local cache wiped: both tasks verify their tag and replay from Forge.
  const auto second = run_shell(env(k_key) + run);
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  EXPECT_EQ(count_of(second.out, "cache hit, replaying logs"), 2u) << second.out << server.log();
  EXPECT_EQ(dir.read_file("ws/packages/alpha/dist/out.txt"), "built alpha\n");

  // Another key: the stored tags do not verify, so turbo runs the tasks (a miss, not a hit).
  const auto other = run_shell(env(k_other_key) + run);
  ASSERT_EQ(other.exit_code, 0) << other.out << other.err;
  EXPECT_EQ(count_of(other.out, "cache hit, replaying logs"), 0u) << other.out;
  EXPECT_EQ(dir.read_file("ws/packages/beta/dist/out.txt"), "built beta\n");
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST(TurboIntegrationTest, TheArtifactTagRoundTripsAndABadOneIsRefused) {
  ServeFixture server;
  ASSERT_TRUE(server.started()) << server.log();
  const std::string url = server.url() + "/v8/artifacts/abc123?slug=team";
  const auto put = curl("-o /dev/null -X PUT -H 'x-artifact-tag: c2lnbmVk+/=' --data-binary body " +
                        shell_quote(url));
  EXPECT_EQ(put.out, "200");
  const auto got = run_shell("curl -s -D - " + shell_quote(url));
  EXPECT_NE(got.out.find("x-artifact-tag: c2lnbmVk+/="), std::string::npos) << got.out;
  EXPECT_NE(got.out.find("\r\n\r\nbody"), std::string::npos) << got.out;
  const auto head = run_shell("curl -s -I " + shell_quote(url));
  EXPECT_NE(head.out.find("x-artifact-tag: c2lnbmVk+/="), std::string::npos) << head.out;
  // Another team's artifact of the same hash has neither the body nor the tag.
  const auto other_team =
      run_shell("curl -s -D - " + shell_quote(server.url() + "/v8/artifacts/abc123?slug=x"));
  EXPECT_EQ(other_team.out.find("x-artifact-tag"), std::string::npos) << other_team.out;
  // An unsigned artifact has no tag.
  EXPECT_EQ(curl("-o /dev/null -X PUT --data-binary plain " +
                 shell_quote(server.url() + "/v8/artifacts/def456?slug=team"))
                .out,
            "200");
  const auto plain =
      run_shell("curl -s -D - " + shell_quote(server.url() + "/v8/artifacts/def456?slug=team"));
  EXPECT_EQ(plain.out.find("x-artifact-tag"), std::string::npos) << plain.out;
  // A tag that could not be a header value is refused, and nothing is stored.
  const std::string long_tag(300, 'a');
  EXPECT_EQ(curl("-o /dev/null -X PUT -H 'x-artifact-tag: " + long_tag + "' --data-binary x " +
                 shell_quote(server.url() + "/v8/artifacts/fff999?slug=team"))
                .out,
            "400");
  EXPECT_EQ(
      curl("-o /dev/null " + shell_quote(server.url() + "/v8/artifacts/fff999?slug=team")).out,
      "404");
  EXPECT_EQ(server.stop(), 0) << server.log();
}

}  // namespace
}  // namespace forge::test
