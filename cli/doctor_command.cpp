// `forge doctor`: the platform, the I/O backend Forge would choose and why, and the limits
// that matter for the configured project, with a warning for each that is too low.
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "args.h"
#include "command.h"
#include "forge/core/io/backend_selector.h"
#include "forge/core/support/platform.h"

namespace forge::cli {
namespace {

constexpr std::string_view k_usage =
    "usage: forge doctor [--config FILE] [--set KEY=VALUE]... [--json] [PROJECT_ROOT]\n\n"
    "Reports the platform, kernel, the I/O backend that would be chosen and why, io_uring\n"
    "availability, the open-file limit, inotify limits and the LMDB version, and warns where a\n"
    "limit is too low for the project (default: the config's project_root, else .).\n"
    "On Windows the backend is IOCP, and there are no descriptor or inotify limits to check\n"
    "(those fields read 0).\n"
    "Exit 0 when nothing needs attention, 1 when there are warnings, 2 on usage errors.";

// Directories under root, counting at most `cap` (a watcher needs one inotify watch each).
std::uint64_t count_directories(const std::filesystem::path& root, std::uint64_t cap) {
  std::uint64_t count = 1;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(
           root, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator() && count < cap;
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      if (it->path().filename() == ".git") {
        it.disable_recursion_pending();
        continue;
      }
      ++count;
    }
  }
  return count;
}

int run(std::vector<std::string> tokens) {
  Args args(std::move(tokens));
  const bool json_output = args.flag("json");
  auto config_file = args.option("config");
  auto sets = args.options("set");
  if (!config_file || !sets) {
    fmt::print(stderr, "forge doctor: {}\n",
               (!config_file ? config_file.error() : sets.error()).to_string());
    return k_exit_usage;
  }
  if (auto done = args.finish("--config, --set, --json"); !done) {
    fmt::print(stderr, "forge doctor: {}\n", done.error().to_string());
    return k_exit_usage;
  }
  // The run's configuration, with this command's own --config/--set on top.
  support::ConfigInputs inputs = config_inputs();
  if (*config_file) inputs.config_file = **config_file;
  for (const auto& assignment : *sets) inputs.flags.push_back({assignment, "--set"});
  auto config = support::load_effective_config(inputs);
  if (!config) {
    fmt::print(stderr, "forge doctor: {}\n", config.error().to_string());
    return k_exit_failure;
  }
  const auto positional = args.positional();
  const std::filesystem::path root =
      positional.empty() ? config->config.project_root : std::filesystem::path(positional[0]);

  const support::PlatformInfo platform = support::detect_platform();
  const io::BackendProbe& probe = io::probe_io_uring();
  auto choice = io::effective_backend_choice(config->config.io);
  std::string backend = "fallback";
  std::string why = probe.reason;
  if (!choice) {
    backend = "none";
    why = choice.error().summary();
  } else if (*choice == io::BackendChoice::fallback) {
    why = "forced by FORGE_IO_BACKEND or io.backend";
  } else if (probe.uring_available) {
    backend = "io_uring";
  }
#ifdef _WIN32
  // IOCP is the one backend built on Windows: report what opening it gives.
  if (choice) {
    auto io = io::create_platform_io(config->config.io);
    backend = io ? std::string((*io)->backend_name()) : "none";
    if (!io) why = io.error().summary();
  }
#endif

  std::vector<std::string> warnings;
  const std::uint64_t handles_needed =
      config->config.io.max_file_handles + 64;  // + stdio, sockets, LMDB
  if (platform.nofile_soft != 0 && platform.nofile_soft < handles_needed) {  // 0: no rlimit
    warnings.push_back(fmt::format(
        "open-file limit {} is below io.max_file_handles + 64 = {}: raise it with `ulimit -n {}` "
        "(hard limit {}) or lower io.max_file_handles",
        platform.nofile_soft, handles_needed, handles_needed, platform.nofile_hard));
  }
  const std::uint64_t directories = count_directories(root, 2'000'000);
  if (platform.inotify_max_user_watches != 0 && platform.inotify_max_user_watches < directories) {
    warnings.push_back(fmt::format(
        "{} has {} directories but fs.inotify.max_user_watches is {}: `forge watch` would fall "
        "back to rescans; raise it with `sysctl fs.inotify.max_user_watches={}`",
        root.string(), directories, platform.inotify_max_user_watches, directories * 2));
  }
  if (platform.io_uring_disabled == 2) {
    warnings.push_back(
        "kernel.io_uring_disabled=2: the slower fallback backend is used; "
        "`sysctl kernel.io_uring_disabled=0` enables io_uring");
  } else if (platform.os == "Linux" && choice && *choice != io::BackendChoice::fallback &&
             !probe.uring_available) {
    warnings.push_back(
        fmt::format("io_uring is unavailable ({}): the fallback backend is used", probe.reason));
  }

  if (json_output) {
    nlohmann::json out{{"platform", platform.os},
                       {"kernel", platform.kernel_release},
                       {"architecture", platform.architecture},
                       {"cpus", platform.cpu_count},
                       {"io_backend", backend},
                       {"io_backend_reason", why},
                       {"io_uring_available", probe.uring_available},
                       {"io_uring_disabled_sysctl", platform.io_uring_disabled},
                       {"open_files",
                        {{"soft", platform.nofile_soft},
                         {"hard", platform.nofile_hard},
                         {"max_file_handles", config->config.io.max_file_handles}}},
                       {"inotify",
                        {{"max_user_watches", platform.inotify_max_user_watches},
                         {"max_user_instances", platform.inotify_max_user_instances},
                         {"max_queued_events", platform.inotify_max_queued_events}}},
                       {"project_root", root.string()},
                       {"project_directories", directories},
                       {"lmdb_version", platform.lmdb_version},
                       {"warnings", warnings}};
    fmt::print("{}\n", out.dump(2));
  } else {
    fmt::print("platform       {} {} ({}), {} CPUs\n", platform.os, platform.kernel_release,
               platform.architecture, platform.cpu_count);
    fmt::print("io backend     {}: {}\n", backend, why);
    fmt::print("io_uring       {} (kernel.io_uring_disabled={})\n",
               probe.uring_available ? "available" : "unavailable", platform.io_uring_disabled);
    fmt::print("open files     soft {}, hard {}; io.max_file_handles {}\n", platform.nofile_soft,
               platform.nofile_hard, config->config.io.max_file_handles);
    fmt::print("inotify        max_user_watches {}, max_user_instances {}, max_queued_events {}\n",
               platform.inotify_max_user_watches, platform.inotify_max_user_instances,
               platform.inotify_max_queued_events);
    fmt::print("project        {} ({} directories)\n", root.string(), directories);
    fmt::print("lmdb           {}\n", platform.lmdb_version);
    for (const auto& warning : warnings) fmt::print("warning: {}\n", warning);
    if (warnings.empty()) fmt::print("no problems found\n");
  }
  return warnings.empty() ? k_exit_ok : k_exit_failure;
}

const CommandRegistration k_registration{Command{
    .name = "doctor",
    .summary = "report platform, I/O backend choice, limits, and warn where they are too low",
    .usage = k_usage,
    .run = run,
}};

}  // namespace
}  // namespace forge::cli
