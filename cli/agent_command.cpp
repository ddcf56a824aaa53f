// `forge agent`: the build-farm daemon (forge_agent): watched workspaces, warm hashes and the
// store behind a Unix-socket JSON API. This file only parses, wires signals and prints.
#include <cstdio>

#include <fmt/format.h>

#include "args.h"
#include "command.h"
#include "forge/agent/agent.h"
#include "forge/agent/reload_signal.h"
#include "forge/agent/sd_notify.h"
#include "forge/cmake/affected_request.h"
#include "forge/core/support/lifecycle.h"
#include "forge/core/support/log.h"
#include "forge/ninja/settle_request.h"
#include "serve_binary.h"

namespace forge::cli {
namespace {

constexpr std::string_view k_usage =
    "usage: forge agent [--config FILE] [--socket PATH]\n\n"
    "Runs the build-machine agent until SIGTERM or SIGINT (exit 0 only after a clean stop):\n"
    "watches the config's \"workspaces\" (as `forge watch --update-index`), keeps content\n"
    "hashes warm and answers newline-delimited JSON requests (since, hash, find_missing,\n"
    "get, put, status, cmake.affected, ninja.settle) on a Unix socket, by default\n"
    "$XDG_RUNTIME_DIR/forge/agent.sock, only from processes of its own uid. SIGHUP re-reads\n"
    "FILE (workspaces added or removed). Tells systemd when it is ready (Type=notify). FILE:\n"
    "  {\"version\": 1, \"workspaces\": [\"/src/a\"], \"socket\": PATH, \"store_dir\": DIR,\n"
    "   \"max_connections\": 64, \"serve\": [\"--http-port\", \"8080\"]}\n"
    "With \"serve\", it also runs `forge serve --dir STORE_DIR FLAGS...` (HTTP and gRPC cache)\n"
    "as a child and stops it with itself. The global config's cache.upstream puts an\n"
    "upstream tier behind the agent's store (put written behind, get read through).\n"
    "The protocol: README.md, \"Agent socket protocol\".";

// ninja.settle asks the scan index of the workspace covering the build dir through the
// workspace itself: the agent holds that index open (forge/ninja/source_index.h).
Result<nlohmann::json> ninja_settle(const nlohmann::json& params,
                                    const agent::WorkspaceLookup& workspaces) {
  return ninja::answer_settle_request(
      params, [&](const std::filesystem::path& path) -> std::optional<ninja::OpenIndex> {
        auto workspace = workspaces(path);
        if (!workspace) return std::nullopt;
        return ninja::OpenIndex{workspace->root(), [workspace](std::string_view cursor,
                                                               const scan::SinceOptions& options) {
                                  return workspace->since(cursor, nullptr, options);
                                }};
      });
}

int fail_with(const Error& error, int code) {
  fmt::print(stderr, "forge agent: {}\n", error.to_string());
  return code;
}

Result<agent::AgentConfig> load(const std::optional<std::string>& file,
                                const std::optional<std::string>& socket) {
  agent::AgentConfig config;
  if (file) {
    FORGE_TRY(config, agent::load_agent_config(*file));
  } else {
    config.socket = agent::default_socket_path();
  }
  if (config.store_dir.empty()) config.store_dir = effective_config().config.store_dir;
  config.cache = effective_config().config.cache;
  if (socket) config.socket = *socket;
  return config;
}

int run(std::vector<std::string> tokens) {
  Args args(std::move(tokens));
  auto file = args.option("config");
  auto socket = args.option("socket");
  if (!file || !socket) return fail_with(!file ? file.error() : socket.error(), k_exit_usage);
  if (auto done = args.finish("--config, --socket"); !done)
    return fail_with(done.error(), k_exit_usage);
  if (!args.positional().empty()) {
    fmt::print(stderr, "forge agent: takes no positional arguments\n\n{}\n", k_usage);
    return k_exit_usage;
  }
  auto config = load(*file, *socket);
  if (!config) return fail_with(config.error(), k_exit_usage);

  support::Lifecycle lifecycle;
  if (auto installed = lifecycle.install_signal_handlers(); !installed) {
    return fail_with(installed.error(), k_exit_failure);
  }
  if (auto installed = agent::install_reload_handler(); !installed) {
    return fail_with(installed.error(), k_exit_failure);
  }
  auto started = agent::Agent::start(
      *config, effective_config().config.io, serve_binary_path(),
      {{"cmake.affected", [](const nlohmann::json& params,
                             const auto&) { return cmake::answer_affected_request(params); }},
       {"ninja.settle", &ninja_settle}});
  if (!started) return fail_with(started.error(), k_exit_failure);
  auto& running = **started;
  lifecycle.add_hook("stop agent", [&] { return running.stop(); });
  fmt::print(stderr, "forge agent: serving on {} ({} workspaces)\n", config->socket.string(),
             config->workspaces.size());
  if (auto ready = agent::sd_notify("READY=1"); !ready) support::log_error(ready.error());

  while (!lifecycle.wait_for_shutdown(std::chrono::milliseconds(200))) {
    if (!agent::take_reload_request()) continue;
    if (!*file) continue;  // no file: nothing to re-read
    (void)agent::sd_notify("RELOADING=1");
    auto reread = load(*file, *socket);
    auto applied = reread ? running.reload(*reread) : fail(reread.error());
    if (!applied) {
      support::log_error(applied.error());
      fmt::print(stderr, "forge agent: reload failed: {}\n", applied.error().summary());
    } else {
      fmt::print(stderr, "forge agent: reloaded {} ({} workspaces)\n", **file,
                 reread->workspaces.size());
    }
    (void)agent::sd_notify("READY=1");
  }
  (void)agent::sd_notify("STOPPING=1");
  const auto report = lifecycle.shutdown(std::chrono::seconds(30));
  for (const auto& failure : report.failures)
    fmt::print(stderr, "forge agent: {}\n", failure.summary());
  return lifecycle.exit_code();
}

const CommandRegistration k_registration{Command{
    .name = "agent",
    .summary = "run the build-machine daemon: watched workspaces, warm hashes, socket API",
    .usage = k_usage,
    .run = run,
}};

}  // namespace
}  // namespace forge::cli
