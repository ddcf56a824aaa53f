#include "forge/cas_tree/output_tree.h"

#include <fmt/format.h>

#include "forge/cache/reapi_fields.h"
#include "forge/cache/wire.h"
#include "forge/cas_tree/directory.h"

namespace forge::cas_tree {
namespace {

Error bad_tree(const cache::BlobDigest& tree, std::string_view detail) {
  return Error(ErrorCategory::validation, fmt::format("Tree {}: {}", tree.to_string(), detail))
      .with_suggestion(
          "give --tree the tree_digest of an ActionResult's output directory; a root Directory "
          "digest is downloaded without --tree");
}

Result<cache::BlobDigest> store_directory(cache::CasStore& store, const cache::BlobDigest& tree,
                                          std::string_view bytes, std::string_view role) {
  if (auto valid = decode_directory(bytes); !valid) {
    return fail(
        std::move(valid).error().prefixed(fmt::format("Tree {} {}", tree.to_string(), role)));
  }
  return store.put(std::as_bytes(std::span(bytes.data(), bytes.size())));
}

}  // namespace

Result<cache::BlobDigest> store_tree_directories(cache::CasStore& store,
                                                 const cache::BlobDigest& tree) {
  if (tree.size > k_max_tree_size) {
    return fail(bad_tree(tree, fmt::format("larger than {} bytes", k_max_tree_size)));
  }
  FORGE_TRY(const auto bytes, store.get(tree));
  if (!bytes) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("Tree {} is not in the store", tree.to_string()))
                    .with_suggestion("give --dir the store that holds it, or --remote the cache "
                                     "the build uploaded it to"));
  }
  cache::WireReader reader(*bytes, "Tree");
  std::optional<cache::BlobDigest> root;
  while (!reader.done()) {
    FORGE_TRY(const cache::WireField field, reader.next());
    if (field.type != cache::WireType::length_delimited) continue;
    if (field.number == cache::reapi::k_tree_root) {
      if (root) return fail(bad_tree(tree, "two root Directories"));
      FORGE_TRY(root, store_directory(store, tree, field.bytes, "root"));
    } else if (field.number == cache::reapi::k_tree_children) {
      FORGE_TRY_VOID(store_directory(store, tree, field.bytes, "child"));
    }
  }
  if (!root) return fail(bad_tree(tree, "no root Directory"));
  return *root;
}

}  // namespace forge::cas_tree
