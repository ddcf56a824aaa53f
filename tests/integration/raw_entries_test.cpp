// Raw entries (any path that is not one of Forge's own routes: ccache's subdirs and flat
// layouts, Gradle's HTTP build cache) through curl against a real `forge serve`: put, get,
// head, overwrite, misses; read-only, auth, size limit and LRU like every other entry;
// --raw-prefix restricts them or turns them off; --instances isolated.
#include <gtest/gtest.h>

#include "serve_fixture.h"

namespace forge::test {
namespace {

using namespace std::chrono_literals;

std::string put(const ServeFixture& server, const std::string& path, const std::string& content,
                const std::string& extra = {}) {
  const auto file = server.dir().write_file("upload", content);
  return curl("-o /dev/null -X PUT --data-binary @" + shell_quote(file.string()) + " " + extra +
              " " + server.url() + path)
      .out;
}

std::string code_of(const ProcessResult& result) {
  return result.out.size() >= 3 ? result.out.substr(result.out.size() - 3) : result.out;
}

TEST(RawEntriesTest, PutGetHeadOverwriteAndMisses) {
  ServeFixture server;
  ASSERT_TRUE(server.started()) << server.log();
  EXPECT_EQ(put(server, "/ccache/ab/cdef0123", "subdirs entry"), "200");
  EXPECT_EQ(curl(server.url() + "/ccache/ab/cdef0123").out, "subdirs entry200");
  const auto head = run_shell("curl -sI " + server.url() + "/ccache/ab/cdef0123");
  EXPECT_NE(head.out.find("200 OK"), std::string::npos) << head.out;
  EXPECT_NE(head.out.find("Content-Length: 13"), std::string::npos) << head.out;
  // Another path is another entry, even when its characters are the same.
  const auto miss = curl(server.url() + "/ccache/abcdef0123");
  EXPECT_EQ(code_of(miss), "404");
  EXPECT_NE(miss.out.find("entry /ccache/abcdef0123 is not in the cache"), std::string::npos)
      << miss.out;
  EXPECT_EQ(curl("-o /dev/null -I " + server.url() + "/ccache/abcdef0123").out, "404");
  // A PUT replaces the value; an empty value is a value.
  EXPECT_EQ(put(server, "/ccache/ab/cdef0123", "second version"), "200");
  EXPECT_EQ(curl(server.url() + "/ccache/ab/cdef0123").out, "second version200");
  EXPECT_EQ(put(server, "/gradle/0123456789abcdef", ""), "200");
  EXPECT_EQ(curl(server.url() + "/gradle/0123456789abcdef").out, "200");
  EXPECT_EQ(curl("-o /dev/null -X DELETE " + server.url() + "/ccache/ab/cdef0123").out, "405");
  const auto root = curl(server.url() + "/");
  EXPECT_EQ(code_of(root), "404");
  EXPECT_NE(root.out.find("raw entry /<name>"), std::string::npos) << root.out;
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST(RawEntriesTest, ReadOnlyAuthAndTheSizeLimitApplyToRawEntries) {
  TempDir secrets;
  secrets.write_file("tokens", "tok-0123456789abcdef\n");
  ServeFixture server({"--tokens", (secrets / "tokens").string(), "--max-blob-size", "1K"});
  ASSERT_TRUE(server.started()) << server.log();
  const std::string bearer = "-H 'Authorization: Bearer tok-0123456789abcdef'";
  EXPECT_EQ(put(server, "/ccache/ab/cd", "guarded"), "401");
  EXPECT_EQ(put(server, "/ccache/ab/cd", "guarded", bearer), "200");
  EXPECT_EQ(curl("-o /dev/null " + server.url() + "/ccache/ab/cd").out, "401");
  EXPECT_EQ(curl(bearer + " " + server.url() + "/ccache/ab/cd").out, "guarded200");
  EXPECT_EQ(put(server, "/ccache/ab/big", std::string(2048, 'z'), bearer), "413");
  EXPECT_EQ(curl("-o /dev/null " + bearer + " " + server.url() + "/ccache/ab/big").out, "404");

  ServeFixture read_only({"--read-only"});
  ASSERT_TRUE(read_only.started()) << read_only.log();
  EXPECT_EQ(put(read_only, "/ccache/ab/cd", "refused"), "403");
  EXPECT_EQ(curl("-o /dev/null " + read_only.url() + "/ccache/ab/cd").out, "404");
}

TEST(RawEntriesTest, RawEntriesAreEvictedLeastRecentlyUsedFirst) {
  ServeFixture server({"--max-size", "256K"});
  ASSERT_TRUE(server.started()) << server.log();
  // Distinct values: the store keeps one copy of equal values.
  auto value = [](int i) { return std::to_string(i) + std::string(16 * 1024, 'v'); };
  EXPECT_EQ(put(server, "/ccache/first", value(-1)), "200");
  for (int i = 0; i < 40; ++i) {  // 640 KiB: well past the limit
    ASSERT_EQ(put(server, "/ccache/filler" + std::to_string(i), value(i)), "200");
  }
  // Eviction runs in the background once the store passes its high watermark.
  std::string first = "200";
  for (int tries = 0; tries < 100 && first == "200"; ++tries) {
    first = curl("-o /dev/null " + server.url() + "/ccache/first").out;
    if (first == "200") std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(first, "404") << server.log();
  EXPECT_EQ(curl("-o /dev/null " + server.url() + "/ccache/filler39").out, "200");
}

TEST(RawEntriesTest, RawPrefixRestrictsRawEntriesOrTurnsThemOff) {
  {
    ServeFixture server({"--raw-prefix", "/ccache/"});
    ASSERT_TRUE(server.started()) << server.log();
    EXPECT_EQ(put(server, "/ccache/ab/cd", "inside"), "200");
    EXPECT_EQ(curl(server.url() + "/ccache/ab/cd").out, "inside200");
    const auto outside = curl("-X PUT --data-binary x " + server.url() + "/gradle/abcd");
    EXPECT_EQ(code_of(outside), "404");
    EXPECT_NE(outside.out.find("raw entry /ccache/<name> (--raw-prefix)"), std::string::npos)
        << outside.out;
    EXPECT_NE(curl(server.url() + "/status").out.find("\"raw_prefix\": \"/ccache/\""),
              std::string::npos);
  }
  {
    ServeFixture server({"--raw-prefix", "off"});
    ASSERT_TRUE(server.started()) << server.log();
    const auto off = curl("-X PUT --data-binary x " + server.url() + "/ccache/ab/cd");
    EXPECT_EQ(code_of(off), "404");
    EXPECT_NE(off.out.find("raw entries are off"), std::string::npos) << off.out;
    // Forge's own routes are unaffected.
    EXPECT_EQ(curl(server.url() + "/healthz").out, "ok\n200");
  }
  // A bad value is a usage error naming the flag's value and the fix.
  TempDir dir;
  const auto bad_flag = run_shell(shell_quote(forge_binary().string()) +
                                  " serve --http-port 0 --no-grpc --raw-prefix ccache --dir " +
                                  shell_quote((dir / "store").string()));
  EXPECT_EQ(bad_flag.exit_code, 2);
  EXPECT_NE(bad_flag.err.find("raw entry prefix 'ccache'"), std::string::npos) << bad_flag.err;
}

// An ActionResult with exit_code 1 (field 4) and no outputs: valid, references nothing.
constexpr std::string_view k_action_result = "\x20\x01";

TEST(RawEntriesTest, InstancesShareTheActionCacheUnlessIsolated) {
  const std::string action(64, 'a');
  {
    ServeFixture shared;
    ASSERT_TRUE(shared.started()) << shared.log();
    EXPECT_EQ(put(shared, "/team-a/ac/" + action, std::string(k_action_result)), "200");
    EXPECT_EQ(curl("-o /dev/null " + shared.url() + "/team-b/ac/" + action).out, "200");
    EXPECT_EQ(curl("-o /dev/null " + shared.url() + "/ac/" + action).out, "200");
  }
  ServeFixture isolated({"--instances", "isolated"});
  ASSERT_TRUE(isolated.started()) << isolated.log();
  EXPECT_EQ(put(isolated, "/team-a/ac/" + action, std::string(k_action_result)), "200");
  EXPECT_EQ(curl("-o /dev/null " + isolated.url() + "/team-a/ac/" + action).out, "200");
  EXPECT_EQ(curl("-o /dev/null " + isolated.url() + "/team-b/ac/" + action).out, "404");
  EXPECT_EQ(curl("-o /dev/null " + isolated.url() + "/ac/" + action).out, "404");
  EXPECT_NE(curl(isolated.url() + "/status").out.find("\"instances\": \"isolated\""),
            std::string::npos);
  const auto bad = run_shell(shell_quote(forge_binary().string()) +
                             " serve --http-port 0 --no-grpc --instances separate --dir " +
                             shell_quote((isolated.dir() / "other").string()));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("instance mode 'separate'"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace forge::test
