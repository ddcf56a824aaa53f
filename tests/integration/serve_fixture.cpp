#include "serve_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "forge/core/hash/digest.h"
#include "forge/core/support/unique_fd.h"

namespace forge::test {

ServeFixture::ServeFixture(const std::vector<std::string>& extra_args,
                           const std::vector<std::string>& global_args) {
  std::vector<std::string> argv{forge_binary().string()};
  argv.insert(argv.end(), global_args.begin(), global_args.end());
  argv.insert(argv.end(), {"serve", "--dir", (m_dir / "store").string(), "--http-port", "0",
                           "--grpc-port", "0", "--port-file", (m_dir / "ports.json").string()});
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  m_process = std::make_unique<BackgroundProcess>(argv, m_dir / "serve.log");
  if (!wait_for_file(m_dir / "ports.json", std::chrono::seconds(60))) return;
  const auto ports = nlohmann::json::parse(m_dir.read_file("ports.json"));
  m_http_port = ports["http"].get<int>();
  m_grpc_port = ports["grpc"].get<int>();
}

ServeFixture::~ServeFixture() {
  if (m_process && m_process->running()) m_process->stop(SIGKILL, std::chrono::seconds(10));
}

std::string ServeFixture::url() const {
  return "http://127.0.0.1:" + std::to_string(m_http_port);
}

std::string ServeFixture::log() const {
  return m_dir.read_file("serve.log");
}

int ServeFixture::stop() {
  return m_process->stop(SIGTERM, std::chrono::seconds(40));
}

int ServeFixture::wait_for_exit() {
  return m_process->stop(0, std::chrono::seconds(40));  // signal 0: only waits
}

nlohmann::json ServeFixture::upstream_status() const {
  const auto json =
      nlohmann::json::parse(run_shell("curl -s " + url() + "/status").out, nullptr, false);
  if (json.is_discarded() || !json.is_object() || !json.contains("upstream")) return {};
  return json["upstream"];
}

bool ServeFixture::wait_for_empty_upload_queue(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto status = upstream_status();
    if (status.is_object() && status.value("queue_length", -1) == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string action_result_with_output(const std::string& content) {
  auto varint = [](std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
      out.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out.push_back(static_cast<char>(v));
  };
  auto field = [&](std::string& out, int number, const std::string& payload) {
    varint(out, (static_cast<std::uint64_t>(number) << 3) | 2);
    varint(out, payload.size());
    out += payload;
  };
  std::string digest, output_file, result;
  field(digest, 1, hash::sha256_of(content).hex());
  varint(digest, 2 << 3);
  varint(digest, content.size());
  field(output_file, 1, "bazel-out/k8-fastbuild/bin/hello.o");
  field(output_file, 2, digest);
  field(result, 2, output_file);
  return result;
}

int free_tcp_port() {
  const UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return 0;
  }
  return ntohs(address.sin_port);
}

ProcessResult curl(const std::string& args) {
  return run_shell("curl -s -w '%{http_code}' " + args);
}

}  // namespace forge::test
