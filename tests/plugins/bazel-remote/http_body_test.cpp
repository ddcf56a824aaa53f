// Body I/O (http_body.h) against a real server on 127.0.0.1 over raw TCP: the chunked
// framing a client controls (chunk-size lines, extensions, trailers) is bounded.
#include <string>

#include <gtest/gtest.h>

#include "http_test_client.h"

namespace forge::bazel_remote {
namespace {

using namespace std::chrono_literals;
using test_http::Client;
using test_http::sha256_of;
using HttpBodyTest = test_http::HttpServerFixture;

constexpr std::size_t k_flood = 8 << 20;  // far beyond any bound the server keeps

std::string chunked_put_head() {
  return "PUT /cas/" + sha256_of("x") +
         " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
}

// Sends `head` and then `filler` bytes in pieces until the server stops reading; returns what
// the server answered. A server that buffers without bound never answers, reads all 8 MiB
// and the test fails.
std::string flood(Client& client, const std::string& head, char filler) {
  client.send(head);
  const std::string piece(64 * 1024, filler);
  std::size_t sent = 0;
  while (sent < k_flood) {
    const std::size_t n = client.send_some(piece);
    sent += n;
    if (n < piece.size()) break;  // the server closed
  }
  EXPECT_LT(sent, k_flood) << "the server kept reading an endless line";
  return client.read_all(5s);
}

// Regression (issue 16 item 13): a chunk-size line with a 1 GiB extension grew the server by
// 2 GB; it was buffered whole, looking for the line's end.
TEST_F(HttpBodyTest, AnEndlessChunkExtensionIsRefusedWithoutBufferingIt) {
  start();
  Client client(m_server->port());
  const std::string response = flood(client, chunked_put_head() + "5;ext=", 'e');
  EXPECT_TRUE(response.starts_with("HTTP/1.1 400")) << response.substr(0, 200);
}

TEST_F(HttpBodyTest, EndlessTrailersAreRefusedWithoutBufferingThem) {
  start();
  Client client(m_server->port());
  std::string trailers;
  for (int i = 0; i < 200; ++i) trailers += "X-T: v\r\n";
  const std::string response =
      flood(client, chunked_put_head() + "1\r\nx\r\n0\r\n" + trailers + "X-Long: ", 't');
  EXPECT_TRUE(response.starts_with("HTTP/1.1 400")) << response.substr(0, 200);
}

TEST_F(HttpBodyTest, AChunkSizeThatOverflowsIs400) {
  start();
  Client client(m_server->port());
  client.send(chunked_put_head() + "fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n");
  const std::string response = client.read_all(5s);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 400")) << response;
}

TEST_F(HttpBodyTest, AChunkedUploadWithExtensionsAndTrailersWithinBoundsIsStored) {
  start();
  Client client(m_server->port());
  const std::string body = "chunked body";
  client.send("PUT /cas/" + sha256_of(body) +
              " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              "7;name=value\r\nchunked\r\n5\r\n body\r\n0\r\nX-Trailer: yes\r\n\r\n");
  const std::string response = client.read_responses(1, 3s);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200")) << response;
  auto found = m_cas->find(*hash::Digest::parse(hash::Algorithm::sha256, sha256_of(body)));
  ASSERT_TRUE(found);
  EXPECT_TRUE(*found);
}

}  // namespace
}  // namespace forge::bazel_remote
