#include "forge/agent/serve_process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include <fmt/format.h>

extern char** environ;

namespace forge::agent {
namespace {

int decode_status(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

Result<ServeProcess> ServeProcess::start(const std::filesystem::path& binary,
                                         const std::filesystem::path& store_dir,
                                         const std::vector<std::string>& args) {
  if (::access(binary.c_str(), X_OK) != 0) {
    return fail(Error::from_errno(errno, "exec", binary.string())
                    .with_suggestion("build the forge-serve target; it is installed beside forge"));
  }
  std::vector<std::string> argv{binary.string(), "serve", "--dir", store_dir.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> raw;
  for (auto& arg : argv) raw.push_back(arg.data());
  raw.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, binary.c_str(), nullptr, nullptr, raw.data(), environ);
  if (spawned != 0) return fail(Error::from_errno(spawned, "posix_spawn", binary.string()));
  return ServeProcess(pid);
}

ServeProcess::ServeProcess(ServeProcess&& other) noexcept
    : m_pid(std::exchange(other.m_pid, -1)), m_status(other.m_status) {}

bool ServeProcess::running() {
  if (m_pid < 0 || m_status) return false;
  int status = 0;
  if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
    m_status = decode_status(status);
    return false;
  }
  return true;
}

Result<void> ServeProcess::stop(std::chrono::milliseconds timeout) {
  if (m_pid < 0) return ok();
  if (running()) {
    ::kill(m_pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (running()) {
      ::kill(m_pid, SIGKILL);
      int status = 0;
      ::waitpid(m_pid, &status, 0);
      m_status = decode_status(status);
      return fail(Error(ErrorCategory::timeout,
                        fmt::format("forge serve (pid {}) did not stop within {} ms", m_pid,
                                    timeout.count()))
                      .with_suggestion("check its log for requests that never finish"));
    }
  }
  if (m_status && *m_status != 0) {
    return fail(Error(ErrorCategory::unknown,
                      fmt::format("forge serve (pid {}) exited with status {}", m_pid, *m_status))
                    .with_suggestion("see its messages above in the agent's log"));
  }
  return ok();
}

ServeProcess::~ServeProcess() {
  if (m_pid >= 0 && running()) {
    ::kill(m_pid, SIGKILL);
    int status = 0;
    ::waitpid(m_pid, &status, 0);
  }
}

}  // namespace forge::agent
