#pragma once
// A real `forge serve` process on 127.0.0.1 with ports picked by the kernel, over a store in
// a temp dir. Stopped with SIGTERM by stop() (which returns the exit code) or the destructor.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge::test {

class ServeFixture {
 public:
  // `global_args` go before the command (`forge --config FILE serve ...`).
  explicit ServeFixture(const std::vector<std::string>& extra_args = {},
                        const std::vector<std::string>& global_args = {});
  ~ServeFixture();

  bool started() const { return m_http_port > 0; }
  int http_port() const { return m_http_port; }
  int grpc_port() const { return m_grpc_port; }
  std::string url() const;  // http://127.0.0.1:PORT
  const TempDir& dir() const { return m_dir; }
  std::filesystem::path store() const { return m_dir / "store"; }
  std::string log() const;
  pid_t pid() const { return m_process ? m_process->pid() : -1; }
  int stop();  // SIGTERM; the exit code (-1 on timeout)
  // Waits for an exit that something else caused (no signal sent); the exit code.
  int wait_for_exit();
  // /status's "upstream" object (queue_length, upload_errors, fetch_hits, ...); null when
  // the server has no upstream or does not answer.
  nlohmann::json upstream_status() const;
  // Polls /status until the upload queue is empty; false on timeout.
  bool wait_for_empty_upload_queue(std::chrono::milliseconds timeout) const;

 private:
  TempDir m_dir;
  std::unique_ptr<BackgroundProcess> m_process;
  int m_http_port = 0;
  int m_grpc_port = 0;
};

// A minimal REAPI ActionResult with one output file holding `content` (field numbers from
// the REAPI spec).
std::string action_result_with_output(const std::string& content);

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released), for
// programs that cannot report the port they picked (nginx, python3 -m http.server).
int free_tcp_port();

// `curl -s` with `args`, returning "<http code>" on stdout (body to `body_file` if given).
ProcessResult curl(const std::string& args);

}  // namespace forge::test
