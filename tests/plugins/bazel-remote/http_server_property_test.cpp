// Hostile requests against a real HttpServer on 127.0.0.1 (rapidcheck, RC_PARAMS cases,
// 100 by default): whatever bytes a client sends, the server answers with an HTTP status or
// closes the connection (never hangs once the client has finished sending), never crashes,
// and its memory stays bounded. Each case half-closes its connection after sending, so a
// request still waiting for body bytes sees the end of input and must give up.
#include <sys/socket.h>

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "http_test_client.h"

namespace forge::bazel_remote {
namespace {

using namespace std::chrono_literals;
using test_http::Client;
using test_http::sha256_of;

// Resident memory of this process (the server runs in it), in KiB.
std::uint64_t rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stoull(line.substr(6));
  }
  return 0;
}

rc::Gen<std::string> token_of(std::vector<std::string> choices) {
  return rc::gen::oneOf(rc::gen::elementOf(std::move(choices)), rc::gen::arbitrary<std::string>());
}

// A request line, fields and body assembled from plausible and hostile pieces.
rc::Gen<std::string> hostile_request(std::string stored_sha) {
  return rc::gen::exec([stored_sha] {
    std::string request =
        *token_of({"GET", "HEAD", "PUT", "POST", "DELETE", "get", std::string("G\0T", 3), ""});
    request += *rc::gen::element<std::string>(" ", "  ", "\t", "");
    request += *token_of({"/cas/" + stored_sha, "/ac/" + stored_sha, "/status", "/metrics",
                          "/healthz", "/cas/" + std::string(64, 'g'), "/cas/", "*",
                          "/" + std::string(*rc::gen::inRange(0, 70000), 'a')});
    request += *rc::gen::element<std::string>(" HTTP/1.1", " HTTP/1.0", " HTTP/2.0", " HTTP/1.", "",
                                              " http/1.1");
    request += *rc::gen::element<std::string>("\r\n", "\n", "\r", "");
    const auto fields = *rc::gen::inRange(0, 8);
    for (int i = 0; i < fields; ++i) {
      request += *token_of({"Host", "Content-Length", "Transfer-Encoding", "Accept-Encoding",
                            "Content-Encoding", "Expect", "Connection", "Authorization"});
      request += *rc::gen::element<std::string>(": ", ":", " : ", "");
      request += *token_of({"0", "5", "-1", "99999999999999999999", "18446744073709551615",
                            "chunked", "gzip, chunked", "zstd", "zstd;q=0", "100-continue", "close",
                            "keep-alive", "1, 2", std::string(*rc::gen::inRange(0, 70000), 'v')});
      request += *rc::gen::element<std::string>("\r\n", "\n", "\r\n ", "");
    }
    request += *rc::gen::element<std::string>("\r\n", "", "\n");
    // A body: raw bytes, or chunked framing with hostile sizes, extensions and trailers.
    if (*rc::gen::arbitrary<bool>()) {
      request += *rc::gen::arbitrary<std::string>();
    } else {
      const auto chunks = *rc::gen::inRange(0, 4);
      for (int i = 0; i < chunks; ++i) {
        request += *token_of({"5", "0", "ffffffffffffffffff", "-3", "5;ext=1", "5 ",
                              "5;" + std::string(*rc::gen::inRange(0, 200000), 'e')});
        request += "\r\n" + *rc::gen::arbitrary<std::string>() + "\r\n";
      }
      request += *token_of({"0\r\n\r\n", "0\r\nX: y\r\n\r\n", "0\r\n", ""});
    }
    return request;
  });
}

TEST(HttpServerProperty, EveryRequestIsAnsweredWithAStatusOrClosedAndTheServerSurvives) {
  test::TempDir dir;
  cache::StoreOptions store_options;
  store_options.dir = dir / "store";
  store_options.fsync = false;
  store_options.max_blob_size = 1 << 20;
  auto cas = cache::CasStore::open(store_options).value();
  auto action_cache = cache::ActionCache::open(cas).value();
  const std::string blob = "a stored blob";
  ASSERT_TRUE(cas->put(std::as_bytes(std::span(blob)), cache::digest_of(blob)));
  HttpServerOptions options;
  options.threads = 2;
  options.request_timeout = 10s;
  options.idle_timeout = 10s;
  auto server = HttpServer::start(options, action_cache).value();
  const auto rss_before = rss_kib();

  const bool held = rc::check("hostile request -> a status or a close", [&] {
    const std::string request = *hostile_request(sha256_of(blob));
    Client client(server->port());
    RC_ASSERT(client.connected());
    client.send_some(request);
    client.shutdown_send();
    const std::string answer = client.read_all(8s);
    RC_ASSERT(client.closed_by_peer() || answer.empty() == false);
    if (!answer.empty()) {
      RC_ASSERT(answer.starts_with("HTTP/1.1 ") || answer.starts_with("HTTP/1.0 "));
    }
    RC_ASSERT(client.closed_by_peer());  // half-closed input: the server must finish too
    Client probe(server->port());        // still alive and serving
    probe.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    RC_ASSERT(probe.read_responses(1, 5s).ends_with("ok\n"));
  });
  EXPECT_TRUE(held);
  // Requests are bounded in what the server keeps (heads, chunk lines, bodies to the limit):
  // hundreds of hostile cases must not leave it hundreds of MiB larger.
  EXPECT_LT(rss_kib(), rss_before + 256 * 1024) << "RSS grew from " << rss_before << " KiB";
}

}  // namespace
}  // namespace forge::bazel_remote
