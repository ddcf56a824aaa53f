// Bazel from Debian (bazel-bootstrap) against a real `forge serve`: a workspace with two
// genrules and a cc_binary is built with --remote_cache over HTTP and over gRPC; after
// `bazel clean` every action is a remote cache hit. Also: Bazel 4.2 against a read-only cache.
// The workspace is bazel_workspace.h's (offline: no download).
#include <filesystem>
#include <regex>

#include <gtest/gtest.h>

#include "bazel_workspace.h"
#include "serve_fixture.h"

namespace forge::test {
namespace {

// "INFO: 8 processes: 4 remote cache hit, 4 internal." -> 4
int remote_cache_hits(const std::string& output) {
  std::smatch match;
  if (!std::regex_search(output, match, std::regex(R"((\d+) remote cache hit)"))) return 0;
  return std::stoi(match[1]);
}

class BazelIntegrationTest : public ::testing::TestWithParam<std::string> {};

TEST_P(BazelIntegrationTest, AfterCleanEveryActionIsARemoteCacheHit) {
  if (run_shell("bazel --version").exit_code != 0) {
    GTEST_SKIP() << "bazel is not installed (Debian package bazel-bootstrap)";
  }
  // "grpc+token": both listeners require a bearer token, which Bazel sends as a header.
  const bool with_token = GetParam() == "grpc+token";
  TempDir secrets;
  secrets.write_file("tokens", "tok-bazel-0123456789abcdef\n");
  ServeFixture server(with_token
                          ? std::vector<std::string>{"--tokens", (secrets / "tokens").string()}
                          : std::vector<std::string>{});
  ASSERT_TRUE(server.started()) << server.log();
  const auto& dir = server.dir();
  write_workspace(dir);
  const std::string remote =
      (GetParam() == "http" ? server.url()
                            : "grpc://127.0.0.1:" + std::to_string(server.grpc_port())) +
      (with_token ? " --remote_header=Authorization='Bearer tok-bazel-0123456789abcdef'" : "");
  const std::string bazel =
      "cd " + shell_quote((dir / "ws").string()) +
      " && bazel --batch --output_user_root=" + shell_quote((dir / "bazel-root").string());
  const std::string build = bazel + " build --remote_cache=" + remote + " //... 2>&1";
  const auto first = run_shell(build);
  ASSERT_EQ(first.exit_code, 0) << first.out << server.log();
  EXPECT_EQ(remote_cache_hits(first.out), 0) << first.out;
  ASSERT_EQ(run_shell(bazel + " clean 2>&1").exit_code, 0);
  const auto second = run_shell(build);
  ASSERT_EQ(second.exit_code, 0) << second.out;
  // genrule x2, compile, link: every spawned action comes from the cache.
  EXPECT_EQ(remote_cache_hits(second.out), 4) << second.out << server.log();
  std::smatch summary;
  ASSERT_TRUE(
      std::regex_search(second.out, summary, std::regex(R"(INFO: \d+ processes: ([^\n]*))")));
  EXPECT_EQ(summary[1].str().find("sandbox"), std::string::npos)
      << "an action ran locally: " << summary[0];
  EXPECT_EQ(summary[1].str().find("local"), std::string::npos)
      << "an action ran locally: " << summary[0];
  const auto hello = run_shell(shell_quote((dir / "ws/bazel-bin/hello").string()));
  EXPECT_EQ(hello.out, "hello from a genrule\n");
  if (with_token) {  // the same build without the token is refused, not served
    ASSERT_EQ(run_shell(bazel + " clean 2>&1").exit_code, 0);
    const auto anonymous = run_shell(bazel + " build --remote_cache=grpc://127.0.0.1:" +
                                     std::to_string(server.grpc_port()) + " //... 2>&1");
    EXPECT_EQ(remote_cache_hits(anonymous.out), 0) << anonymous.out;
    EXPECT_NE(anonymous.out.find("UNAUTHENTICATED"), std::string::npos) << anonymous.out;
  }
  EXPECT_EQ(server.stop(), 0) << server.log();
}

// Bazel before 6.0 treats a server that says update_enabled = false as fatal ("not
// authorized to write local results", exit 34). Forge tells Bazel 4.2 (known from its
// RequestMetadata) that updates are enabled and refuses the writes themselves: the build
// passes, reads are hits, and nothing is written.
TEST(BazelReadOnlyTest, Bazel42BuildsAgainstAReadOnlyGrpcCacheAndWritesNothing) {
  if (run_shell("bazel --version").exit_code != 0) {
    GTEST_SKIP() << "bazel is not installed (Debian package bazel-bootstrap)";
  }
  TempDir work;
  write_workspace(work);
  const std::string bazel =
      "cd " + shell_quote((work / "ws").string()) +
      " && bazel --batch --output_user_root=" + shell_quote((work / "bazel-root").string());
  auto build = [&](int grpc_port) {
    return run_shell(bazel + " build --remote_cache=grpc://127.0.0.1:" + std::to_string(grpc_port) +
                     " //... 2>&1");
  };
  ServeFixture writable;
  ASSERT_TRUE(writable.started()) << writable.log();
  const auto populate = build(writable.grpc_port());
  ASSERT_EQ(populate.exit_code, 0) << populate.out << writable.log();
  ASSERT_EQ(writable.stop(), 0) << writable.log();

  ServeFixture read_only({"--read-only", "--dir", writable.store().string()});
  ASSERT_TRUE(read_only.started()) << read_only.log();
  ASSERT_EQ(run_shell(bazel + " clean 2>&1").exit_code, 0);
  const auto hits = build(read_only.grpc_port());
  ASSERT_EQ(hits.exit_code, 0) << hits.out << read_only.log();
  EXPECT_EQ(remote_cache_hits(hits.out), 4) << hits.out << read_only.log();

  // A changed input: the genrule runs locally, its upload is refused, the build still passes,
  // and the store holds exactly the files it held before.
  auto store_files = [&] {
    std::size_t files = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(writable.store())) {
      files += entry.is_regular_file() ? 1 : 0;
    }
    return files;
  };
  const std::size_t before = store_files();
  work.write_file("ws/data.txt", "other data\n");
  const auto changed = build(read_only.grpc_port());
  ASSERT_EQ(changed.exit_code, 0) << changed.out << read_only.log();
  EXPECT_EQ(remote_cache_hits(changed.out), 0) << changed.out;
  EXPECT_EQ(store_files(), before) << read_only.log();
  EXPECT_EQ(read_only.stop(), 0) << read_only.log();
}

INSTANTIATE_TEST_SUITE_P(Protocols, BazelIntegrationTest,
                         ::testing::Values("http", "grpc", "grpc+token"), [](const auto& info) {
                           std::string name = info.param;
                           for (auto& c : name) c = std::isalnum(c) ? c : '_';
                           return name;
                         });

}  // namespace
}  // namespace forge::test
