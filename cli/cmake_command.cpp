// `forge cmake`: which CMake targets and tests a change affects, from CMake's file API.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "args.h"
#include "command.h"
#include "forge/cmake/affected.h"
#include "forge/cmake/file_api.h"
#include "forge/cmake/fingerprint.h"
#include "forge/cmake/loader.h"
#include "forge/cmake/model_json.h"
#include "forge/cmake/reconfigure.h"
#include "forge/core/io/backend_selector.h"
#include "forge/core/scan/scanner.h"

namespace forge::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view k_usage =
    "usage: forge cmake query -B BUILD\n"
    "       forge cmake targets -B BUILD [--config CONFIG] [--no-cache] [--json]\n"
    "       forge cmake affected -B BUILD (--files FILE... | --stdin | --since CURSOR)\n"
    "                            [--config CONFIG] [--reconfigure] [--index-dir DIR]\n"
    "                            [--no-cache] [--json]\n\n"
    "Reads the CMake file-API reply of BUILD (codemodel v2, cmakeFiles v1, toolchains v1),\n"
    "Ninja's deps log (`ninja -t deps`) and ctest's test list. The first run writes the query\n"
    "BUILD/.cmake/api/v1/query/client-forge/query.json; cmake answers it at every configure.\n"
    "With the Ninja generators the model is cached in BUILD/.forge/cmake and reused until a\n"
    "configure or a build changes the reply, build.ninja, .ninja_deps or .ninja_log\n"
    "(--no-cache: read everything again; the JSON's model_from_cache says which).\n\n"
    "targets: every target with its sources, dependencies, artifacts, tests and fingerprint\n"
    "  (a digest of its inputs' contents, compile settings and dependencies' fingerprints,\n"
    "  equal across build dirs and checkouts of the same source).\n"
    "affected: the targets a build would redo for the changed files (directly: own sources,\n"
    "  headers; transitively: they consume an affected target's objects or library), the\n"
    "  tests to run (`ctest -R \"$(... --json | jq -r .test_regex)\"`), and whether a CMake\n"
    "  input changed (reconfigure needed). --reconfigure then runs cmake and adds the\n"
    "  targets whose compile settings or configure_file outputs changed.\n"
    "  --files: the files named; --stdin: one path per line; --since CURSOR: what changed in\n"
    "  the source tree since a `forge scan` cursor (the answer carries the next cursor).\n\n"
    "Exit 0 on an answer, 1 when the build dir cannot be read, 2 on a usage error.";

int usage_error(const Error& error) {
  fmt::print(stderr, "forge cmake: {}\n", error.to_string());
  return k_exit_usage;
}

int failure(const Error& error) {
  fmt::print(stderr, "forge cmake: {}\n", error.to_string());
  return k_exit_failure;
}

// Accepts cmake's own spelling: -B BUILD and -BBUILD become --build-dir BUILD.
std::vector<std::string> translate_short_options(std::vector<std::string> tokens) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] == "--") {
      out.insert(out.end(), tokens.begin() + static_cast<std::ptrdiff_t>(i), tokens.end());
      break;
    }
    if (tokens[i] == "-B") {
      out.push_back("--build-dir");
    } else if (tokens[i].starts_with("-B")) {
      out.push_back("--build-dir=" + tokens[i].substr(2));
    } else {
      out.push_back(std::move(tokens[i]));
    }
  }
  return out;
}

// The files changed since `cursor` in the source tree, from a scan of it (forge scan's index).
Result<std::vector<std::string>> changed_since(const cmake::Model& model, const std::string& cursor,
                                               const std::optional<std::string>& index_dir,
                                               std::string& next_cursor, bool& fresh) {
  const fs::path root = model.source_dir;
  const fs::path index_path = index_dir ? fs::path(*index_dir) : scan::default_index_dir(root);
  scan::ScanOptions options;
  options.walk.skip_dirs.push_back(index_path);
  options.walk.skip_dirs.push_back(model.build_dir);
  FORGE_TRY(auto io, io::create_platform_io(effective_config().config.io));  // io.* keys
  FORGE_TRY(auto index, scan::FileIndex::open(index_path));
  scan::Scanner scanner(root, index, *io);
  FORGE_TRY(auto scanned, scanner.scan(options));
  FORGE_TRY(auto changes, scanner.since(cursor));
  next_cursor = changes.cursor;
  fresh = changes.fresh_instance;
  std::vector<std::string> files;
  for (const auto& change : changes.changes) {
    if (change.type != scan::EntryType::directory) files.push_back((root / change.path).string());
  }
  return files;
}

void print_affected(const cmake::Model& model, const cmake::Affected& affected) {
  auto names = [&](const std::vector<std::size_t>& indices) {
    std::vector<std::string> out;
    for (std::size_t i : indices) out.push_back(model.targets[i].name);
    return out;
  };
  fmt::print("changed: {} file(s)\n", affected.changed.size());
  if (affected.reconfigure_needed) {
    fmt::print(
        "reconfigure needed: CMake input(s) changed: {} (pass --reconfigure to see what "
        "it changes)\n",
        fmt::join(affected.cmake_inputs_changed, ", "));
  }
  fmt::print("directly affected ({}): {}\n", affected.direct.size(),
             fmt::join(names(affected.direct), " "));
  fmt::print("transitively affected ({}): {}\n", affected.transitive.size(),
             fmt::join(names(affected.transitive), " "));
  std::vector<std::string> tests;
  for (std::size_t t : affected.tests) tests.push_back(model.tests[t].name);
  fmt::print("tests ({}): {}\n", tests.size(), fmt::join(tests, " "));
  if (!tests.empty()) fmt::print("run: ctest -R '{}'\n", cmake::test_regex(model, affected));
  for (const auto& note : model.notes) fmt::print("note: {}\n", note);
}

int run_affected(Args& args, cmake::LoadOptions options, bool json) {
  const bool from_stdin = args.flag("stdin");
  const bool files_flag = args.flag("files");
  const bool reconfigure = args.flag("reconfigure");
  auto since = args.option("since");
  auto index_dir = args.option("index-dir");
  if (!since) return usage_error(since.error());
  if (!index_dir) return usage_error(index_dir.error());
  if (auto done = args.finish("-B/--build-dir, --config, --json, --no-cache, --files, --stdin, "
                              "--since, --reconfigure, --index-dir");
      !done) {
    return usage_error(done.error());
  }
  auto positional = args.positional();
  positional.erase(positional.begin());  // "affected"
  if (int(files_flag) + int(from_stdin) + int(since->has_value()) != 1 ||
      (!files_flag && !positional.empty())) {
    return usage_error(Error(ErrorCategory::validation,
                             "forge cmake affected needs exactly one of --files FILE..., "
                             "--stdin, --since CURSOR")
                           .with_suggestion("e.g. forge cmake affected -B build --files src/a.cc"));
  }
  // A cached query index answers without decoding the whole model; a miss loads it (and
  // fills the cache for the next call).
  std::optional<cmake::IndexedModel> indexed = cmake::IndexedModel::open(options);
  std::optional<cmake::Model> loaded;
  if (!indexed) {
    auto full = cmake::load_model(options);
    if (!full) return failure(full.error());
    loaded = std::move(*full);
  }
  cmake::Model* model = indexed ? &indexed->model() : &*loaded;
  std::vector<std::string> files = positional;
  if (from_stdin) {
    for (std::string line; std::getline(std::cin, line);) {
      if (!line.empty()) files.push_back(line);
    }
  }
  std::string next_cursor;
  bool fresh = false;
  if (*since) {
    auto changed = changed_since(*model, **since, *index_dir, next_cursor, fresh);
    if (!changed) return failure(changed.error());
    files = std::move(*changed);
  }
  std::error_code ec;
  files = cmake::resolve_user_paths(*model, files, fs::current_path(ec));
  cmake::Affected affected;
  if (indexed) {
    auto answer = indexed->affected(files);
    if (!answer) return failure(answer.error());
    affected = std::move(*answer);
  } else {
    affected = cmake::compute_affected(*model, files);
  }
  if (reconfigure && affected.reconfigure_needed) {
    if (!loaded) {
      auto full = cmake::load_model(options);
      if (!full) return failure(full.error());
      loaded = std::move(*full);
      model = &*loaded;
    }
    auto after = cmake::reconfigure_and_compare(*model, options);
    if (!after) return failure(after.error());
    *model = std::move(after->model);
    affected = cmake::compute_affected(*model, files, after->changed);
    model->notes.push_back(
        "re-configured: targets whose settings or configure_file outputs "
        "changed count as directly affected");
  }
  if (fresh)
    model->notes.push_back("unknown cursor: every file of the source tree counts as changed");
  if (json) {
    auto out = cmake::affected_to_json(*model, affected);
    out["reconfigured"] = reconfigure && affected.reconfigure_needed;
    if (*since) out["cursor"] = next_cursor;
    fmt::print("{}\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    print_affected(*model, affected);
    if (*since) fmt::print("cursor {}\n", next_cursor);
  }
  return k_exit_ok;
}

int run_targets(Args& args, const cmake::LoadOptions& options, bool json) {
  if (auto done = args.finish("-B/--build-dir, --config, --json, --no-cache"); !done) {
    return usage_error(done.error());
  }
  auto model = cmake::load_model(options);
  if (!model) return failure(model.error());
  const auto fingerprints = cmake::compute_fingerprints(*model);
  if (json) {
    fmt::print("{}\n", cmake::model_to_json(*model, fingerprints)
                           .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return k_exit_ok;
  }
  for (std::size_t i = 0; i < model->targets.size(); ++i) {
    const auto& target = model->targets[i];
    fmt::print("{:<32} {:<16} {:>5} sources  {}\n", target.name, target.type, target.sources.size(),
               fingerprints.fingerprint[i].hex().substr(0, 16));
  }
  fmt::print("{} targets, {} tests ({}, {})\n", model->targets.size(), model->tests.size(),
             model->generator, model->build_dir);
  for (const auto& note : model->notes) fmt::print("note: {}\n", note);
  return k_exit_ok;
}

int run(std::vector<std::string> tokens) {
  Args args(translate_short_options(std::move(tokens)));
  const bool json = args.flag("json");
  auto build_dir = args.option("build-dir");
  auto config = args.option("config");
  if (!build_dir) return usage_error(build_dir.error());
  if (!config) return usage_error(config.error());
  const auto positional = args.positional();
  const std::string sub = positional.empty() ? "" : positional.front();
  if (sub != "targets" && sub != "affected" && sub != "query") {
    return usage_error(
        Error(ErrorCategory::validation, fmt::format("unknown forge cmake subcommand '{}'", sub))
            .with_suggestion("use query, targets or affected (forge help cmake)"));
  }
  if (!*build_dir) {
    return usage_error(Error(ErrorCategory::validation, "forge cmake needs -B BUILD")
                           .with_suggestion("pass the build directory cmake configured"));
  }
  cmake::LoadOptions options;
  options.build_dir = **build_dir;
  options.config = config->value_or("");
  if (sub != "query" && args.flag("no-cache")) options.cache = cmake::UseCache::no;
  if (sub == "query") {
    if (auto done = args.finish("-B/--build-dir"); !done) return usage_error(done.error());
    auto wrote = cmake::write_query(options.build_dir);
    if (!wrote) return failure(wrote.error());
    fmt::print("{} {}\n", *wrote ? "wrote" : "unchanged",
               cmake::query_file(options.build_dir).string());
    return k_exit_ok;
  }
  return sub == "targets" ? run_targets(args, options, json) : run_affected(args, options, json);
}

const CommandRegistration k_registration{Command{
    .name = "cmake",
    .summary = "CMake targets and tests affected by changed files (CMake file API)",
    .usage = k_usage,
    .run = run,
}};

}  // namespace
}  // namespace forge::cli
