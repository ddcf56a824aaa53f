#pragma once
// REAPI `Tree` messages — how Bazel and every REAPI client upload an output directory: one
// blob holding the root Directory and every Directory below it inlined (`Tree.root = 1`,
// `Tree.children = 2`), pointed to by `ActionResult.output_directories[].tree_digest` —
// turned into what the tree tools walk: one Directory blob per directory, named by its
// digest.
//
// store_tree_directories reads the Tree blob `tree` from `store`, decodes and validates the
// root and every child as a Directory (directory.h's rules), stores each under the SHA-256
// of its bytes as they appear in the Tree (the digest its parent's DirectoryNode names, as
// REAPI defines it) and returns the root Directory's digest, ready for download_tree /
// download_tree_from_remote (`forge cas download --tree`). Storing Directories is harmless
// whatever the Tree says: the CAS names every blob by its content. A DirectoryNode naming a
// child the Tree lacks is not an error here; the download that needs it fails then, naming
// it (never a partial tree).
// Errors: the Tree blob missing → Validation (suggestion: fetch it / check the digest); over
// k_max_tree_size bytes, malformed protobuf, no root, or an invalid Directory → Validation
// naming the Tree; store errors pass through. Blocks; safe on a shared CasStore.
// Thread-safe as the CasStore is: concurrent calls on one store are fine.

#include <cstdint>

#include "forge/cache/cas_store.h"
#include "forge/core/support/error.h"

namespace forge::cas_tree {

// A Tree is read whole; real ones are a few hundred bytes per directory.
inline constexpr std::uint64_t k_max_tree_size = 256ull << 20;

Result<cache::BlobDigest> store_tree_directories(cache::CasStore& store,
                                                 const cache::BlobDigest& tree);

}  // namespace forge::cas_tree
