// The request handlers (http_handlers.cpp) against a real server on 127.0.0.1, over raw TCP:
// bodies on requests that take none, methods per endpoint, transfer and content codings.
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "http_test_client.h"

namespace forge::bazel_remote {
namespace {

using namespace std::chrono_literals;
using test_http::Client;
using test_http::sha256_of;
using HttpHandlersTest = test_http::HttpServerFixture;

std::string fmt_hex(std::size_t n) {
  char buffer[32];
  return std::string(buffer,
                     static_cast<std::size_t>(std::snprintf(buffer, sizeof buffer, "%zx", n)));
}

// Regression (issue 16 item 12): a GET's body was left unread and parsed as the next request
// (request smuggling): the hidden GET for `secret` was answered.
TEST_F(HttpHandlersTest, AGetsBodyIsReadAndDroppedNeverParsedAsARequest) {
  start();
  const std::string visible = put("visible blob");
  const std::string secret = put("smuggled secret");
  const std::string hidden = "GET /cas/" + secret + " HTTP/1.1\r\nHost: x\r\n\r\n";
  Client client(m_server->port());
  client.send("GET /cas/" + visible +
              " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(hidden.size()) +
              "\r\n\r\n" + hidden + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string all = client.read_responses(3, 3s);
  EXPECT_NE(all.find("visible blob"), std::string::npos) << all;
  EXPECT_EQ(all.find("smuggled secret"), std::string::npos) << all;
  EXPECT_TRUE(all.ends_with("\r\n\r\nok\n")) << all;
}

TEST_F(HttpHandlersTest, AChunkedBodyOnAGetIsDroppedToo) {
  start();
  const std::string secret = put("smuggled secret");
  const std::string hidden = "GET /cas/" + secret + " HTTP/1.1\r\nHost: x\r\n\r\n";
  Client client(m_server->port());
  client.send("GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
              fmt_hex(hidden.size()) + "\r\n" + hidden + "\r\n0\r\n\r\n" +
              "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string all = client.read_responses(2, 3s);
  EXPECT_EQ(all.find("smuggled secret"), std::string::npos) << all;
  EXPECT_TRUE(all.ends_with("\r\n\r\nok\n")) << all;
}

TEST_F(HttpHandlersTest, ABodyTooLargeToDropIs400AndTheConnectionCloses) {
  start();
  const std::string sha = put("x");
  Client client(m_server->port());
  client.send("GET /cas/" + sha + " HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n");
  const std::string response = client.read_all(5s);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 400")) << response;
  EXPECT_NE(response.find("Connection: close"), std::string::npos) << response;
}

// Regression (issue 16 item 15): any method on /status answered 200.
TEST_F(HttpHandlersTest, ReadOnlyEndpointsRefuseOtherMethodsWith405) {
  start();
  for (const std::string target : {"/status", "/metrics", "/healthz"}) {
    for (const std::string method : {"POST", "PUT", "DELETE", "PATCH"}) {
      Client client(m_server->port());
      client.send(method + " " + target + " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
      const std::string response = client.read_responses(1, 3s);
      EXPECT_TRUE(response.starts_with("HTTP/1.1 405")) << method << " " << target << response;
      EXPECT_NE(response.find("Allow: GET, HEAD\r\n"), std::string::npos) << response;
    }
    Client client(m_server->port());
    client.send("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(client.read_responses(1, 3s).starts_with("HTTP/1.1 200")) << target;
  }
  Client client(m_server->port());
  client.send("DELETE /cas/" + sha256_of("x") + " HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string response = client.read_responses(1, 3s);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 405")) << response;
  EXPECT_NE(response.find("Allow: GET, HEAD, PUT\r\n"), std::string::npos) << response;
}

// Regression (issue 16 item 15): `Transfer-Encoding: gzip, chunked` was accepted (the gzip
// coding ignored, so the stored bytes were the compressed ones).
TEST_F(HttpHandlersTest, TransferCodingsOtherThanPlainChunkedAre501) {
  start();
  const std::string body = "compressed?";
  for (const std::string coding : {"gzip, chunked", "deflate,chunked", "chunked, chunked"}) {
    Client client(m_server->port());
    client.send("PUT /cas/" + sha256_of(body) + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " +
                coding + "\r\n\r\nb\r\n" + body + "\r\n0\r\n\r\n");
    const std::string response = client.read_all(5s);
    EXPECT_TRUE(response.starts_with("HTTP/1.1 501")) << coding << ": " << response;
  }
  auto found = m_cas->find(*hash::Digest::parse(hash::Algorithm::sha256, sha256_of(body)));
  ASSERT_TRUE(found);
  EXPECT_FALSE(*found);
}

// Regression (issue 16 item 15): `zstd;q=0` and `xzstd` were answered with zstd.
TEST_F(HttpHandlersTest, ZstdIsSentOnlyToClientsThatAcceptIt) {
  start();
  const std::string sha = put(std::string(1000, 'z'));
  const auto encoding_for = [&](const std::string& accept) {
    Client client(m_server->port());
    client.send("GET /cas/" + sha +
                " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept-Encoding: " + accept +
                "\r\n\r\n");
    const std::string response = client.read_all(5s);
    EXPECT_TRUE(response.starts_with("HTTP/1.1 200")) << response;
    return response.find("Content-Encoding: zstd") != std::string::npos;
  };
  EXPECT_FALSE(encoding_for("zstd;q=0"));
  EXPECT_FALSE(encoding_for("xzstd"));
  EXPECT_FALSE(encoding_for("gzip, zstd;q=0.0"));
  EXPECT_TRUE(encoding_for("ZSTD"));
  EXPECT_TRUE(encoding_for("gzip;q=1, zstd;q=0.5"));
}

// Issue 16 item 2: a blob whose bytes changed on disk was served as a hit. Now a GET checks
// the content first (small bodies in memory, large ones in full before streaming), answers
// 404, and the blob is quarantined so the next PUT stores a good copy.
TEST_F(HttpHandlersTest, ACorruptBlobIsAMissNeverItsBytesSmallOrStreamedOrZstd) {
  start();
  const std::string small = "small blob content";
  std::string large(3u << 20, '\0');
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>('a' + i % 23);
  const std::string zstd_body(5000, 'q');
  for (const std::string* content :
       std::initializer_list<const std::string*>{&small, &large, &zstd_body}) {
    const std::string sha = put(*content);
    corrupt_blob(cache::digest_of(*content), content->size() / 2);
    Client client(m_server->port());
    client.send("GET /cas/" + sha + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
                (content == &zstd_body ? "Accept-Encoding: zstd\r\n" : "") + "\r\n");
    const std::string response = client.read_all(10s);
    EXPECT_TRUE(response.starts_with("HTTP/1.1 404")) << response.substr(0, 300);
    EXPECT_EQ(m_cas->contains(cache::digest_of(*content)).value(), false);
    // The client uploads it again and it is served.
    EXPECT_EQ(put(*content), sha);
    Client again(m_server->port());
    again.send("GET /cas/" + sha + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    const std::string good = again.read_all(10s);
    EXPECT_TRUE(good.starts_with("HTTP/1.1 200")) << good.substr(0, 300);
    EXPECT_TRUE(good.ends_with(*content));
  }
}

}  // namespace
}  // namespace forge::bazel_remote
