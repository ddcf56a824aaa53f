// `forge cas upload|download`: REAPI Directory trees in the store (forge_cas_tree).
#include <cstdio>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "args.h"
#include "command.h"
#include "forge/cas_tree/download.h"
#include "forge/cas_tree/upload.h"

namespace forge::cli {
namespace {

constexpr std::string_view k_usage =
    "usage: forge cas upload DIR [--dir STORE] [--no-fsync]\n"
    "       forge cas download HEX/SIZE DIR [--dir STORE] [--hardlink]\n\n"
    "upload:   stores every file of DIR and one REAPI Directory message per directory\n"
    "          (sorted entries, executable bits, symlinks verbatim) and prints the root\n"
    "          Directory's digest `HEX/SIZE`, the same digest Bazel computes for that tree.\n"
    "          --no-fsync skips the per-file fsync (scratch stores on CI).\n"
    "download: materializes the tree under a root digest into DIR (new or empty), built\n"
    "          beside it and renamed into place when complete; prints a JSON summary.\n"
    "          Files are copies (a copy-on-write clone where the filesystem allows), free to\n"
    "          modify. --hardlink links non-executable files to the store instead, making\n"
    "          them read-only: fastest, but never modify such a file (chmod +w, root).\n"
    "          Symlinks must be relative and stay inside DIR; others are refused.\n"
    "STORE defaults to the config's store_dir, else $XDG_CACHE_HOME/forge (~/.cache/forge).";

int report(const Error& error, int code) {
  fmt::print(stderr, "forge cas: {}\n", error.to_string());
  return code;
}

int usage(std::string_view why) {
  fmt::print(stderr, "forge cas: {}\n\n{}\n", why, k_usage);
  return k_exit_usage;
}

int run(std::vector<std::string> tokens) {
  if (tokens.empty() || (tokens[0] != "upload" && tokens[0] != "download")) {
    return usage("give `upload` or `download`");
  }
  const std::string action = tokens[0];
  Args args(std::vector<std::string>(tokens.begin() + 1, tokens.end()));
  auto dir = args.option("dir");
  if (!dir) return report(dir.error(), k_exit_usage);
  const bool no_fsync = action == "upload" && args.flag("no-fsync");
  const bool hardlink = action == "download" && args.flag("hardlink");
  if (auto done = args.finish(action == "upload" ? "--dir, --no-fsync" : "--dir, --hardlink");
      !done) {
    return report(done.error(), k_exit_usage);
  }
  const auto positional = args.positional();
  if (action == "upload" && positional.size() != 1) return usage("upload takes one DIR");
  if (action == "download" && positional.size() != 2) {
    return usage("download takes a root digest HEX/SIZE and a DIR");
  }

  cache::StoreOptions options;
  options.dir = *dir ? std::filesystem::path(**dir) : effective_config().config.store_dir;
  options.background_eviction = false;
  options.fsync = !no_fsync;
  if (action == "download") {
    auto root = cache::parse_blob_digest(positional[0]);
    if (!root) return report(root.error(), k_exit_usage);
    auto store = cache::CasStore::open(options);
    if (!store) return report(store.error(), k_exit_failure);
    cas_tree::DownloadOptions download_options;
    download_options.link = hardlink ? cas_tree::Link::hardlink : cas_tree::Link::copy;
    auto done = cas_tree::download_tree(**store, *root, positional[1], download_options);
    if (!done) return report(done.error(), k_exit_failure);
    fmt::print("{}\n", nlohmann::json{{"files", done->stats.files},
                                      {"directories", done->stats.directories},
                                      {"symlinks", done->stats.symlinks},
                                      {"bytes", done->stats.file_bytes},
                                      {"hardlinked", done->hardlinked},
                                      {"cloned", done->cloned}}
                           .dump());
    return k_exit_ok;
  }
  auto store = cache::CasStore::open(options);
  if (!store) return report(store.error(), k_exit_failure);
  auto uploaded = cas_tree::upload_tree(**store, positional[0]);
  if (!uploaded) return report(uploaded.error(), k_exit_failure);
  fmt::print("{}\n", uploaded->root.to_string());
  return k_exit_ok;
}

const CommandRegistration k_registration{Command{
    .name = "cas",
    .summary = "upload a directory as a REAPI tree into the store, download one from it",
    .usage = k_usage,
    .run = run,
}};

}  // namespace
}  // namespace forge::cli
