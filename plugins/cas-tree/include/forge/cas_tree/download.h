#pragma once
// download_tree: materializes the REAPI tree under a root Directory digest from a CasStore
// into a new directory (`forge cas download`, Forge's casdownload).
//
// - The tree is built in a sibling temporary directory (`<dest>.forge-partial-<pid>`) and
//   renamed onto `dest` only when complete, so `dest` never holds a partial tree; on any
//   error the temporary is removed. `dest` must not exist or be an empty directory.
// - Every name is created relative to its parent's descriptor with O_NOFOLLOW / O_EXCL, so
//   nothing in the tree (or planted beside it) can redirect a write outside `dest`.
// - Symlinks are created as REAPI says, but only with targets that stay inside the tree
//   (check_symlink_target in directory.h); an absolute or escaping target is a Validation
//   error naming the link.
// - Executables get the umask's execute bits (0777 & ~umask), other files 0666 & ~umask.
// - Files: Link::copy (default) gives each file its own inode — FICLONE (a copy-on-write
//   clone, instant on btrfs/XFS) where the filesystem allows, else copy_file_range, else
//   read/write. The result may be modified freely: the store is never affected.
//   Link::hardlink links non-executable files to the store's blob file after making that
//   file read-only (0444): fast and space-free, but the materialized file is then shared
//   with the store and read-only — a process that chmods it (or runs as root, which ignores
//   modes) could change a stored blob in place. Executables are always copied: the mode
//   belongs to the inode, and the store's inode serves every user of the blob. A link that
//   cannot be made (EXDEV, EMLINK, a concurrent put replaced the blob) falls back to a copy.
// - Bounded: at most `max_entries` entries and `max_directory_size` bytes per Directory
//   message (a hostile DAG that reuses a subtree 2^64 times is refused, not expanded).
// Blocks; safe to call from several threads on one CasStore.

#include <cstdint>
#include <filesystem>

#include "forge/cache/cas_store.h"
#include "forge/cas_tree/upload.h"

namespace forge::cas_tree {

enum class Link : std::uint8_t { copy, hardlink };

struct DownloadOptions {
  Link link = Link::copy;
  std::uint64_t max_entries = 50'000'000;          // files + directories + symlinks
  std::uint64_t max_directory_size = 64ull << 20;  // one encoded Directory message
};

struct DownloadResult {
  TreeStats stats;
  std::uint64_t hardlinked = 0;  // files linked to the store (Link::hardlink)
  std::uint64_t cloned = 0;      // files cloned with FICLONE
};

// Every file blob is checked against what was stored before it is placed (a corrupt one is
// quarantined by the store and fails the download: is_corrupt_blob(error)).
// Errors: a missing Directory or file blob → Validation error naming the digest and the path
// in the tree (suggestion: upload it first); a malformed Directory → Validation; I/O → FileSystem.
Result<DownloadResult> download_tree(const cache::CasStore& store, const cache::BlobDigest& root,
                                     const std::filesystem::path& dest,
                                     const DownloadOptions& options = {});

}  // namespace forge::cas_tree
