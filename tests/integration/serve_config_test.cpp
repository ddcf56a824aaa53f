// `forge --config FILE serve`: the server.* and cache.* keys of a config file drive a real
// server exactly as the flags do (an upstream tier, raw-entry prefix, read-only, store
// size), the flags override the file, and an invalid key stops the server before it starts,
// naming the key and the fix.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forge/test/process.h"
#include "serve_fixture.h"

namespace forge::test {
namespace {

std::string sha256_hex(const std::string& content) {
  return run_shell("printf %s " + shell_quote(content) + " | sha256sum | cut -c1-64")
      .out.substr(0, 64);
}

// PUT content at path; the HTTP status.
std::string put(const ServeFixture& server, const std::string& path, const std::string& content) {
  return run_shell("printf %s " + shell_quote(content) +
                   " | curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @- " +
                   server.url() + path)
      .out;
}

nlohmann::json status(const ServeFixture& server) {
  return nlohmann::json::parse(run_shell("curl -s " + server.url() + "/status").out, nullptr,
                               false);
}

std::filesystem::path write_config(const TempDir& dir, const nlohmann::json& config) {
  return dir.write_file("forge.json", config.dump(2));
}

TEST(ServeConfigTest, AnUpstreamAndARawPrefixFromTheFileAreUsed) {
  ServeFixture upstream({"--no-grpc"});
  ASSERT_TRUE(upstream.started()) << upstream.log();
  TempDir dir;
  const auto config = write_config(
      dir,
      {{"server", {{"raw_prefix", "/ccache/"}}},
       {"cache",
        {{"upstream", upstream.url() + "/"}, {"upstream_write", "through"}, {"max_size", "1G"}}}});
  ServeFixture front({"--no-grpc"}, {"--config", config.string()});
  ASSERT_TRUE(front.started()) << front.log();

  const auto shown = status(front);
  ASSERT_TRUE(shown.contains("upstream")) << shown.dump();
  EXPECT_EQ(shown["upstream"]["write"], "through");
  EXPECT_EQ(shown["max_size"], 1ull << 30);
  EXPECT_EQ(shown["raw_prefix"], "/ccache/");

  // Written through: the upstream has the blob as soon as the front server answers.
  const std::string content = "configured, not flagged";
  const std::string sha = sha256_hex(content);
  EXPECT_EQ(put(front, "/cas/" + sha, content), "200");
  EXPECT_EQ(curl("-o - " + upstream.url() + "/cas/" + sha).out, content + "200");

  // Raw entries only under the configured prefix (the default, "/", would take this one).
  const auto outside = curl("-X PUT --data-binary x " + front.url() + "/gradle/abcdef");
  EXPECT_TRUE(outside.out.ends_with("404")) << outside.out;
  EXPECT_NE(outside.out.find("raw entry /ccache/<name>"), std::string::npos) << outside.out;
  EXPECT_EQ(front.stop(), 0) << front.log();
}

TEST(ServeConfigTest, FlagsOverrideTheFile) {
  TempDir dir;
  const auto config = write_config(
      dir, {{"server", {{"raw_prefix", "/ccache/"}}}, {"cache", {{"max_size", "1G"}}}});
  ServeFixture server({"--no-grpc", "--raw-prefix", "/", "--max-size", "2G"},
                      {"--config", config.string()});
  ASSERT_TRUE(server.started()) << server.log();
  const auto shown = status(server);
  EXPECT_EQ(shown["raw_prefix"], "/");
  EXPECT_EQ(shown["max_size"], 2ull << 30);
  EXPECT_FALSE(shown.contains("upstream"));
  EXPECT_EQ(put(server, "/gradle/abcdef", "anywhere"), "200");
}

TEST(ServeConfigTest, ReadOnlyFromTheFileRefusesWrites) {
  TempDir dir;
  const auto config = write_config(dir, {{"server", {{"read_only", true}}}});
  ServeFixture server({"--no-grpc"}, {"--config", config.string()});
  ASSERT_TRUE(server.started()) << server.log();
  const std::string content = "never stored";
  EXPECT_EQ(put(server, "/cas/" + sha256_hex(content), content), "403");
  EXPECT_EQ(status(server)["read_only"], true);
}

TEST(ServeConfigTest, AnInvalidKeyStopsTheServerNamingTheKeyAndTheFix) {
  TempDir dir;
  const auto config =
      write_config(dir, {{"cache", {{"upstream", "grpc://127.0.0.1:9092"}, {"max_size", "lots"}}}});
  const auto result =
      run_shell(shell_quote(forge_binary().string()) + " --config " + shell_quote(config.string()) +
                " serve --no-grpc --http-port 0 --dir " + shell_quote((dir / "store").string()));
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("cache.upstream"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("s3://"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("cache.max_size"), std::string::npos) << result.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "store"));
}

}  // namespace
}  // namespace forge::test
