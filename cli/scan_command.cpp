// `forge scan`: what changed in a tree since the last scan (or since a cursor).
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "args.h"
#include "command.h"
#include "forge/agent/wire_json.h"
#include "forge/core/io/backend_selector.h"
#include "forge/core/scan/scanner.h"
#include "forge/core/support/path_text.h"
#include "forge/core/watch/index_sync.h"
#ifndef _WIN32  // the agent (a Unix-socket server) is not ported to Windows yet (issue 18)
#include "forge/agent/client.h"
#endif

namespace forge::cli {
namespace {

constexpr std::string_view k_usage =
    "usage: forge scan [ROOT] [--json] [--since CURSOR] [--hash sha256] [--exclude GLOB]...\n"
    "                  [--no-gitignore] [--index-dir DIR] [--backend auto|uring|fallback]\n"
    "                  [--full] [--no-agent]\n\n"
    "Walks ROOT (default: the config's project_root, .), re-hashes only files whose stat changed "
    "(or that are racily\n"
    "clean), updates the index and prints what changed: added, modified, removed and\n"
    "type_changed paths with their XXH3-128 digests (and SHA-256 with --hash sha256).\n"
    "Touch-only changes are not reported. Skips .git, .forge and .gitignore'd paths.\n\n"
    "Every answer ends with a cursor; `--since CURSOR` answers what changed since that\n"
    "answer. An unknown or expired cursor answers a fresh instance: every file, flagged\n"
    "\"fresh_instance\": true. While `forge watch --update-index` keeps the index current,\n"
    "`--since` syncs with it through a cookie file and answers from the index alone, without\n"
    "walking (\"backend\": \"watcher\"); --full walks anyway. A running `forge agent` that\n"
    "watches ROOT answers `--since` itself, without this process opening the index\n"
    "(\"backend\": \"agent\"; socket: $FORGE_AGENT_SOCKET, else the agent's default);\n"
    "--no-agent does the work here. Without an agent, it silently does.\n\n"
    "The index lives in $XDG_CACHE_HOME/forge/index/<hash of ROOT> (~/.cache if unset),\n"
    "or in --index-dir. Exit 0 when every path was read, 1 when some could not be (listed\n"
    "on stderr; they keep their previous state), 2 on a usage error.";

// True when a live `forge watch --update-index` has applied every change up to now.
bool kept_current(const std::filesystem::path& root, scan::FileIndex& index) {
  return watch::sync_with_keeper(root, index);
}

int usage_error(const Error& error) {
  fmt::print(stderr, "forge scan: {}\n", error.to_string());
  return k_exit_usage;
}

// Prints an answer's changes as they come, so a scan never holds the whole list: --json
// writes each change as its batch is committed (an interrupted scan leaves the JSON
// unterminated, never a valid partial answer); the text form keeps only the first screen
// and the counts. Output is the same as printing the finished ChangeSet.
class AnswerPrinter {
 public:
  AnswerPrinter(std::filesystem::path root, std::string_view source, bool json)
      : m_root(std::move(root)), m_source(source), m_json(json) {}

  void add(const scan::Change& change) {
    ++m_counts[static_cast<int>(change.kind)];
    if (m_json) {
      // Keys in nlohmann's (sorted) order: "backend" and "changes" come first.
      fmt::print("{}{}",
                 m_total == 0 ? fmt::format("{{\"backend\":{},\"changes\":[",
                                            nlohmann::json(m_source).dump())
                              : std::string(","),
                 dump(agent::change_to_json(change)));
    } else if (m_total < k_listed) {
      m_first.push_back(fmt::format("{:<12} {}\n", scan::to_string(change.kind), change.path));
    }
    ++m_total;
  }

  // True once --json output has begun (an interrupted scan leaves it unterminated).
  bool started() const { return m_json && m_total > 0; }

  void finish(const scan::ChangeSet& answer, double elapsed_ms) {
    if (m_json) {
      nlohmann::json rest{{"root", path_utf8(m_root)},
                          {"cursor", answer.cursor},
                          {"fresh_instance", answer.fresh_instance},
                          {"entries", answer.entries},
                          {"hashed", answer.hashed},
                          {"elapsed_ms", elapsed_ms}};
      if (m_total == 0) {
        fmt::print("{{\"backend\":{},\"changes\":[", nlohmann::json(m_source).dump());
      }
      fmt::print("],{}\n", dump(rest).substr(1));
      return;
    }
    for (const auto& line : m_first) fmt::print("{}", line);
    if (m_total > k_listed) {
      fmt::print("... and {} more (use --json for all)\n", m_total - k_listed);
    }
    fmt::print(
        "{}: {} entries, {} hashed in {:.1f} ms ({}): {} added, {} modified, {} removed, "
        "{} type changed{}\ncursor {}\n",
        path_utf8(m_root), answer.entries, answer.hashed, elapsed_ms, m_source, m_counts[0],
        m_counts[1], m_counts[2], m_counts[3],
        answer.fresh_instance ? " (fresh instance: everything is new)" : "", answer.cursor);
  }

 private:
  static std::string dump(const nlohmann::json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  static constexpr std::size_t k_listed = 20;  // a terminal screen; --json has them all
  std::filesystem::path m_root;
  std::string m_source;
  bool m_json;
  std::size_t m_counts[4] = {};
  std::size_t m_total = 0;
  std::vector<std::string> m_first;
};

void print_answer(const scan::ChangeSet& answer, const std::filesystem::path& root,
                  std::string_view source, double elapsed_ms, bool json) {
  AnswerPrinter printer(root, source, json);
  for (const auto& change : answer.changes) printer.add(change);
  printer.finish(answer, elapsed_ms);
}

int run(std::vector<std::string> tokens) {
  Args args(std::move(tokens));
  const bool json = args.flag("json");
  const bool no_gitignore = args.flag("no-gitignore");
  const bool full = args.flag("full");
  [[maybe_unused]] const bool no_agent = args.flag("no-agent");  // no agent on Windows
  auto since = args.option("since");
  auto hash_name = args.option("hash");
  auto excludes = args.options("exclude");
  auto index_dir = args.option("index-dir");
  auto backend = args.option("backend");
  for (const auto* failed : {&since, &hash_name, &index_dir, &backend}) {
    if (!*failed) return usage_error(failed->error());
  }
  if (!excludes) return usage_error(excludes.error());
  if (auto done = args.finish("--json, --since, --hash, --exclude, --no-gitignore, --index-dir, "
                              "--backend, --full, --no-agent");
      !done) {
    return usage_error(done.error());
  }
  const auto positional = args.positional();
  if (positional.size() > 1) {
    return usage_error(Error(ErrorCategory::validation, "forge scan takes one ROOT")
                           .with_suggestion("scan each root separately"));
  }
  scan::ScanOptions options;
  options.walk.excludes = *excludes;
  options.walk.use_gitignore = !no_gitignore;
  if (*hash_name) {
    if (**hash_name != "sha256") {
      return usage_error(Error(ErrorCategory::validation,
                               fmt::format("--hash {}: only sha256 can be added", **hash_name))
                             .with_suggestion("use --hash sha256 (XXH3 is always computed)"));
    }
    options.sha256 = true;
  }

  const auto found_root = command_root("scan", positional);  // no ROOT: project_root
  if (!found_root) return k_exit_failure;
  const std::filesystem::path& root = *found_root;
  // A running agent that watches ROOT answers from its warm index: no index open, no walk.
  // Only for the default answer (options that change it are the local scan's to honour).
#ifndef _WIN32
  if (*since && !full && !no_agent && !*hash_name && excludes->empty() && !no_gitignore &&
      !*index_dir && !*backend) {
    const auto started = std::chrono::steady_clock::now();
    if (auto client = agent::Client::connect(agent::client_socket_path())) {
      if (auto changes = client->since(root, **since)) {
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                .count();
        print_answer(*changes, root, "agent", ms, json);
        return k_exit_ok;
      }
    }
  }
#endif
  const auto index_path =
      *index_dir ? std::filesystem::path(**index_dir) : scan::default_index_dir(root);
  options.walk.skip_dirs.push_back(index_path);

  support::IoConfig io_config = effective_config().config.io;  // io.* keys
  if (*backend) io_config.backend = **backend;
  auto io = io::create_platform_io(io_config);
  if (!io) {
    fmt::print(stderr, "forge scan: {}\n", io.error().to_string());
    return k_exit_failure;
  }
  auto index = scan::FileIndex::open(index_path);
  if (!index) {
    fmt::print(stderr, "forge scan: {}\n", index.error().to_string());
    return k_exit_failure;
  }
  scan::Scanner scanner(root, *index, **io);
  const auto started = std::chrono::steady_clock::now();
  if (*since && !full && kept_current(root, *index)) {
    // A live `forge watch --update-index` has applied every change up to our cookie: the
    // journal alone answers, in O(changes), with no walk.
    auto changes = scanner.since(**since);
    if (!changes) {
      fmt::print(stderr, "forge scan: {}\n", changes.error().to_string());
      return k_exit_failure;
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();
    print_answer(*changes, root, "watcher", ms, json);
    return k_exit_ok;
  }
  // Without --since the scan's own changes are the answer: printed as they come. With
  // --since they are not printed at all (since() answers), so they are not kept either.
  AnswerPrinter printer(root, (*io)->backend_name(), json);
  if (*since) {
    options.on_change = [](const scan::Change&) {};
  } else {
    options.on_change = [&printer](const scan::Change& change) { printer.add(change); };
  }
  auto scanned = scanner.scan(options);
  if (!scanned) {
    if (printer.started()) fmt::print("\n");  // ends the unterminated JSON: no parser accepts it
    fmt::print(stderr, "forge scan: {}\n", scanned.error().to_string());
    return k_exit_failure;
  }
  const auto elapsed_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  scan::ChangeSet answer = std::move(*scanned);
  if (*since) {
    auto changes = scanner.since(**since);
    if (!changes) {
      fmt::print(stderr, "forge scan: {}\n", changes.error().to_string());
      return k_exit_failure;
    }
    changes->entries = answer.entries;
    changes->hashed = answer.hashed;
    changes->errors = std::move(answer.errors);
    answer = std::move(*changes);
    for (const auto& change : answer.changes) printer.add(change);
  }
  for (const Error& error : answer.errors) fmt::print(stderr, "forge scan: {}\n", error.summary());

  printer.finish(answer, elapsed_ms);
  return answer.errors.empty() ? k_exit_ok : k_exit_failure;
}

const CommandRegistration k_registration{Command{
    .name = "scan",
    .summary = "report files added, modified or removed since the last scan or a cursor",
    .usage = k_usage,
    .run = run,
}};

}  // namespace
}  // namespace forge::cli
