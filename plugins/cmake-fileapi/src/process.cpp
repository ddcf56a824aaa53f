#include "forge/cmake/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "forge/core/support/unique_fd.h"

extern char** environ;

namespace forge::cmake {
namespace {

Result<void> make_pipe(UniqueFd& read_end, UniqueFd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return fail(Error::from_errno(errno, "pipe2"));
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return ok();
}

// Reads both pipes until both reach end of file (poll, so a child filling one pipe while we
// wait on the other cannot deadlock).
Result<void> drain(UniqueFd& out_fd, UniqueFd& err_fd, ProgramOutput& output,
                   const std::string& program) {
  char buffer[65536];
  while (out_fd.valid() || err_fd.valid()) {
    pollfd fds[2] = {{out_fd.get(), POLLIN, 0}, {err_fd.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return fail(Error::from_errno(errno, "poll", program));
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      UniqueFd& fd = i == 0 ? out_fd : err_fd;
      std::string& text = i == 0 ? output.out : output.err;
      const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        fd.reset();
        continue;
      }
      if (text.size() + static_cast<std::size_t>(got) > k_max_output) {
        return fail(Error(ErrorCategory::validation,
                          fmt::format("{} printed more than {} bytes", program, k_max_output))
                        .with_suggestion("check that the build directory is the one intended"));
      }
      text.append(buffer, static_cast<std::size_t>(got));
    }
  }
  return ok();
}

}  // namespace

Result<ProgramOutput> run_program(const std::vector<std::string>& argv,
                                  const std::filesystem::path& cwd) {
  UniqueFd out_read, out_write, err_read, err_write;
  FORGE_TRY_VOID(make_pipe(out_read, out_write));
  FORGE_TRY_VOID(make_pipe(err_read, err_write));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), 1);
  posix_spawn_file_actions_adddup2(&actions, err_write.get(), 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int spawned = ::posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    return fail(Error(ErrorCategory::dependency,
                      fmt::format("cannot run {}: {}", argv[0], std::strerror(spawned)), spawned)
                    .with_file(argv[0])
                    .with_suggestion(fmt::format("install {} (scripts/install-deps.sh) or put "
                                                 "it on PATH",
                                                 argv[0])));
  }
  out_write.reset();
  err_write.reset();
  ProgramOutput output;
  auto drained = drain(out_read, err_read, output, argv[0]);
  if (!drained) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!drained) return fail(std::move(drained).error());
  output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return output;
}

}  // namespace forge::cmake
