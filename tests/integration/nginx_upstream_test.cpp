// nginx with its WebDAV module as the http:// upstream of `forge serve` (as ccache users run
// it): nginx is started by the test on a free port in a temp dir; one front server writes
// through to it, a second one with an empty store reads through from it.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "forge/core/hash/digest.h"
#include "forge/test/process.h"
#include "serve_fixture.h"

namespace forge::test {
namespace {

// nginx serving DIR/www with PUT (WebDAV) on 127.0.0.1:port, logs and temp files in DIR.
class Nginx {
 public:
  Nginx() {
    const std::string root = m_dir.path().string();
    m_dir.write_file("www/.keep", "");
    m_port = free_tcp_port();
    // As root, nginx's workers would run as nobody and could not write the temp dir.
    const std::string user = ::geteuid() == 0 ? "user root;\n" : "";
    m_dir.write_file(
        "nginx.conf",
        user + "worker_processes 1;\ndaemon off;\npid " + root + "/nginx.pid;\n" + "error_log " +
            root + "/error.log;\nevents { worker_connections 64; }\nhttp {\n" +
            "  access_log off;\n  client_max_body_size 0;\n" + "  client_body_temp_path " + root +
            "/body;\n  proxy_temp_path " + root + "/proxy;\n" + "  fastcgi_temp_path " + root +
            "/fastcgi;\n  uwsgi_temp_path " + root + "/uwsgi;\n" + "  scgi_temp_path " + root +
            "/scgi;\n" + "  server {\n    listen 127.0.0.1:" + std::to_string(m_port) + ";\n" +
            "    root " + root + "/www;\n    location / {\n      dav_methods PUT;\n" +
            "      create_full_put_path on;\n      dav_access user:rw;\n    }\n  }\n}\n");
    m_process = std::make_unique<BackgroundProcess>(
        std::vector<std::string>{"nginx", "-p", root, "-e", root + "/error.log", "-c",
                                 root + "/nginx.conf"},
        m_dir / "nginx.log");
    for (int i = 0; i < 200; ++i) {
      if (curl("-o /dev/null " + url() + "/.keep").out == "200") return;
      ::usleep(25'000);
    }
    m_port = 0;
  }
  ~Nginx() {
    if (m_process) m_process->stop(SIGTERM, std::chrono::seconds(10));
  }
  bool started() const { return m_port > 0; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
  std::filesystem::path www() const { return m_dir / "www"; }
  std::string log() const { return m_dir.read_file("error.log"); }

 private:
  TempDir m_dir;
  int m_port = 0;
  std::unique_ptr<BackgroundProcess> m_process;
};

std::string put(const ServeFixture& server, const std::string& path, const std::string& content) {
  const auto file = server.dir().write_file("upload", content);
  return curl("-o /dev/null -X PUT --data-binary @" + shell_quote(file.string()) + " " +
              server.url() + path)
      .out;
}

TEST(NginxUpstreamTest, WritesGoThroughToWebDavAndAnEmptyServerReadsThemBack) {
  if (run_shell("command -v nginx").exit_code != 0) GTEST_SKIP() << "nginx is not installed";
  Nginx nginx;
  ASSERT_TRUE(nginx.started()) << nginx.log();
  const std::string output = "compiled by one machine\n";
  const std::string sha = hash::sha256_of(output).hex();
  const std::string key = hash::sha256_of("an action").hex();
  const std::string result = action_result_with_output(output);
  {
    ServeFixture writer(
        {"--no-grpc", "--upstream", nginx.url() + "/", "--upstream-write", "through"});
    ASSERT_TRUE(writer.started()) << writer.log();
    EXPECT_EQ(put(writer, "/cas/" + sha, output), "200");
    EXPECT_EQ(put(writer, "/ac/" + key, result), "200");
    // Written through: nginx holds the files before the client got its answer.
    EXPECT_TRUE(std::filesystem::exists(nginx.www() / "cas" / sha)) << nginx.log();
    EXPECT_TRUE(std::filesystem::exists(nginx.www() / "ac" / key)) << nginx.log();
  }
  ServeFixture reader({"--no-grpc", "--upstream", nginx.url() + "/"});
  ASSERT_TRUE(reader.started()) << reader.log();
  // The action entry is validated against its output, which is read through as well.
  EXPECT_EQ(curl("-o - " + reader.url() + "/ac/" + key).out, result + "200") << reader.log();
  EXPECT_EQ(curl("-o - " + reader.url() + "/cas/" + sha).out, output + "200") << reader.log();
  const auto absent = curl("-o /dev/null " + reader.url() + "/cas/" + std::string(64, 'a')).out;
  EXPECT_EQ(absent, "404");
  EXPECT_EQ(reader.stop(), 0) << reader.log();
}

}  // namespace
}  // namespace forge::test
