#pragma once
// A real `forge agent` process for integration tests: its config file, its start (returns
// once it answers `status` on its socket) and clients. Header-only test helper.

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "forge/agent/client.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge::test {

class AgentProcess {
 public:
  // `dir`: where the agent keeps its config, log, socket (dir/run/agent.sock) and store
  // (dir/store); `extra`: more config members, each starting with ", ".
  AgentProcess(const std::filesystem::path& dir, const std::vector<std::string>& workspaces,
               const std::string& extra = "")
      : m_dir(dir), m_socket(dir / "run/agent.sock") {
    std::filesystem::create_directories(dir);
    std::string list;
    for (const auto& root : workspaces) list += (list.empty() ? "\"" : ", \"") + root + "\"";
    write_text(dir / "agent.json", "{\"version\": 1, \"socket\": \"" + m_socket.string() +
                                       "\", \"store_dir\": \"" + (dir / "store").string() + "\"" +
                                       extra + ", \"workspaces\": [" + list + "]}");
  }

  // Starts the agent (`forge [--config GLOBAL] agent --config agent.json`); fails the test
  // when it does not answer within 30 s.
  void start(const std::filesystem::path& global_config = {}) {
    using namespace std::chrono_literals;
    std::vector<std::string> argv{forge_binary().string()};
    if (!global_config.empty()) argv.insert(argv.end(), {"--config", global_config.string()});
    argv.insert(argv.end(), {"agent", "--config", (m_dir / "agent.json").string()});
    m_process = std::make_unique<BackgroundProcess>(argv, m_dir / "agent.log");
    for (auto deadline = std::chrono::steady_clock::now() + 30s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(50ms)) {
      if (auto client = agent::Client::connect(m_socket, 5s); client && client->result("status"))
        return;
    }
    FAIL() << "the agent did not answer; log:\n" << log();
  }

  agent::Client client() {
    auto connected = agent::Client::connect(m_socket, std::chrono::seconds(60));
    EXPECT_TRUE(connected) << connected.error().to_string();
    return std::move(*connected);
  }

  // SIGTERM; the exit code (0 after a clean stop).
  int stop() { return m_process ? m_process->stop(SIGTERM, std::chrono::seconds(40)) : -1; }
  std::string log() const { return read_text(m_dir / "agent.log"); }
  const std::filesystem::path& socket() const { return m_socket; }
  std::filesystem::path store() const { return m_dir / "store"; }

 private:
  static void write_text(const std::filesystem::path& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
  }
  static std::string read_text(const std::filesystem::path& path) {
    std::ostringstream out;
    out << std::ifstream(path).rdbuf();
    return out.str();
  }
  std::filesystem::path m_dir;
  std::filesystem::path m_socket;
  std::unique_ptr<BackgroundProcess> m_process;
};

}  // namespace forge::test
