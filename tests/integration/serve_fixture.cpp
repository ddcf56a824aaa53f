#include "serve_fixture.h"

#include <signal.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

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

ProcessResult curl(const std::string& args) {
  return run_shell("curl -s -w '%{http_code}' " + args);
}

}  // namespace forge::test
