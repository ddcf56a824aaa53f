#include <atomic>
#include <mutex>

#include <gtest/gtest.h>

#include "canned_http_server.h"
#include "forge/cache/upstream.h"
#include "upstream_test_support.h"

namespace forge::cache {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<Upstream> open(const std::string& url, std::string basic_auth = {}) {
  UpstreamOptions options;
  options.url = url;
  options.basic_auth = std::move(basic_auth);
  options.connections = 2;
  options.connect_timeout = 2s;
  options.request_timeout = 2s;
  auto upstream = open_upstream(options);
  EXPECT_TRUE(upstream) << upstream.error().to_string();
  return upstream ? std::move(*upstream) : nullptr;
}

Result<std::optional<std::string>> get(Upstream& upstream, UpstreamSpace space,
                                       const std::string& key) {
  std::string body;
  FORGE_TRY(auto found, upstream.get(space, key, [&](std::span<const std::byte> data) {
    body.append(reinterpret_cast<const char*>(data.data()), data.size());
    return ok();
  }));
  if (!found) return std::nullopt;
  return body;
}

UploadBody bytes(std::string_view text) {
  return UploadBody{.bytes = text, .size = text.size(), .sha256_hex = hash::sha256_of(text).hex()};
}

class UpstreamHttpTest : public ::testing::Test {
 protected:
  test::TempDir m_dir;
};

TEST_F(UpstreamHttpTest, PutThenHeadAndGetThroughAForgeServer) {
  test::ForgeUpstreamServer server(m_dir / "upstream");
  auto upstream = open(server.url());
  const std::string blob(200'000, 'q');
  const std::string hex = hash::sha256_of(blob).hex();
  EXPECT_FALSE(upstream->contains(UpstreamSpace::cas, hex).value());
  EXPECT_FALSE(get(*upstream, UpstreamSpace::cas, hex).value());
  ASSERT_TRUE(upstream->put(UpstreamSpace::cas, hex, bytes(blob)));
  EXPECT_TRUE(upstream->contains(UpstreamSpace::cas, hex).value());
  EXPECT_EQ(get(*upstream, UpstreamSpace::cas, hex).value(), blob);
  EXPECT_TRUE(server.cas().contains(digest_of(blob)).value());
}

TEST_F(UpstreamHttpTest, UploadsAFileBodyByDescriptor) {
  test::ForgeUpstreamServer server(m_dir / "upstream");
  auto upstream = open(server.url());
  const std::string blob = "from a file\n";
  const auto path = m_dir.write_file("blob", blob);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  const UploadBody body{
      .fd = fd.get(), .size = blob.size(), .sha256_hex = hash::sha256_of(blob).hex()};
  ASSERT_TRUE(upstream->put(UpstreamSpace::cas, body.sha256_hex, body));
  EXPECT_EQ(get(*upstream, UpstreamSpace::cas, body.sha256_hex).value(), blob);
}

TEST_F(UpstreamHttpTest, ActionEntriesTravelUnderAc) {
  test::ForgeUpstreamServer server(m_dir / "upstream");
  auto upstream = open(server.url());
  const std::string key(64, 'a');
  ASSERT_TRUE(upstream->put(UpstreamSpace::ac, key, bytes("opaque value")));
  EXPECT_EQ(get(*upstream, UpstreamSpace::ac, key).value(), "opaque value");
  EXPECT_EQ(server.action_cache().get(Keyspace::raw, key).value(), "opaque value");
}

TEST_F(UpstreamHttpTest, AnInstancePrefixIsPartOfEveryPath) {
  std::mutex mutex;
  std::string seen;
  test::CannedHttpServer canned([&](const std::string& head) -> std::optional<std::string> {
    std::lock_guard lock(mutex);
    seen = head.substr(0, head.find("\r\n"));
    return test::canned_response(404, "");
  });
  auto upstream = open(canned.url() + "/team/main/");
  EXPECT_FALSE(upstream->contains(UpstreamSpace::ac, "k").value());
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen, "HEAD /team/main/ac/k HTTP/1.1");
}

TEST_F(UpstreamHttpTest, SendsBasicAuthAndTreatsARefusalAsConfiguration) {
  test::CannedHttpServer canned([](const std::string& head) -> std::optional<std::string> {
    // base64("user:secret")
    if (head.find("Authorization: Basic dXNlcjpzZWNyZXQ=") != std::string::npos) {
      return test::canned_response(200, "ok");
    }
    return test::canned_response(401, "who are you");
  });
  auto good = open(canned.url(), "user:secret");
  EXPECT_EQ(get(*good, UpstreamSpace::ac, "k").value(), "ok");
  auto in_url = open("http://user:secret@127.0.0.1:" + std::to_string(canned.port()));
  EXPECT_EQ(get(*in_url, UpstreamSpace::ac, "k").value(), "ok");
  EXPECT_EQ(in_url->describe().find("secret"), std::string::npos);
  auto bad = open(canned.url(), "user:wrong");
  auto refused = get(*bad, UpstreamSpace::ac, "k");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), ErrorCategory::configuration);
  EXPECT_FALSE(refused.error().is_retryable());
}

TEST_F(UpstreamHttpTest, ServerErrorsAreRetryableAndBadRequestsAreNot) {
  std::atomic<int> status{500};
  test::CannedHttpServer canned([&](const std::string&) -> std::optional<std::string> {
    return test::canned_response(status, "broken");
  });
  auto upstream = open(canned.url());
  auto failing = upstream->put(UpstreamSpace::cas, std::string(64, '0'), bytes("x"));
  ASSERT_FALSE(failing);
  EXPECT_EQ(failing.error().category(), ErrorCategory::network);
  EXPECT_TRUE(failing.error().is_retryable());
  status = 400;
  auto rejected = upstream->put(UpstreamSpace::cas, std::string(64, '0'), bytes("x"));
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().category(), ErrorCategory::validation);
  EXPECT_FALSE(rejected.error().is_retryable());
}

TEST_F(UpstreamHttpTest, ARefusedConnectionIsARetryableNetworkError) {
  std::string url;
  {
    test::CannedHttpServer gone([](const std::string&) { return std::optional<std::string>(); });
    url = gone.url();
  }
  auto upstream = open(url);
  auto result = upstream->contains(UpstreamSpace::cas, std::string(64, '0'));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category(), ErrorCategory::network);
  EXPECT_TRUE(result.error().is_retryable());
  EXPECT_EQ(upstream->live_connections(), 0u);  // the failed handle was discarded
}

TEST_F(UpstreamHttpTest, AHangingUpstreamTimesOut) {
  test::CannedHttpServer canned([](const std::string&) { return std::optional<std::string>(); });
  UpstreamOptions options;
  options.url = canned.url();
  options.request_timeout = 300ms;
  auto upstream = open_upstream(options).value();
  const auto started = std::chrono::steady_clock::now();
  auto result = upstream->contains(UpstreamSpace::cas, std::string(64, '0'));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category(), ErrorCategory::timeout);
  EXPECT_TRUE(result.error().is_retryable());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
}

TEST_F(UpstreamHttpTest, ConnectionsAreReusedAndNeverExceedThePool) {
  test::ForgeUpstreamServer server(m_dir / "upstream");
  auto upstream = open(server.url());  // 2 connections
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(upstream->contains(UpstreamSpace::cas, std::string(64, 'f')));
  }
  EXPECT_EQ(upstream->live_connections(), 1u);
}

TEST(UpstreamUrlTest, BadUrlsAreConfigurationErrorsNamingTheUrl) {
  for (const char* url : {"", "ftp://host/x", "http://", "no-scheme", "http://h/a?b=c"}) {
    UpstreamOptions options;
    options.url = url;
    auto opened = open_upstream(options);
    ASSERT_FALSE(opened) << url;
    EXPECT_EQ(opened.error().category(), ErrorCategory::configuration) << url;
  }
  UpstreamOptions zero;
  zero.url = "http://127.0.0.1:1";
  zero.connections = 0;
  EXPECT_FALSE(open_upstream(zero));
}

}  // namespace
}  // namespace forge::cache
