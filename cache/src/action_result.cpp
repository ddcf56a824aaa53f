// Reading the CAS digests out of REAPI v2 messages (ActionResult, Tree) with the minimal
// protobuf wire-format reader (wire.h): the action cache validates hits without a protobuf
// library.
#include "forge/cache/action_cache.h"
#include "forge/cache/reapi_fields.h"
#include "forge/cache/wire.h"

namespace forge::cache {
namespace {

using namespace reapi;  // field numbers

constexpr std::string_view k_action_result_suggestion =
    "send a serialized build.bazel.remote.execution.v2.ActionResult, or use the unvalidated raw "
    "keyspace for opaque values";

Result<BlobDigest> decode_digest(std::string_view message) {
  WireReader reader(message, "ActionResult", k_action_result_suggestion);
  std::string_view hash;
  std::uint64_t size = 0;
  while (!reader.done()) {
    FORGE_TRY(WireField field, reader.next());
    if (field.number == k_digest_hash && field.type == WireType::length_delimited) {
      hash = field.bytes;
    } else if (field.number == k_digest_size_bytes && field.type == WireType::varint) {
      size = field.varint;
    }
  }
  return parse_blob_digest(hash, size);
}

// The digest in field `number` of a nested message (absent → nullopt).
Result<std::optional<BlobDigest>> nested_digest(std::string_view message, std::uint32_t number) {
  WireReader reader(message, "ActionResult", k_action_result_suggestion);
  std::optional<BlobDigest> found;
  while (!reader.done()) {
    FORGE_TRY(WireField field, reader.next());
    if (field.number == number && field.type == WireType::length_delimited) {
      FORGE_TRY(found, decode_digest(field.bytes));
    }
  }
  return found;
}

}  // namespace

Result<std::vector<BlobDigest>> referenced_digests(std::string_view action_result) {
  std::vector<BlobDigest> digests;
  WireReader reader(action_result, "ActionResult", k_action_result_suggestion);
  while (!reader.done()) {
    FORGE_TRY(WireField field, reader.next());
    if (field.type != WireType::length_delimited) continue;
    std::optional<BlobDigest> digest;
    switch (field.number) {
      case k_action_result_output_files: {
        FORGE_TRY(digest, nested_digest(field.bytes, k_output_file_digest));
        break;
      }
      case k_action_result_output_directories: {
        FORGE_TRY(digest, nested_digest(field.bytes, k_output_directory_tree_digest));
        break;
      }
      case k_action_result_stdout_digest:
      case k_action_result_stderr_digest: {
        FORGE_TRY(BlobDigest d, decode_digest(field.bytes));
        digest = d;
        break;
      }
      default: break;
    }
    if (digest) digests.push_back(*digest);
  }
  return digests;
}

Result<std::vector<BlobDigest>> output_tree_digests(std::string_view action_result) {
  std::vector<BlobDigest> trees;
  WireReader reader(action_result, "ActionResult", k_action_result_suggestion);
  while (!reader.done()) {
    FORGE_TRY(WireField field, reader.next());
    if (field.type != WireType::length_delimited ||
        field.number != k_action_result_output_directories) {
      continue;
    }
    FORGE_TRY(auto tree, nested_digest(field.bytes, k_output_directory_tree_digest));
    if (tree) trees.push_back(*tree);
  }
  return trees;
}

Result<std::vector<BlobDigest>> tree_file_digests(std::string_view tree) {
  std::vector<BlobDigest> files;
  WireReader reader(tree, "Tree", k_action_result_suggestion);
  while (!reader.done()) {
    FORGE_TRY(WireField field, reader.next());
    if (field.type != WireType::length_delimited ||
        (field.number != k_tree_root && field.number != k_tree_children)) {
      continue;
    }
    WireReader directory(field.bytes, "Tree", k_action_result_suggestion);  // a Directory
    while (!directory.done()) {
      FORGE_TRY(WireField entry, directory.next());
      if (entry.type != WireType::length_delimited || entry.number != k_directory_files) continue;
      FORGE_TRY(auto file, nested_digest(entry.bytes, k_node_digest));
      if (!file) return fail(directory.malformed("a FileNode without a digest"));
      files.push_back(*file);
    }
  }
  return files;
}

}  // namespace forge::cache
