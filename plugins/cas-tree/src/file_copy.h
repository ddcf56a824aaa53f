#pragma once
// Internal to forge_cas_tree: puts one stored blob at a name inside an open directory.
#include <string>

#include "forge/cache/cas_store.h"

namespace forge::cas_tree {

enum class Placed : std::uint8_t { copied, cloned, hardlinked };

// Creates `name` under `dirfd` (O_CREAT | O_EXCL | O_NOFOLLOW, mode 0666 or 0777 with the
// umask applied) holding exactly the blob's bytes: FICLONE, else copy_file_range, else
// pread/write. With `try_link` (never for executables), first tries to hard-link the
// store's file after making it read-only; see download.h for why and when that is safe.
// Errors name `path_for_errors`; a failed copy removes the partial file.
Result<Placed> place_blob(const cache::CasStore& store, const cache::BlobDigest& digest,
                          const cache::BlobReader& blob, int dirfd, const std::string& name,
                          bool executable, bool try_link, const std::string& path_for_errors);

}  // namespace forge::cas_tree
