// The HTTP cache protocol through curl against a real `forge serve`: every route and every
// error case, read-only and raw-ac modes, disconnects mid-upload and SIGTERM draining.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forge/core/hash/digest.h"
#include "forge/core/support/unique_fd.h"
#include "serve_fixture.h"

namespace forge::test {
namespace {

std::string sha256_hex(const std::string& content) {
  return hash::sha256_of(content).hex();
}

class HttpCacheTest : public ::testing::Test {
 protected:
  std::string put_file(ServeFixture& server, const std::string& path, const std::string& content,
                       const std::string& extra = {}) {
    const auto file = server.dir().write_file("upload", content);
    return curl("-o /dev/null -X PUT --data-binary @" + shell_quote(file.string()) + " " + extra +
                " " + server.url() + path)
        .out;
  }
};

TEST_F(HttpCacheTest, CasPutGetHeadAndMisses) {
  ServeFixture server;
  ASSERT_TRUE(server.started()) << server.log();
  const std::string content = "object file bytes\n";
  const std::string hash = sha256_hex(content);
  EXPECT_EQ(put_file(server, "/cas/" + hash, content), "200");
  const auto got = curl(server.url() + "/cas/" + hash);
  EXPECT_EQ(got.out, content + "200");
  const auto head = run_shell("curl -sI " + server.url() + "/cas/" + hash);
  EXPECT_NE(head.out.find("200 OK"), std::string::npos);
  EXPECT_NE(head.out.find("Content-Length: " + std::to_string(content.size())), std::string::npos)
      << head.out;
  EXPECT_EQ(curl("-o /dev/null " + server.url() + "/cas/" + std::string(64, '0')).out, "404");
  EXPECT_EQ(curl("-o /dev/null -I " + server.url() + "/cas/" + std::string(64, '0')).out, "404");
  // An instance prefix of any depth names the same store.
  EXPECT_EQ(curl(server.url() + "/main/ci/cas/" + hash).out, content + "200");
  // Upper-case hex is the same digest.
  std::string upper = hash;
  for (auto& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(curl(server.url() + "/cas/" + upper).out, content + "200");
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST_F(HttpCacheTest, CasBodyThatDoesNotMatchItsNameIs400AndStoresNothing) {
  ServeFixture server;
  ASSERT_TRUE(server.started()) << server.log();
  const std::string claimed = sha256_hex("what the client promised");
  const auto file = server.dir().write_file("body", "what it sent");
  const auto put = curl("-X PUT --data-binary @" + shell_quote(file.string()) + " " + server.url() +
                        "/cas/" + claimed);
  EXPECT_EQ(put.out.substr(put.out.size() - 3), "400");
  EXPECT_NE(put.out.find("does not match"), std::string::npos) << put.out;
  EXPECT_EQ(curl("-o /dev/null " + server.url() + "/cas/" + claimed).out, "404");
  EXPECT_EQ(curl("-o /dev/null " + server.url() + "/cas/" + sha256_hex("what it sent")).out, "404")
      << "a rejected body must not be stored under its real digest either";
}

TEST_F(HttpCacheTest, MalformedPathsAndMethodsAreClearErrors) {
  ServeFixture server;
  ASSERT_TRUE(server.started()) << server.log();
  const auto bad_hash = curl(server.url() + "/cas/xyz");
  EXPECT_EQ(bad_hash.out.substr(bad_hash.out.size() - 3), "400");
  EXPECT_NE(bad_hash.out.find("not a SHA-256"), std::string::npos);
  const auto unknown = curl(server.url() + "/v8/nope");
  EXPECT_EQ(unknown.out.substr(unknown.out.size() - 3), "404");
  EXPECT_NE(unknown.out.find("/cas/<sha256>"), std::string::npos);
  EXPECT_EQ(curl("-o /dev/null -X DELETE " + server.url() + "/cas/" + std::string(64, 'a')).out,
            "405");
}

TEST_F(HttpCacheTest, ChunkedAndLargeUploadsStreamAndReuploadsAreAccepted) {
  ServeFixture server;
  ASSERT_TRUE(server.started()) << server.log();
  std::string big(6 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  const std::string hash = sha256_hex(big);
  // curl sends Expect: 100-continue for a body this large.
  EXPECT_EQ(put_file(server, "/cas/" + hash, big), "200");
  const auto file = server.dir() / "download";
  EXPECT_EQ(curl("-o " + shell_quote(file.string()) + " " + server.url() + "/cas/" + hash).out,
            "200");
  EXPECT_EQ(sha256_hex(server.dir().read_file("download")), hash);
  // Bazel re-uploads what exists: accepted without storing twice.
  EXPECT_EQ(put_file(server, "/cas/" + hash, big), "200");
  const std::string small = "chunked body";
  EXPECT_EQ(put_file(server, "/cas/" + sha256_hex(small), small, "-H 'Transfer-Encoding: chunked'"),
            "200");
  EXPECT_EQ(curl(server.url() + "/cas/" + sha256_hex(small)).out, small + "200");
  const auto status = nlohmann::json::parse(
      curl(server.url() + "/status").out.substr(0, curl(server.url() + "/status").out.size() - 3));
  EXPECT_EQ(status["entries"], 2);
  EXPECT_EQ(status["bytes"], big.size() + small.size());
}

TEST_F(HttpCacheTest, ActionCacheServesOnlyCompleteResults) {
  ServeFixture server;
  ASSERT_TRUE(server.started()) << server.log();
  const std::string output = "the compiled object";
  const std::string action = sha256_hex("action: cc -c hello.c");
  const std::string result = action_result_with_output(output);
  EXPECT_EQ(put_file(server, "/ac/" + action, result), "200");
  EXPECT_EQ(curl("-o /dev/null " + server.url() + "/ac/" + action).out, "404")
      << "its output is not in the CAS yet: a miss, not a broken hit";
  EXPECT_EQ(put_file(server, "/cas/" + sha256_hex(output), output), "200");
  EXPECT_EQ(curl(server.url() + "/ac/" + action).out, result + "200");
  const auto junk = curl("-X PUT --data-binary 'not a protobuf' " + server.url() + "/ac/" +
                         sha256_hex("other action"));
  EXPECT_EQ(junk.out.substr(junk.out.size() - 3), "400");
  EXPECT_NE(junk.out.find("ActionResult"), std::string::npos) << junk.out;
}

TEST_F(HttpCacheTest, AcRawModeStoresOpaqueValuesForCcache) {
  ServeFixture server({"--ac-raw"});
  ASSERT_TRUE(server.started()) << server.log();
  const std::string key = sha256_hex("ccache key");
  EXPECT_EQ(put_file(server, "/ac/" + key, "opaque ccache entry"), "200");
  EXPECT_EQ(curl(server.url() + "/ac/" + key).out, "opaque ccache entry200");
}

TEST_F(HttpCacheTest, ReadOnlyRefusesWritesButServesReads) {
  const std::string content = "served read-only";
  std::filesystem::path store;
  {
    ServeFixture writer;
    ASSERT_TRUE(writer.started()) << writer.log();
    EXPECT_EQ(put_file(writer, "/cas/" + sha256_hex(content), content), "200");
    EXPECT_EQ(writer.stop(), 0);
    store = writer.store();
    std::filesystem::copy(store, "/tmp/forge-ro-store-" + std::to_string(::getpid()),
                          std::filesystem::copy_options::recursive);
  }
  const std::string copy = "/tmp/forge-ro-store-" + std::to_string(::getpid());
  ServeFixture reader({"--read-only", "--dir", copy});
  ASSERT_TRUE(reader.started()) << reader.log();
  EXPECT_EQ(curl(reader.url() + "/cas/" + sha256_hex(content)).out, content + "200");
  const auto refused = curl("-X PUT --data-binary x " + reader.url() + "/cas/" + sha256_hex("x"));
  EXPECT_EQ(refused.out.substr(refused.out.size() - 3), "403");
  EXPECT_NE(refused.out.find("read-only"), std::string::npos);
  reader.stop();
  std::filesystem::remove_all(copy);
}

TEST_F(HttpCacheTest, OversizedBodyIs413) {
  ServeFixture server({"--max-blob-size", "1K"});
  ASSERT_TRUE(server.started()) << server.log();
  const std::string body(2048, 'z');
  EXPECT_EQ(put_file(server, "/cas/" + sha256_hex(body), body), "413");
  EXPECT_EQ(put_file(server, "/cas/" + sha256_hex(body), body, "-H 'Transfer-Encoding: chunked'"),
            "413");
  EXPECT_TRUE(std::filesystem::is_empty(server.store() / "tmp"));
}

TEST_F(HttpCacheTest, ClientThatDisconnectsMidUploadLeavesNothingBehind) {
  ServeFixture server;
  ASSERT_TRUE(server.started()) << server.log();
  const std::string big(4 << 20, 'q');
  const auto file = server.dir().write_file("big", big);
  // 256 KiB/s for at most 1 s: curl gives up a quarter of the way through.
  const auto aborted =
      curl("-o /dev/null --limit-rate 256K --max-time 1 -T " + shell_quote(file.string()) + " " +
           server.url() + "/cas/" + sha256_hex(big));
  EXPECT_NE(aborted.exit_code, 0);
  bool clean = false;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!clean && std::chrono::steady_clock::now() < give_up) {
    clean = std::filesystem::is_empty(server.store() / "tmp");
    if (!clean) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(clean) << "the partial upload's temp file must be removed";
  EXPECT_EQ(curl("-o /dev/null " + server.url() + "/cas/" + sha256_hex(big)).out, "404");
}

TEST_F(HttpCacheTest, StatusMetricsAndHealthz) {
  ServeFixture server;
  ASSERT_TRUE(server.started()) << server.log();
  EXPECT_EQ(curl(server.url() + "/healthz").out, "ok\n200");
  curl("-o /dev/null " + server.url() + "/cas/" + std::string(64, '1'));
  const auto metrics = curl(server.url() + "/metrics").out;
  EXPECT_NE(metrics.find("http_requests_total{endpoint=\"cas\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("cache_keyspace_misses_total{keyspace=\"cas\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("http_request_duration"), std::string::npos);
  const auto status_text = curl(server.url() + "/status").out;
  const auto status = nlohmann::json::parse(status_text.substr(0, status_text.size() - 3));
  EXPECT_EQ(status["server"], "forge");
  EXPECT_EQ(status["http"], "127.0.0.1:" + std::to_string(server.http_port()));
  EXPECT_EQ(status["grpc"], "127.0.0.1:" + std::to_string(server.grpc_port()));
  EXPECT_EQ(status["store"], server.store().string());
  ASSERT_TRUE(status.contains("digest_filter")) << status_text;
  EXPECT_TRUE(status["digest_filter"]["lookups_skipped"].is_number());
}

TEST_F(HttpCacheTest, SigtermFinishesTheUploadInFlightAndExitsZero) {
  ServeFixture server;
  ASSERT_TRUE(server.started()) << server.log();
  const std::string big(2 << 20, 'u');
  const auto file = server.dir().write_file("big", big);
  // The upload takes ~2 s at 1 MiB/s; SIGTERM arrives half-way through.
  const std::string script = "curl -s -o /dev/null -w '%{http_code}' --limit-rate 1M -T " +
                             shell_quote(file.string()) + " " + server.url() + "/cas/" +
                             sha256_hex(big) + " & sleep 0.7; kill -TERM " +
                             std::to_string(server.pid()) + "; wait";
  const auto upload = run_shell(script);
  EXPECT_EQ(upload.out, "200") << "the upload in flight must complete: " << server.log();
  EXPECT_EQ(server.wait_for_exit(), 0) << server.log();
  EXPECT_NE(server.log().find("stopped (SIGTERM)"), std::string::npos) << server.log();
}

TEST_F(HttpCacheTest, PortInUseIsAClearErrorAndExitOne) {
  ServeFixture first;
  ASSERT_TRUE(first.started()) << first.log();
  const auto second = run_shell(shell_quote(forge_binary().string()) + " serve --dir " +
                                shell_quote((first.dir() / "other").string()) +
                                " --no-grpc --http-port " + std::to_string(first.http_port()));
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("127.0.0.1:" + std::to_string(first.http_port())), std::string::npos)
      << second.err;
  EXPECT_NE(second.err.find("--http-port"), std::string::npos) << second.err;
}

// Regression (issue 16 item 17): a --port-file in a directory that cannot be written threw
// an uncaught std::filesystem_error and aborted the running server.
TEST_F(HttpCacheTest, UnwritablePortFileIsAClearErrorAndExitOne) {
  TempDir dir;
  dir.write_file("not-a-dir", "x");  // a file where the directory should be: even root fails
  const auto result =
      run_shell("timeout 30 " + shell_quote(forge_binary().string()) +
                " serve --no-grpc --http-port 0 --dir " + shell_quote((dir / "store").string()) +
                " --port-file " + shell_quote((dir / "not-a-dir" / "ports.json").string()));
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("--port-file"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("not-a-dir"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("terminate"), std::string::npos) << result.err;
}

// A raw TCP connection to 127.0.0.1:port (empty if refused).
UniqueFd connect_to(int port) {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return {};
  return fd;
}

// Regression (issue 16 item 14): at the open-file limit the accept loop retried at once,
// forever, writing millions of log lines, and the queued clients waited for the idle timeout.
// Now it backs off, logs once per 10 s and closes idle connections to make room.
TEST_F(HttpCacheTest, AtTheOpenFileLimitIdleConnectionsAreShedAndTheLogStaysQuiet) {
#if defined(__SANITIZE_ADDRESS__)
  // Under ASan the server at `ulimit -n 48` refuses new connections before the shedding this
  // test measures (not yet understood; the default preset runs it).
  GTEST_SKIP() << "not run under the sanitizers at this descriptor limit";
#endif
  TempDir dir;
  BackgroundProcess server({"/bin/sh", "-c",
                            "ulimit -n 48 && exec " + shell_quote(forge_binary().string()) +
                                " serve --no-grpc --threads 1 --http-port 0 --dir " +
                                shell_quote((dir / "store").string()) + " --port-file " +
                                shell_quote((dir / "ports.json").string())},
                           dir / "serve.log");
  ASSERT_TRUE(wait_for_file(dir / "ports.json", std::chrono::seconds(20)))
      << dir.read_file("serve.log");
  const int port = nlohmann::json::parse(dir.read_file("ports.json"))["http"].get<int>();
  std::vector<UniqueFd> idle;  // more connections than the server has descriptors for
  for (int i = 0; i < 80; ++i) {
    if (auto fd = connect_to(port)) idle.push_back(std::move(fd));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the server sits at its limit
  const UniqueFd client = connect_to(port);
  ASSERT_TRUE(client);
  const int fd = client.get();
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  timeval timeout{15, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  std::string response;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) response.append(buffer, n);
  idle.clear();
  EXPECT_TRUE(response.starts_with("HTTP/1.1 200")) << "a new client was never served";
  const std::string log = dir.read_file("serve.log");
  std::size_t warnings = 0;
  for (auto at = log.find("accept failed"); at != std::string::npos;
       at = log.find("accept failed", at + 1)) {
    ++warnings;
  }
  EXPECT_GE(warnings, 1u) << "the test never reached the open-file limit";
  EXPECT_LE(warnings, 3u) << log.substr(0, 2000);
  EXPECT_EQ(server.stop(SIGTERM, std::chrono::seconds(30)), 0) << log.substr(0, 2000);
}

TEST_F(HttpCacheTest, BasicAuthAndBearerTokensGuardEveryRouteButHealthz) {
  TempDir secrets;
  // SHA-512-crypt entry made by the openssl CLI, as an operator would.
  const auto hashed = run_shell("openssl passwd -6 -salt forgesalt s3cret");
  ASSERT_EQ(hashed.exit_code, 0) << hashed.err;
  secrets.write_file("htpasswd", "ci:" + hashed.out);
  secrets.write_file("tokens", "tok-0123456789abcdef\n");
  ServeFixture server(
      {"--htpasswd", (secrets / "htpasswd").string(), "--tokens", (secrets / "tokens").string()});
  ASSERT_TRUE(server.started()) << server.log();
  const std::string content = "guarded";
  const std::string path = "/cas/" + sha256_hex(content);
  EXPECT_EQ(put_file(server, path, content), "401");
  EXPECT_EQ(put_file(server, path, content, "-u ci:wrong"), "401");
  EXPECT_EQ(put_file(server, path, content, "-u ci:s3cret"), "200");
  EXPECT_EQ(curl("-o /dev/null " + server.url() + path).out, "401");
  EXPECT_EQ(curl("-H 'Authorization: Bearer tok-0123456789abcdef' " + server.url() + path).out,
            content + "200");
  EXPECT_EQ(curl("-o /dev/null " + server.url() + "/status").out, "401");
  EXPECT_EQ(curl(server.url() + "/healthz").out, "ok\n200");
  const auto challenge = run_shell("curl -sI " + server.url() + path);
  EXPECT_NE(challenge.out.find("WWW-Authenticate: Basic realm=\"forge\""), std::string::npos)
      << challenge.out;
}

TEST_F(HttpCacheTest, AnonymousReadAuthenticatedWrite) {
  TempDir secrets;
  secrets.write_file("tokens", "tok-0123456789abcdef\n");
  ServeFixture server({"--tokens", (secrets / "tokens").string(), "--anonymous-read"});
  ASSERT_TRUE(server.started()) << server.log();
  const std::string content = "public read";
  const std::string path = "/cas/" + sha256_hex(content);
  EXPECT_EQ(put_file(server, path, content), "401");
  EXPECT_EQ(put_file(server, path, content, "-H 'Authorization: Bearer tok-0123456789abcdef'"),
            "200");
  EXPECT_EQ(curl(server.url() + path).out, content + "200");
}

TEST_F(HttpCacheTest, TlsWithACertificateAndKey) {
  TempDir secrets;
  const auto made = run_shell(
      "cd " + shell_quote(secrets.path().string()) +
      " && openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 1 "
      "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>&1");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  ServeFixture server(
      {"--tls-cert", (secrets / "cert.pem").string(), "--tls-key", (secrets / "key.pem").string()});
  ASSERT_TRUE(server.started()) << server.log();
  const std::string https = "https://127.0.0.1:" + std::to_string(server.http_port());
  const std::string ca = "--cacert " + shell_quote((secrets / "cert.pem").string()) + " ";
  const std::string content = "over TLS";
  const auto file = server.dir().write_file("tls-body", content);
  EXPECT_EQ(curl(ca + "-o /dev/null -X PUT --data-binary @" + shell_quote(file.string()) + " " +
                 https + "/cas/" + sha256_hex(content))
                .out,
            "200");
  EXPECT_EQ(curl(ca + https + "/cas/" + sha256_hex(content)).out, content + "200");
  EXPECT_NE(curl(server.url() + "/healthz").out, "ok\n200") << "plain HTTP must not be served";
  EXPECT_EQ(server.stop(), 0) << server.log();
}

TEST_F(HttpCacheTest, BadAuthOrTlsFilesStopTheServerWithAClearError) {
  TempDir secrets;
  secrets.write_file("htpasswd", "dave:$apr1$x$y\n");
  const auto forge = shell_quote(forge_binary().string());
  const auto store = " --dir " + shell_quote((secrets / "store").string());
  const auto apr1 = run_shell(forge + " serve --no-grpc --http-port 0" + store + " --htpasswd " +
                              shell_quote((secrets / "htpasswd").string()));
  EXPECT_EQ(apr1.exit_code, 2);
  EXPECT_NE(apr1.err.find("htpasswd -B"), std::string::npos) << apr1.err;
  const auto half_tls =
      run_shell(forge + " serve --no-grpc --http-port 0" + store + " --tls-cert /nonexistent.pem");
  EXPECT_EQ(half_tls.exit_code, 1);
  EXPECT_NE(half_tls.err.find("--tls-key"), std::string::npos) << half_tls.err;
}

TEST_F(HttpCacheTest, ZstdUploadsAndDownloadsForCas) {
  ServeFixture server;
  ASSERT_TRUE(server.started()) << server.log();
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "line " + std::to_string(i % 97) + " of a build log\n";
  const std::string hash = sha256_hex(text);
  const auto plain = server.dir().write_file("text", text);
  const auto packed = server.dir() / "text.zst";
  ASSERT_EQ(
      run_shell("zstd -q -f " + shell_quote(plain.string()) + " -o " + shell_quote(packed.string()))
          .exit_code,
      0);
  EXPECT_EQ(curl("-o /dev/null -X PUT -H 'Content-Encoding: zstd' --data-binary @" +
                 shell_quote(packed.string()) + " " + server.url() + "/cas/" + hash)
                .out,
            "200");
  // A zstd body that decodes to other content is a mismatch like any other.
  const auto wrong =
      curl("-o /dev/null -X PUT -H 'Content-Encoding: zstd' --data-binary @" +
           shell_quote(packed.string()) + " " + server.url() + "/cas/" + sha256_hex("other"));
  EXPECT_EQ(wrong.out, "400");
  const auto got = server.dir() / "got.zst";
  const auto headers = run_shell("curl -s -D - -o " + shell_quote(got.string()) +
                                 " -H 'Accept-Encoding: zstd' " + server.url() + "/cas/" + hash);
  EXPECT_NE(headers.out.find("Content-Encoding: zstd"), std::string::npos) << headers.out;
  const auto decoded = run_shell("zstd -d -q -c " + shell_quote(got.string()));
  EXPECT_EQ(decoded.out, text);
  EXPECT_LT(std::filesystem::file_size(got), text.size() / 4) << "it was not compressed";
  // Without Accept-Encoding the bytes come back as stored.
  EXPECT_EQ(curl(server.url() + "/cas/" + hash).out, text + "200");
}

}  // namespace
}  // namespace forge::test
