// Write-behind never waits for the upstream: `forge serve --upstream` in front of an
// upstream that accepts connections and never answers (a listening socket nobody reads)
// answers PUTs of blobs, action results and raw entries at once, serves them back from the
// local tier, and keeps them queued for upload.
//
// Regression: a PUT of a CAS blob asked CasStore::find whether it could skip the body, and
// find() reads a local miss through from the upstream: every PUT cost an upstream GET (the
// blob downloaded if the upstream had it), so against a hung upstream each PUT waited for
// the upstream's stall timeout (30 s), and against S3 each took an extra round trip.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "forge/core/hash/digest.h"
#include "forge/core/support/unique_fd.h"
#include "forge/test/process.h"
#include "serve_fixture.h"

namespace forge::test {
namespace {

using namespace std::chrono_literals;

// A TCP listener on 127.0.0.1 that never accepts: connections complete in the kernel's
// backlog and every request goes unanswered. Its port in port().
class SilentListener {
 public:
  SilentListener() : m_fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (!m_fd || ::bind(m_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(m_fd.get(), 64) != 0 ||
        ::getsockname(m_fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      return;
    }
    m_port = ntohs(address.sin_port);
  }
  int port() const { return m_port; }

 private:
  UniqueFd m_fd;
  int m_port = 0;
};

TEST(UpstreamWriteBehindTest, PutsToAServerWithAHungUpstreamAreAnsweredFromTheLocalTier) {
  const SilentListener hung;
  ASSERT_GT(hung.port(), 0);
  ServeFixture front(
      {"--no-grpc", "--upstream", "http://127.0.0.1:" + std::to_string(hung.port())});
  ASSERT_TRUE(front.started()) << front.log();
  const auto put = [&](const std::string& path, const std::string& content) {
    const auto file = front.dir().write_file("body", content);
    // Far below the upstream's 30 s stall timeout: a PUT that asks the upstream fails here.
    return curl("--max-time 10 -o /dev/null -X PUT --data-binary @" + shell_quote(file.string()) +
                " " + front.url() + path)
        .out;
  };
  const std::string output = "an output the build just made\n";
  const std::string sha = hash::sha256_of(output).hex();
  ASSERT_EQ(put("/cas/" + sha, output), "200") << front.log();
  for (int i = 0; i < 3; ++i) {
    const std::string blob = "blob " + std::to_string(i);
    EXPECT_EQ(put("/cas/" + hash::sha256_of(blob).hex(), blob), "200") << front.log();
  }
  const std::string key = hash::sha256_of("the action").hex();
  const std::string result = action_result_with_output(output);
  EXPECT_EQ(put("/ac/" + key, result), "200") << front.log();
  EXPECT_EQ(put("/ccache/ab/cdef0123", "a ccache entry"), "200") << front.log();
  // Served back from the local tier, and still queued for the upstream.
  EXPECT_EQ(curl("--max-time 10 -o - " + front.url() + "/cas/" + sha).out, output + "200");
  EXPECT_EQ(curl("--max-time 10 -o - " + front.url() + "/ac/" + key).out, result + "200");
  EXPECT_EQ(curl("--max-time 10 -o - " + front.url() + "/ccache/ab/cdef0123").out,
            "a ccache entry200");
  const auto status = front.upstream_status();
  // Four blobs, the action entry and the raw entry (with the values they name).
  EXPECT_GE(status["queue_length"].get<int>(), 6) << status.dump();
  EXPECT_EQ(status["uploads"], 0) << status.dump();
  // No read-through was attempted for any of the writes.
  EXPECT_EQ(status["fetch_misses"], 0) << status.dump();
  EXPECT_EQ(status["fetch_errors"], 0) << status.dump();
  // The destructor ends the server with SIGKILL: its worker may be waiting on the upstream.
}

}  // namespace
}  // namespace forge::test
