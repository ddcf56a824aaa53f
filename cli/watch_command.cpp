// `forge watch`: print debounced changes under a tree as they happen; optionally keep the
// scan index current so `forge scan --since` answers in O(changes).
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "args.h"
#include "command.h"
#include "forge/core/io/backend_selector.h"
#include "forge/core/scan/scanner.h"
#include "forge/core/support/lifecycle.h"
#include "forge/core/support/path_text.h"
#include "forge/core/watch/index_sync.h"

namespace forge::cli {
namespace {

using watch::PlatformWatcher;  // inotify on Linux, ReadDirectoryChangesW on Windows

constexpr std::string_view k_usage =
    "usage: forge watch [ROOT] [--json] [--debounce-ms N] [--update-index] [--index-dir DIR]\n\n"
    "Watches ROOT (default: the config's project_root, .) recursively and prints created / "
    "modified / removed /\n"
    "renamed paths, one line each (JSON lines with --json), debounced per path.\n"
    "`rescan_required` means the kernel dropped events (its reason names the sysctl to\n"
    "raise). --update-index re-checks each batch of changed paths into the scan index (a\n"
    "full rescan after rescan_required), so `forge scan --since` stays cheap.\n"
    "Runs until SIGINT or SIGTERM (Ctrl+C on Windows); exits 0 after a clean stop.\n"
    "On Windows the watcher is ReadDirectoryChangesW.";

int run(std::vector<std::string> tokens) {
  Args args(std::move(tokens));
  const bool json = args.flag("json");
  const bool update_index = args.flag("update-index");
  auto debounce = args.option("debounce-ms");
  auto index_dir = args.option("index-dir");
  if (!debounce || !index_dir) {
    fmt::print(stderr, "forge watch: {}\n",
               (!debounce ? debounce.error() : index_dir.error()).to_string());
    return k_exit_usage;
  }
  if (auto done = args.finish("--json, --debounce-ms, --update-index, --index-dir"); !done) {
    fmt::print(stderr, "forge watch: {}\n", done.error().to_string());
    return k_exit_usage;
  }
  watch::WatcherOptions options;
  if (*debounce) {
    char* end = nullptr;
    const long value = std::strtol((*debounce)->c_str(), &end, 10);
    if (end == nullptr || *end != '\0' || value < 0 || value > 60'000) {
      fmt::print(stderr, "forge watch: --debounce-ms {} is not in 0..60000\n", **debounce);
      return k_exit_usage;
    }
    options.debounce = std::chrono::milliseconds(value);
  }
  const auto positional = args.positional();
  const auto found_root = command_root("watch", positional);  // no ROOT: project_root
  if (!found_root) return k_exit_failure;
  const std::filesystem::path& root = *found_root;

  support::Lifecycle lifecycle;
  if (auto installed = lifecycle.install_signal_handlers(); !installed) {
    fmt::print(stderr, "forge watch: {}\n", installed.error().to_string());
    return k_exit_failure;
  }
  std::unique_ptr<io::PlatformIO> io;
  std::optional<scan::FileIndex> index;
  std::optional<scan::Scanner> scanner;
  std::optional<watch::IndexKeeper> keeper;
  if (update_index) {
    auto created = io::create_platform_io(effective_config().config.io);  // io.* keys
    const auto index_path =
        *index_dir ? std::filesystem::path(**index_dir) : scan::default_index_dir(root);
    auto opened = scan::FileIndex::open(index_path);
    if (!created || !opened) {
      fmt::print(stderr, "forge watch: {}\n",
                 (!created ? created.error() : opened.error()).to_string());
      return k_exit_failure;
    }
    io = std::move(*created);
    index.emplace(std::move(*opened));
    scanner.emplace(root, *index, *io);
    keeper.emplace(*scanner, *index, watch::this_process_id());
  }
  PlatformWatcher watcher(options);
  if (auto started = watcher.start(root); !started) {
    fmt::print(stderr, "forge watch: {}\n", started.error().to_string());
    return k_exit_failure;
  }
  if (!json) {
    fmt::print(stderr, "watching {} ({} directories)\n", path_utf8(root), watcher.watch_count());
    std::fflush(stderr);  // the CRT buffers a redirected stderr on Windows
  }
  if (keeper) {
    // Start from a current index, then tell `forge scan --since` that it is kept current:
    // it syncs through a cookie file instead of walking the tree.
    if (auto first = keeper->start(); !first) {
      fmt::print(stderr, "forge watch: {}\n", first.error().to_string());
      return k_exit_failure;
    }
    lifecycle.add_hook("release index", [&] { return keeper->release(); });
  }
  lifecycle.add_hook("stop watcher", [&] {
    watcher.stop();
    return ok();
  });
  lifecycle.add_hook("flush output", [] {
    std::fflush(stdout);
    return ok();
  });

  int failures = 0;
  while (!lifecycle.wait_for_shutdown(std::chrono::milliseconds(0))) {
    auto [events, cookie] = watch::take_batch(watcher, std::chrono::milliseconds(200));
    if (events.empty() && cookie.empty()) continue;
    for (const auto& event : events) {
      if (json) {
        nlohmann::json line{{"event", watch::to_string(event.kind)}, {"path", event.path}};
        if (!event.from.empty()) line["from"] = event.from;
        if (!event.reason.empty()) line["reason"] = event.reason;
        fmt::print("{}\n", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      } else if (event.kind == watch::EventKind::renamed) {
        fmt::print("renamed      {} -> {}\n", event.from, event.path);
      } else {
        fmt::print("{:<12} {}\n", watch::to_string(event.kind),
                   event.kind == watch::EventKind::rescan_required ? event.reason : event.path);
      }
    }
    std::fflush(stdout);
    if (keeper) {
      if (auto updated = keeper->apply(events, cookie); !updated) {
        ++failures;
        fmt::print(stderr, "forge watch: index update failed: {}\n", updated.error().summary());
      }
    }
  }
  const auto report = lifecycle.shutdown(std::chrono::seconds(10));
  for (const auto& failure : report.failures)
    fmt::print(stderr, "forge watch: {}\n", failure.summary());
  return failures == 0 ? lifecycle.exit_code() : k_exit_failure;
}

const CommandRegistration k_registration{Command{
    .name = "watch",
    .summary = "print changes under a tree as they happen; keep the scan index warm",
    .usage = k_usage,
    .run = run,
}};

}  // namespace
}  // namespace forge::cli
