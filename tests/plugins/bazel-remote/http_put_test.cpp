// PUT (http_put.cpp) against a real server on 127.0.0.1 over raw TCP: bodies are checked
// against their name even when the blob is already stored, and a zstd body cannot expand
// past what it can legitimately be.
#include <zstd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "http_test_client.h"

namespace forge::bazel_remote {
namespace {

using namespace std::chrono_literals;
using test_http::Client;
using test_http::sha256_of;
using HttpPutTest = test_http::HttpServerFixture;

std::string zstd_compress(std::string_view data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const std::size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string put_request(const std::string& sha, std::string_view body,
                        std::string_view extra_headers = "") {
  return "PUT /cas/" + sha +
         " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(body);
}

// Regression (issue 16 item 15): a body of the stored blob's size was drained unchecked and
// answered 200, whatever it held.
TEST_F(HttpPutTest, AWrongBodyForAnAlreadyStoredBlobIs400) {
  start();
  const std::string sha = put("hello world");
  Client client(m_server->port());
  client.send(put_request(sha, "jello world"));
  const std::string wrong = client.read_responses(1, 3s);
  EXPECT_TRUE(wrong.starts_with("HTTP/1.1 400")) << wrong;
  client.send(put_request(sha, "hello world"));  // the connection is still usable
  const std::string right = client.read_responses(1, 3s);
  EXPECT_TRUE(right.starts_with("HTTP/1.1 200")) << right;
}

class HttpPutSmallStoreTest : public HttpPutTest {
 protected:
  void SetUp() override {
    HttpPutTest::SetUp();
    cache::StoreOptions options;
    options.dir = m_dir / "small";
    options.fsync = false;
    options.max_blob_size = 1 << 20;
    m_small_cas = cache::CasStore::open(options).value();
    m_small_cache = cache::ActionCache::open(m_small_cas).value();
  }
  std::shared_ptr<cache::CasStore> m_small_cas;
  std::shared_ptr<cache::ActionCache> m_small_cache;
};

// Regression (issue 16 item 15): a small zstd body naming a stored blob expanded to its full
// size on disk before the hash was checked. Now decoding stops at the stored blob's size
// (400) instead of running on to the store's maximum (413).
TEST_F(HttpPutSmallStoreTest, AZstdBodyStopsExpandingAtTheStoredBlobsSize) {
  start({}, m_small_cache);
  const std::string blob(100, 'b');
  ASSERT_TRUE(m_small_cas->put(std::as_bytes(std::span(blob)), cache::digest_of(blob)));
  const std::string bomb = zstd_compress(std::string(2 << 20, '\0'));  // 2 MiB from ~100 bytes
  Client client(m_server->port());
  client.send(put_request(sha256_of(blob), bomb, "Content-Encoding: zstd\r\n"));
  const std::string response = client.read_all(5s);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 400")) << response;
  EXPECT_TRUE(std::filesystem::is_empty(m_dir / "small" / "tmp"));
}

TEST_F(HttpPutSmallStoreTest, AZstdBodyOfAnUnknownBlobStopsAtTheMaximumBlobSize) {
  start({}, m_small_cache);
  const std::string bomb = zstd_compress(std::string(2 << 20, '\0'));
  Client client(m_server->port());
  client.send(put_request(sha256_of("anything"), bomb, "Content-Encoding: zstd\r\n"));
  const std::string response = client.read_all(5s);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 413")) << response;
  EXPECT_TRUE(std::filesystem::is_empty(m_dir / "small" / "tmp"));
}

// The 413 comes from the server's own limit check, not from matching the store's message.
TEST_F(HttpPutSmallStoreTest, AChunkedBodyOverTheMaximumBlobSizeIs413) {
  start({}, m_small_cache);
  const std::string chunk(64 * 1024, 'c');
  std::string request =
      "PUT /cas/" + sha256_of("x") + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i) request += "10000\r\n" + chunk + "\r\n";  // 1.25 MiB
  request += "0\r\n\r\n";
  Client client(m_server->port());
  client.send_some(request);
  const std::string response = client.read_all(5s);
  EXPECT_TRUE(response.starts_with("HTTP/1.1 413")) << response;
}

}  // namespace
}  // namespace forge::bazel_remote
