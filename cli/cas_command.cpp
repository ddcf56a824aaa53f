// `forge cas upload|download|capture`: REAPI Directory trees and action results in the store
// (forge_cas_tree).
#include <charconv>
#include <cstdio>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "args.h"
#include "command.h"
#include "forge/cas_tree/capture.h"
#include "forge/cas_tree/download.h"
#include "forge/cas_tree/output_tree.h"
#include "forge/cas_tree/remote.h"
#include "forge/cas_tree/upload.h"

namespace forge::cli {
namespace {

constexpr std::string_view k_usage =
    "usage: forge cas upload DIR [--dir STORE] [--remote URL] [--no-fsync]\n"
    "       forge cas download HEX/SIZE DIR [--tree] [--dir STORE] [--remote URL] [--hardlink]\n"
    "       forge cas capture ACTION_HEX/SIZE [--cwd DIR] [--output-file PATH]...\n"
    "                         [--output-directory PATH]... [--exit-code N] [--dir STORE]\n\n"
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
    "          --tree: HEX/SIZE is a REAPI Tree (an ActionResult's output directory, as\n"
    "          Bazel uploads it) instead of a root Directory.\n"
    "capture:  what an executor does after running an action: stores the declared outputs\n"
    "          (paths relative to --cwd, default `.`, as REAPI's output_files and\n"
    "          output_directories; directories as REAPI Tree messages), builds the REAPI\n"
    "          ActionResult and stores it in the action cache under the action's digest\n"
    "          (served to Bazel by `forge serve`). Prints JSON: the ActionResult's digest,\n"
    "          each output directory's tree and root Directory digests (`forge cas download`\n"
    "          takes the latter), outputs declared but not produced, and counts.\n"
    "--remote URL: upload to / download from a remote cache (http(s):// Bazel HTTP cache,\n"
    "          s3://BUCKET, as `forge serve --upstream`) through the local store: upload\n"
    "          stores the tree locally, then sends what the remote lacks; download fetches\n"
    "          what the local store lacks, in parallel, verifying every blob before it is\n"
    "          stored, then materializes from the local store (copies or --hardlink).\n"
    "STORE defaults to the config's store_dir, else $XDG_CACHE_HOME/forge (~/.cache/forge).";

int report(const Error& error, int code) {
  fmt::print(stderr, "forge cas: {}\n", error.to_string());
  return code;
}

int usage(std::string_view why) {
  fmt::print(stderr, "forge cas: {}\n\n{}\n", why, k_usage);
  return k_exit_usage;
}

int run_capture(Args& args, const std::filesystem::path& store_dir) {
  auto cwd = args.option("cwd");
  auto files = args.options("output-file");
  auto directories = args.options("output-directory");
  auto exit_code = args.option("exit-code");
  for (const auto* error :
       {cwd ? nullptr : &cwd.error(), files ? nullptr : &files.error(),
        directories ? nullptr : &directories.error(), exit_code ? nullptr : &exit_code.error()}) {
    if (error != nullptr) return report(*error, k_exit_usage);
  }
  if (auto done = args.finish("--dir, --cwd, --output-file, --output-directory, --exit-code");
      !done) {
    return report(done.error(), k_exit_usage);
  }
  const auto positional = args.positional();
  if (positional.size() != 1) return usage("capture takes the action's digest HEX/SIZE");
  auto action = cache::parse_blob_digest(positional[0]);
  if (!action) return report(action.error(), k_exit_usage);
  cas_tree::CaptureRequest request;
  request.working_dir = cwd->value_or(".");
  request.output_files = std::move(*files);
  request.output_directories = std::move(*directories);
  if (*exit_code) {
    int code = 0;
    const auto [end, ec] =
        std::from_chars((*exit_code)->data(), (*exit_code)->data() + (*exit_code)->size(), code);
    if (ec != std::errc() || end != (*exit_code)->data() + (*exit_code)->size()) {
      return usage("--exit-code takes an integer");
    }
    request.exit_code = code;
  }
  cache::StoreOptions options;
  options.dir = store_dir;
  options.background_eviction = false;
  auto store = cache::CasStore::open(options);
  if (!store) return report(store.error(), k_exit_failure);
  auto ac = cache::ActionCache::open(*store);
  if (!ac) return report(ac.error(), k_exit_failure);
  auto captured = cas_tree::capture_action(**ac, *action, request);
  if (!captured) return report(captured.error(), k_exit_failure);
  nlohmann::json directories_json = nlohmann::json::array();
  for (const auto& directory : captured->directories) {
    directories_json.push_back({{"path", directory.path},
                                {"tree_digest", directory.tree.to_string()},
                                {"root_directory_digest", directory.root_directory.to_string()}});
  }
  fmt::print("{}\n",
             nlohmann::json{{"action_digest", action->to_string()},
                            {"action_result_digest", captured->action_result_digest.to_string()},
                            {"output_directories", std::move(directories_json)},
                            {"missing", captured->missing},
                            {"files", captured->stats.files},
                            {"directories", captured->stats.directories},
                            {"symlinks", captured->stats.symlinks},
                            {"bytes", captured->stats.file_bytes}}
                 .dump());
  return k_exit_ok;
}

// The root Directory of the REAPI Tree `tree` (fetched from `remote` into `local` first when
// given), with every Directory of it stored locally for the download to walk.
Result<cache::BlobDigest> root_of_tree(cache::ActionCache& local, cache::Upstream* remote,
                                       const cache::BlobDigest& tree) {
  if (remote) {
    cache::PullRequest request;
    request.blobs.push_back(tree.to_string());
    FORGE_TRY(const auto pulled, cache::pull_from_upstream(local, *remote, request, {}));
    if (!pulled.complete()) {
      return fail(
          Error(ErrorCategory::validation, fmt::format("Tree {} could not be fetched from {}",
                                                       tree.to_string(), remote->describe()))
              .with_suggestion("check the digest: give --tree the tree_digest of an "
                               "output directory the build uploaded there"));
    }
  }
  return cas_tree::store_tree_directories(local.cas(), tree);
}

int run(std::vector<std::string> tokens) {
  if (tokens.empty() ||
      (tokens[0] != "upload" && tokens[0] != "download" && tokens[0] != "capture")) {
    return usage("give `upload`, `download` or `capture`");
  }
  const std::string action = tokens[0];
  Args args(std::vector<std::string>(tokens.begin() + 1, tokens.end()));
  auto dir = args.option("dir");
  if (!dir) return report(dir.error(), k_exit_usage);
  if (action == "capture") {
    return run_capture(args,
                       *dir ? std::filesystem::path(**dir) : effective_config().config.store_dir);
  }
  auto remote_url = args.option("remote");
  if (!remote_url) return report(remote_url.error(), k_exit_usage);
  const bool no_fsync = action == "upload" && args.flag("no-fsync");
  const bool hardlink = action == "download" && args.flag("hardlink");
  const bool tree = action == "download" && args.flag("tree");
  if (auto done = args.finish(action == "upload" ? "--dir, --remote, --no-fsync"
                                                 : "--dir, --remote, --hardlink, --tree");
      !done) {
    return report(done.error(), k_exit_usage);
  }
  const auto positional = args.positional();
  if (action == "upload" && positional.size() != 1) return usage("upload takes one DIR");
  if (action == "download" && positional.size() != 2) {
    return usage("download takes a root digest HEX/SIZE and a DIR");
  }
  std::unique_ptr<cache::Upstream> remote;
  if (*remote_url) {
    cache::UpstreamOptions remote_options;
    remote_options.url = **remote_url;
    remote_options.s3_endpoint = effective_config().config.cache.s3_endpoint;
    remote_options.s3_region = effective_config().config.cache.s3_region;
    auto opened = cache::open_upstream(remote_options);
    if (!opened) return report(opened.error().prefixed("--remote"), k_exit_usage);
    remote = std::move(*opened);
  }

  cache::StoreOptions options;
  options.dir = *dir ? std::filesystem::path(**dir) : effective_config().config.store_dir;
  options.background_eviction = false;
  options.fsync = !no_fsync;
  auto store = cache::CasStore::open(options);
  if (!store) return report(store.error(), k_exit_failure);
  if (action == "download") {
    auto root = cache::parse_blob_digest(positional[0]);
    if (!root) return report(root.error(), k_exit_usage);
    auto ac = cache::ActionCache::open(*store);
    if (!ac) return report(ac.error(), k_exit_failure);
    if (tree) {
      auto expanded = root_of_tree(**ac, remote.get(), *root);
      if (!expanded) return report(expanded.error(), k_exit_failure);
      root = *expanded;
    }
    cas_tree::DownloadOptions download_options;
    download_options.link = hardlink ? cas_tree::Link::hardlink : cas_tree::Link::copy;
    cas_tree::RemoteCounts counts;
    Result<cas_tree::DownloadResult> done = fail(Error(ErrorCategory::unknown, "not run"));
    if (remote) {
      auto fetched = cas_tree::download_tree_from_remote(**ac, *remote, *root, positional[1],
                                                         download_options);
      if (fetched) counts = fetched->remote;
      done = fetched ? Result<cas_tree::DownloadResult>(fetched->download)
                     : fail(std::move(fetched).error());
    } else {
      done = cas_tree::download_tree(**store, *root, positional[1], download_options);
    }
    if (!done) return report(done.error(), k_exit_failure);
    nlohmann::json out{{"files", done->stats.files},       {"directories", done->stats.directories},
                       {"symlinks", done->stats.symlinks}, {"bytes", done->stats.file_bytes},
                       {"hardlinked", done->hardlinked},   {"cloned", done->cloned}};
    if (remote) {
      out["remote"] = {{"url", remote->describe()},
                       {"blobs", counts.blobs},
                       {"fetched", counts.moved},
                       {"fetched_bytes", counts.bytes},
                       {"already_local", counts.present}};
    }
    fmt::print("{}\n", out.dump());
    return k_exit_ok;
  }
  if (remote) {
    auto uploaded = cas_tree::upload_tree_to_remote(**store, *remote, positional[0]);
    if (!uploaded) return report(uploaded.error(), k_exit_failure);
    fmt::print(stderr,
               "forge cas: {} blobs in the tree: {} uploaded ({} bytes), {} already in {}\n",
               uploaded->remote.blobs, uploaded->remote.moved, uploaded->remote.bytes,
               uploaded->remote.present, remote->describe());
    fmt::print("{}\n", uploaded->upload.root.to_string());
    return k_exit_ok;
  }
  auto uploaded = cas_tree::upload_tree(**store, positional[0]);
  if (!uploaded) return report(uploaded.error(), k_exit_failure);
  fmt::print("{}\n", uploaded->root.to_string());
  return k_exit_ok;
}

const CommandRegistration k_registration{Command{
    .name = "cas",
    .summary = "REAPI trees into and out of the store; capture an action's outputs",
    .usage = k_usage,
    .run = run,
}};

}  // namespace
}  // namespace forge::cli
