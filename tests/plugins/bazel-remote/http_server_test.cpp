// HttpServer in-process, driven by raw sockets on 127.0.0.1: the connection-level contract
// (keep-alive, HTTP/1.0, pipelining, idle and request timeouts, shutdown) that curl-based
// integration tests cannot see. Routes and error cases are in tests/integration.
#include "forge/bazel_remote/http_server.h"

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "forge/core/support/metrics.h"
#include "http_test_client.h"

namespace forge::bazel_remote {
namespace {

using namespace std::chrono_literals;
using test_http::Client;
using test_http::sha256_of;
using HttpServerTest = test_http::HttpServerFixture;

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnectionAcrossThreads) {
  start();
  const std::string small(4096, 's');
  const std::string large(300 * 1024, 'L');  // above the in-memory response size
  const std::string small_sha = put(small);
  const std::string large_sha = put(large);
  // More connections than threads, so both workers serve some of them.
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < 4; ++c) clients.push_back(std::make_unique<Client>(m_server->port()));
  for (int round = 0; round < 3; ++round) {
    for (auto& client : clients) {
      ASSERT_TRUE(client->connected());
      client->send("GET /cas/" + small_sha + " HTTP/1.1\r\nHost: x\r\n\r\n");
      const std::string response = client->read_responses(1);
      ASSERT_TRUE(response.starts_with("HTTP/1.1 200 OK\r\n")) << response.substr(0, 200);
      EXPECT_NE(response.find("Content-Length: 4096\r\n"), std::string::npos);
      EXPECT_EQ(response.find("Connection: close"), std::string::npos);
      EXPECT_TRUE(response.ends_with("\r\n\r\n" + small));
      client->send("GET /cas/" + large_sha + " HTTP/1.1\r\nHost: x\r\n\r\n");
      const std::string big = client->read_responses(1);
      EXPECT_TRUE(big.ends_with("\r\n\r\n" + large)) << big.size();
    }
  }
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  const std::string a = put("first blob");
  const std::string b = put("second blob, longer");
  const std::string missing = sha256_of("not stored");
  Client client(m_server->port());
  client.send("GET /cas/" + a + " HTTP/1.1\r\nHost: x\r\n\r\nHEAD /cas/" + b +
              " HTTP/1.1\r\nHost: x\r\n\r\nGET /cas/" + missing +
              " HTTP/1.1\r\nHost: x\r\n\r\nGET /cas/" + b + " HTTP/1.1\r\nHost: x\r\n\r\n");
  // HEAD announces a length without a body: read by time rather than by count.
  std::string all = client.read_responses(5, 2s);
  const auto first = all.find("first blob");
  const auto head = all.find("Content-Length: 19");
  const auto not_found = all.find("HTTP/1.1 404");
  const auto last = all.rfind("second blob, longer");
  ASSERT_NE(first, std::string::npos) << all;
  ASSERT_NE(head, std::string::npos) << all;
  ASSERT_NE(not_found, std::string::npos) << all;
  ASSERT_NE(last, std::string::npos) << all;
  EXPECT_LT(first, head);
  EXPECT_LT(head, not_found);
  EXPECT_LT(not_found, last);
}

TEST_F(HttpServerTest, Http10ClosesUnlessAskedToKeepAlive) {
  start();
  const std::string sha = put("an old client");
  {
    Client client(m_server->port());
    client.send("GET /cas/" + sha + " HTTP/1.0\r\n\r\n");
    const std::string response = client.read_responses(1);
    EXPECT_TRUE(response.starts_with("HTTP/1.0 200 OK\r\n")) << response;
    EXPECT_TRUE(response.ends_with("an old client"));
    EXPECT_TRUE(client.time_until_closed(5s)) << "HTTP/1.0 without keep-alive must close";
  }
  {
    Client client(m_server->port());
    client.send("GET /cas/" + sha + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    const std::string response = client.read_responses(1);
    EXPECT_NE(response.find("Connection: keep-alive\r\n"), std::string::npos) << response;
    client.send("GET /cas/" + sha + " HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    EXPECT_TRUE(client.read_responses(1).ends_with("an old client"));
  }
  {
    Client client(m_server->port());
    client.send("GET /cas/" + sha + " HTTP/1.1\r\nConnection: close\r\n\r\n");
    const std::string response = client.read_responses(1);
    EXPECT_NE(response.find("Connection: close\r\n"), std::string::npos) << response;
    EXPECT_TRUE(client.time_until_closed(5s));
  }
}

TEST_F(HttpServerTest, IdleConnectionIsClosedAfterTheIdleTimeoutEvenAfterARequest) {
  // The request timeout is much longer than the idle one: an idle connection after a request
  // must still close at the idle timeout, not at the request deadline armed before it.
  HttpServerOptions options;
  options.idle_timeout = 1s;
  options.request_timeout = 20s;
  start(options);
  const std::string sha = put("idle");
  Client client(m_server->port());
  client.send("GET /cas/" + sha + " HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(client.read_responses(1).ends_with("idle"));
  const auto closed = client.time_until_closed(15s);
  ASSERT_TRUE(closed) << "an idle keep-alive connection was never closed";
  EXPECT_GE(*closed, 500ms) << "closed long before the idle timeout";
  EXPECT_LT(*closed, 10s) << "closed at the request deadline instead of the idle timeout";
}

TEST_F(HttpServerTest, StalledUploadIsCutAtTheRequestTimeoutAndLeavesNothing) {
  HttpServerOptions options;
  options.idle_timeout = 1s;
  options.request_timeout = 2s;
  start(options);
  const std::string body(1000, 'b');
  const std::string sha = sha256_of(body);
  Client client(m_server->port());
  client.send("PUT /cas/" + sha + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
              body.substr(0, 100));
  // Keep the connection "busy" past the idle timeout: only the request timeout may cut it.
  const auto closed = client.time_until_closed(15s);
  ASSERT_TRUE(closed) << "a stalled upload was never cut";
  EXPECT_GE(*closed, 1500ms) << "cut at the idle timeout although a request was in flight";
  auto found = m_cas->find(*hash::Digest::parse(hash::Algorithm::sha256, sha));
  ASSERT_TRUE(found);
  EXPECT_FALSE(*found);
  // The session unwinds (and its writer removes the temp file) just after the socket closes.
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  while (!std::filesystem::is_empty(m_dir / "store" / "tmp") &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(std::filesystem::is_empty(m_dir / "store" / "tmp"));
}

TEST_F(HttpServerTest, ShutdownClosesIdleConnectionsAndStopsAccepting) {
  start();
  const std::string sha = put("bye");
  const std::uint16_t port = m_server->port();
  Client idle(port);
  idle.send("GET /cas/" + sha + " HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(idle.read_responses(1).ends_with("bye"));
  EXPECT_TRUE(m_server->shutdown(5s)) << "nothing was in flight";
  EXPECT_TRUE(idle.time_until_closed(2s)) << "shutdown left an idle connection open";
  Client late(port);
  EXPECT_FALSE(late.connected()) << "still accepting after shutdown";
}

// Regression (issue 17): the http_ families' HELP text was their own name.
TEST_F(HttpServerTest, EveryHttpMetricFamilySaysWhatItCounts) {
  start();
  const std::string text = support::Metrics::global().to_prometheus();
  for (const std::string family :
       {"http_requests_total", "http_request_duration", "http_responses_total",
        "http_bytes_in_total", "http_bytes_out_total"}) {
    const auto at = text.find("# HELP " + family + " ");
    ASSERT_NE(at, std::string::npos) << family;
    const auto help =
        text.substr(at + 8 + family.size(), text.find('\n', at) - at - 8 - family.size());
    EXPECT_NE(help, family);
    EXPECT_GT(help.size(), 10u) << family;
  }
}

}  // namespace
}  // namespace forge::bazel_remote
