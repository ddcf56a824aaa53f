#include "forge/cas_tree/remote.h"

#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace forge::cas_tree {
namespace {

Error transfer_failed(const cache::Upstream& remote, std::string_view direction,
                      const cache::TransferReport& report) {
  const bool only_missing = report.blobs.failed == 0;
  return Error(only_missing ? ErrorCategory::validation : ErrorCategory::network,
               fmt::format("{} {}: {} blob(s) missing, {} failed: {}", direction, remote.describe(),
                           report.blobs.missing, report.blobs.failed,
                           fmt::join(report.failures, "; ")))
      .with_suggestion(only_missing ? "upload the tree to that cache first, or check the digest"
                                    : "check the remote cache and retry");
}

void add(RemoteCounts& counts, const cache::TransferReport& report) {
  counts.moved += report.blobs.copied;
  counts.present += report.blobs.present;
  counts.bytes += report.blobs.bytes;
}

Result<Directory> local_directory(const cache::CasStore& store, const cache::BlobDigest& digest) {
  FORGE_TRY(auto bytes, store.get(digest));
  if (!bytes) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("Directory {} is not in the local store", digest.to_string())));
  }
  return decode_directory(*bytes);
}

struct TreeBlobs {
  std::vector<cache::BlobDigest> directories;  // root first, then level by level
  std::vector<cache::BlobDigest> files;
};

// Every blob of the tree under `root`, each once; `fetch` first brings each level's
// Directory messages into the local store.
template <typename Fetch>
Result<TreeBlobs> walk_tree(const cache::CasStore& store, const cache::BlobDigest& root,
                            Fetch fetch) {
  std::vector<cache::BlobDigest> directories{root}, files;
  std::unordered_set<hash::Digest> seen{root.sha256};
  std::vector<cache::BlobDigest> level{root};
  while (!level.empty()) {
    FORGE_TRY_VOID(fetch(level));
    std::vector<cache::BlobDigest> next;
    for (const auto& digest : level) {
      FORGE_TRY(const Directory directory, local_directory(store, digest));
      for (const auto& child : directory.directories) {
        if (seen.insert(child.digest.sha256).second) next.push_back(child.digest);
      }
      for (const auto& file : directory.files) {
        if (seen.insert(file.digest.sha256).second) files.push_back(file.digest);
      }
    }
    directories.insert(directories.end(), next.begin(), next.end());
    level = std::move(next);
  }
  return TreeBlobs{std::move(directories), std::move(files)};
}

}  // namespace

Result<RemoteUploadResult> upload_tree_to_remote(cache::CasStore& local, cache::Upstream& remote,
                                                 const std::filesystem::path& dir,
                                                 const cache::TransferOptions& transfer) {
  RemoteUploadResult result;
  FORGE_TRY(result.upload, upload_tree(local, dir));
  FORGE_TRY(const auto blobs,
            walk_tree(local, result.upload.root, [](const auto&) -> Result<void> { return ok(); }));
  // Files, then Directory messages deepest first: a reader of the remote never finds a
  // Directory whose contents are not there yet.
  std::vector<cache::BlobDigest> ordered = blobs.files;
  ordered.insert(ordered.end(), blobs.directories.rbegin(), blobs.directories.rend());
  const auto report = cache::push_blobs_to_upstream(local, remote, ordered, transfer);
  if (!report.complete()) return fail(transfer_failed(remote, "upload to", report));
  result.remote.blobs = ordered.size();
  add(result.remote, report);
  return result;
}

Result<RemoteDownloadResult> download_tree_from_remote(cache::ActionCache& local,
                                                       cache::Upstream& remote,
                                                       const cache::BlobDigest& root,
                                                       const std::filesystem::path& dest,
                                                       const DownloadOptions& options,
                                                       const cache::TransferOptions& transfer) {
  RemoteDownloadResult result;
  const auto pull = [&](const std::vector<cache::BlobDigest>& digests) -> Result<void> {
    cache::PullRequest request;
    for (const auto& digest : digests) request.blobs.push_back(digest.to_string());
    FORGE_TRY(const auto report, cache::pull_from_upstream(local, remote, request, transfer));
    if (!report.complete()) return fail(transfer_failed(remote, "download from", report));
    add(result.remote, report);
    return ok();
  };
  FORGE_TRY(const auto blobs, walk_tree(local.cas(), root, pull));  // pulls the Directories
  FORGE_TRY_VOID(pull(blobs.files));
  result.remote.blobs = blobs.directories.size() + blobs.files.size();
  FORGE_TRY(result.download, download_tree(local.cas(), root, dest, options));
  return result;
}

}  // namespace forge::cas_tree
