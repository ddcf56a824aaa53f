// `forge serve` runs the `forge-serve` executable installed beside `forge`, with the same
// arguments (git's git-<command> pattern). The server links gRPC, protobuf, Boost.Asio and
// OpenSSL: loading them and running their static initialisers costs ~15 ms at every start,
// more than `forge scan --since` needs for its whole answer, so they stay out of `forge`.
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "command.h"
#include "serve_binary.h"
#include "serve_usage.h"

namespace forge::cli {
namespace {

int run(std::vector<std::string>) {
  const auto server = serve_binary_path();
  std::vector<std::string> arguments{server.string()};
  for (const auto& argument : original_arguments()) arguments.push_back(argument);
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  ::execv(server.c_str(), argv.data());
  fmt::print(stderr,
             "forge serve: cannot run {}: {}\n  hint: build it with `cmake --build --preset "
             "default` (target forge-serve); it is installed beside forge\n",
             server.string(), std::strerror(errno));
  return k_exit_failure;
}

const CommandRegistration k_registration{serve_command(run)};

}  // namespace
}  // namespace forge::cli
