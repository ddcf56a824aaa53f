#pragma once
// REAPI trees against a remote cache (`forge cas upload|download --remote URL`): any
// cache::Upstream (upstream.h: http(s):// Bazel HTTP caches, s3://, and whatever else
// open_upstream learns), with the local store as the staging and materializing tier.
//
// upload_tree_to_remote: upload_tree into the local store, then every blob of the tree
//   (each Directory message and file) the remote lacks is uploaded, existence checked and
//   uploaded TransferOptions::parallel at a time (push_blobs_to_upstream, tier_transfer.h).
// download_tree_from_remote: walks the tree from the root a level at a time; Directory
//   messages and then files the local store lacks are fetched `parallel` at a time, each
//   streamed into a BlobWriter whose SHA-256 and size are checked before it is indexed (a
//   corrupt answer is never stored); only when every blob is local and verified is the tree
//   materialized by download_tree (download.h: copies or hard links from the local CAS, built
//   aside and renamed into place), so a failed download leaves `dest` untouched.
// Errors: a blob the remote lacks or could not deliver after the retries → Network error
//   (Validation when the remote simply does not have it) naming the first failures; the
//   local store's and download_tree's errors pass through.
// Blocks; starts and joins its own transfer threads.

#include <filesystem>

#include "forge/cache/action_cache.h"
#include "forge/cache/tier_transfer.h"
#include "forge/cache/upstream.h"
#include "forge/cas_tree/download.h"
#include "forge/cas_tree/upload.h"

namespace forge::cas_tree {

struct RemoteCounts {
  std::uint64_t blobs = 0;    // every blob of the tree (Directory messages and files)
  std::uint64_t moved = 0;    // uploaded / fetched
  std::uint64_t present = 0;  // already at the destination
  std::uint64_t bytes = 0;    // moved
};

struct RemoteUploadResult {
  UploadResult upload;
  RemoteCounts remote;
};

struct RemoteDownloadResult {
  DownloadResult download;
  RemoteCounts remote;
};

Result<RemoteUploadResult> upload_tree_to_remote(cache::CasStore& local, cache::Upstream& remote,
                                                 const std::filesystem::path& dir,
                                                 const cache::TransferOptions& transfer = {});

Result<RemoteDownloadResult> download_tree_from_remote(cache::ActionCache& local,
                                                       cache::Upstream& remote,
                                                       const cache::BlobDigest& root,
                                                       const std::filesystem::path& dest,
                                                       const DownloadOptions& options = {},
                                                       const cache::TransferOptions& transfer = {});

}  // namespace forge::cas_tree
