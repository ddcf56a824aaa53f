#pragma once
// upload_tree: a directory on disk → REAPI `Directory` messages and file blobs in a CasStore
// (`forge cas upload`, Forge's casupload).
//
// Every regular file becomes a FileNode (is_executable: the owner's execute bit), every
// symlink a SymlinkNode with its target verbatim (never followed), every directory a
// DirectoryNode whose digest is that of its encoded Directory, also stored. Entries are
// sorted (see directory.h), so a tree uploads to the same root digest on every machine —
// the digest Bazel computes for the same input root. Any other file type (FIFO, socket,
// device) is a Validation error naming the path: REAPI cannot express it.
// Blocks; safe to call from several threads on one CasStore (CasStore is thread-safe).

#include <cstdint>
#include <filesystem>

#include "forge/cache/cas_store.h"
#include "forge/cas_tree/directory.h"

namespace forge::cas_tree {

struct TreeStats {
  std::uint64_t files = 0;
  std::uint64_t directories = 0;  // including the root
  std::uint64_t symlinks = 0;
  std::uint64_t file_bytes = 0;
};

struct UploadResult {
  cache::BlobDigest root;  // digest of the root's encoded Directory
  TreeStats stats;
};

// REQUIRES: `root` names a directory (a symlink to one is followed, only at the top).
Result<UploadResult> upload_tree(cache::CasStore& store, const std::filesystem::path& root);

}  // namespace forge::cas_tree
