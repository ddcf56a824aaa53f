// `forge hash`: digests of files, sha256sum-compatible, through the batch I/O engine.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "args.h"
#include "command.h"
#include "forge/core/io/backend_selector.h"
#include "forge/core/scan/file_list.h"
#include "forge/core/support/path_text.h"
#ifndef _WIN32
#include "forge/agent/client.h"  // no agent on Windows yet (issue 18)
#endif

namespace forge::cli {
namespace {

constexpr std::string_view k_usage =
    "usage: forge hash [--algo sha256|xxh3|both] [--backend auto|uring|fallback] [--json]\n"
    "                  [--no-agent] PATH... | -\n\n"
    "Prints the digest of every file. Directories are hashed recursively (symlinks are not\n"
    "followed into directories). `-` reads paths from stdin, NUL-separated if the input\n"
    "contains a NUL, else one per line.\n\n"
    "Output: `HEX  NAME` lines, as sha256sum and `xxhsum -H2` print them (names holding a\n"
    "newline or backslash are escaped and the line starts with `\\`, as GNU does), so\n"
    "`forge hash FILE | sha256sum -c` verifies. With `--algo both`: `SHA256 (NAME) = HEX` and\n"
    "`XXH128 (NAME) = HEX` lines. `--json`: one JSON object per line.\n"
    "Only regular files are hashed: a FIFO, device or socket (also through a symlink) is\n"
    "reported as not a regular file, never read. Unreadable paths are reported on stderr;\n"
    "every other path is still hashed; exit 1.\n"
    "A running `forge agent` hashes for it (warm: only files whose stat changed are read);\n"
    "--no-agent (or --backend) hashes here; without an agent it silently does.";

// Paths per batch: big enough to keep both rings full, small enough that results stream.
constexpr std::size_t k_batch = 4096;

std::string escape_name(const std::string& name, bool& escaped) {
  escaped = name.find_first_of("\\\n") != std::string::npos;
  if (!escaped) return name;
  std::string out;
  for (char c : name) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::vector<std::string> read_stdin_paths() {
  // read(2) in large chunks: an istreambuf_iterator over std::cin costs a virtual call per
  // byte, a few percent of `forge hash -` over small files (issue 20).
  std::string input;
  std::vector<char> chunk(1 << 16);
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    input.append(chunk.data(), static_cast<std::size_t>(n));
  }
  const char separator = input.find('\0') != std::string::npos ? '\0' : '\n';
  std::vector<std::string> paths;
  std::size_t start = 0;
  while (start < input.size()) {
    std::size_t end = input.find(separator, start);
    if (end == std::string::npos) end = input.size();
    if (end > start) paths.emplace_back(input, start, end - start);
    start = end + 1;
  }
  return paths;
}

// Expands directories (sorted in path order, recursively, without following symlinked
// directories) through the scanner's parallel walker.
void expand(const std::string& arg, std::vector<std::filesystem::path>& out, int& failures) {
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(arg, ec);
  if (ec || !std::filesystem::is_directory(status)) {
    out.emplace_back(arg);  // missing paths fail later, in order, with the OS error
    return;
  }
  auto listed = scan::list_files(arg);
  if (!listed) {
    fmt::print(stderr, "forge hash: {}\n", listed.error().summary());
    ++failures;
    return;
  }
  for (const Error& error : listed->errors) {
    fmt::print(stderr, "forge hash: {}\n", error.summary());
    ++failures;
  }
  std::move(listed->files.begin(), listed->files.end(), std::back_inserter(out));
}

int run(std::vector<std::string> tokens) {
  Args args(std::move(tokens));
  auto algo = args.option("algo");
  auto backend = args.option("backend");
  const bool json = args.flag("json");
  const bool no_agent = args.flag("no-agent");
  if (!algo || !backend) {
    fmt::print(stderr, "forge hash: {}\n", (!algo ? algo.error() : backend.error()).to_string());
    return k_exit_usage;
  }
  if (auto done = args.finish("--algo, --backend, --json, --no-agent"); !done) {
    fmt::print(stderr, "forge hash: {}\n", done.error().to_string());
    return k_exit_usage;
  }
  hash::AlgorithmSet algorithms{true, false};
  const std::string algo_name = algo->value_or("sha256");
  if (algo_name == "both") {
    algorithms = hash::AlgorithmSet::both();
  } else if (auto parsed = hash::parse_algorithm(algo_name)) {
    algorithms = hash::AlgorithmSet::only(*parsed);
  } else {
    fmt::print(stderr, "forge hash: {}\n", parsed.error().to_string());
    return k_exit_usage;
  }
  std::vector<std::string> inputs = args.positional();
  if (inputs.empty()) {
    fmt::print(stderr, "forge hash: no paths given\n\n{}\n", k_usage);
    return k_exit_usage;
  }

  support::IoConfig config = effective_config().config.io;  // io.* keys
  if (*backend) config.backend = **backend;
  auto io = io::create_platform_io(config);
  if (!io) {
    fmt::print(stderr, "forge hash: {}\n", io.error().to_string());
    return k_exit_failure;
  }

  int failures = 0;
  std::vector<std::filesystem::path> paths;
  for (const std::string& input : inputs) {
    if (input == "-") {
      for (std::string& path : read_stdin_paths()) paths.emplace_back(std::move(path));
    } else {
      expand(input, paths, failures);
    }
  }

#ifndef _WIN32
  // A running agent hashes from its warm cache; any failure talking to it: hash here.
  std::optional<agent::Client> agent_client;
  if (!no_agent && !*backend) {
    if (auto connected = agent::Client::connect(agent::client_socket_path())) {
      agent_client.emplace(std::move(*connected));
    }
  }
#else
  (void)no_agent;  // the agent is not ported to Windows: every hash is computed here
#endif
  std::string out;
  for (std::size_t begin = 0; begin < paths.size(); begin += k_batch) {
    const auto batch = std::span(paths).subspan(begin, std::min(k_batch, paths.size() - begin));
    std::vector<Result<io::HashResult>> results;
#ifndef _WIN32
    if (agent_client) {
      std::vector<std::filesystem::path> absolute;
      for (const auto& path : batch) absolute.push_back(std::filesystem::absolute(path));
      if (auto answered = agent_client->hash(absolute, algorithms)) {
        results = std::move(*answered);
      } else {
        agent_client.reset();
      }
    }
#endif
    if (results.empty()) results = (*io)->batch_hash(batch, algorithms);
    out.clear();
    for (std::size_t i = 0; i < batch.size(); ++i) {
#ifdef _WIN32
      const std::string name = path_utf8(batch[i]);  // UTF-8, '/' (the ANSI code page loses names)
#else
      const std::string name = batch[i].string();
#endif
      if (!results[i]) {
        ++failures;
        fmt::print(stderr, "forge hash: {}\n", results[i].error().summary());
        continue;
      }
      const hash::Digests& digests = results[i]->digests;
      if (json) {
        nlohmann::json line{{"path", name}, {"size", results[i]->size}};
        if (digests.sha256) line["sha256"] = digests.sha256->hex();
        if (digests.xxh3) line["xxh3"] = digests.xxh3->hex();
        out += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        out += '\n';
        continue;
      }
      bool escaped = false;
      const std::string shown = escape_name(name, escaped);
      const std::string_view prefix = escaped ? "\\" : "";
      // Appended piecewise: a formatted temporary per line showed in profiles (issue 20).
      if (digests.sha256 && digests.xxh3) {
        out.append(prefix).append("SHA256 (").append(shown).append(") = ");
        out.append(digests.sha256->hex()).push_back('\n');
        out.append(prefix).append("XXH128 (").append(shown).append(") = ");
        out.append(digests.xxh3->hex()).push_back('\n');
      } else {
        const hash::Digest& digest = digests.sha256 ? *digests.sha256 : *digests.xxh3;
        out.append(prefix).append(digest.hex()).append("  ").append(shown).push_back('\n');
      }
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  std::fflush(stdout);
  return failures == 0 ? k_exit_ok : k_exit_failure;
}

const CommandRegistration k_registration{Command{
    .name = "hash",
    .summary = "print SHA-256 / XXH3-128 digests of files (sha256sum-compatible)",
    .usage = k_usage,
    .run = run,
}};

}  // namespace
}  // namespace forge::cli
