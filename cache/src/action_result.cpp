// Reading the CAS digests out of REAPI v2 messages (ActionResult, Tree) with a minimal
// protobuf wire-format reader: the action cache validates hits without a protobuf library.
#include "forge/cache/action_cache.h"

#include <fmt/format.h>

namespace forge::cache {
namespace {

// --- a minimal protobuf wire-format reader: just enough to find digests ------------------
// REAPI v2 field numbers (build/bazel/remote/execution/v2/remote_execution.proto):
constexpr std::uint32_t k_action_result_output_files = 2;
constexpr std::uint32_t k_action_result_output_directories = 3;
constexpr std::uint32_t k_action_result_stdout_digest = 6;
constexpr std::uint32_t k_action_result_stderr_digest = 8;
constexpr std::uint32_t k_output_file_digest = 2;
constexpr std::uint32_t k_output_directory_tree_digest = 3;
constexpr std::uint32_t k_digest_hash = 1;
constexpr std::uint32_t k_digest_size_bytes = 2;
// Tree { Directory root = 1; repeated Directory children = 2; }
// Directory { repeated FileNode files = 1; ... }   FileNode { name = 1; Digest digest = 2; }
constexpr std::uint32_t k_tree_root = 1;
constexpr std::uint32_t k_tree_children = 2;
constexpr std::uint32_t k_directory_files = 1;
constexpr std::uint32_t k_file_node_digest = 2;

enum class WireType : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

struct Field {
  std::uint32_t number = 0;
  WireType type = WireType::varint;
  std::uint64_t varint = 0;
  std::string_view bytes;  // length-delimited payload
};

Error malformed(std::string_view what, std::string_view message = "ActionResult") {
  return Error(ErrorCategory::validation, fmt::format("malformed {}: {}", message, what))
      .with_suggestion(
          "send a serialized build.bazel.remote.execution.v2.ActionResult, or use "
          "the unvalidated raw keyspace for opaque values");
}

class WireReader {
 public:
  explicit WireReader(std::string_view data) : m_data(data) {}
  bool done() const { return m_pos >= m_data.size(); }

  Result<Field> next() {
    Field field;
    FORGE_TRY(std::uint64_t tag, varint());
    field.number = static_cast<std::uint32_t>(tag >> 3);
    if (field.number == 0) return fail(malformed("field number 0"));
    switch (tag & 7) {
      case 0: {
        field.type = WireType::varint;
        FORGE_TRY(field.varint, varint());
        return field;
      }
      case 1: {
        field.type = WireType::fixed64;
        FORGE_TRY_VOID(skip(8));
        return field;
      }
      case 2: {
        field.type = WireType::length_delimited;
        FORGE_TRY(std::uint64_t length, varint());
        if (length > m_data.size() - m_pos) return fail(malformed("truncated field"));
        field.bytes = m_data.substr(m_pos, length);
        m_pos += length;
        return field;
      }
      case 5: {
        field.type = WireType::fixed32;
        FORGE_TRY_VOID(skip(4));
        return field;
      }
      default: return fail(malformed(fmt::format("unsupported wire type {}", tag & 7)));
    }
  }

 private:
  Result<std::uint64_t> varint() {
    std::uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (m_pos >= m_data.size()) return fail(malformed("truncated varint"));
      const auto byte = static_cast<unsigned char>(m_data[m_pos++]);
      value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return value;
    }
    return fail(malformed("varint longer than 10 bytes"));
  }
  Result<void> skip(std::size_t n) {
    if (n > m_data.size() - m_pos) return fail(malformed("truncated fixed-width field"));
    m_pos += n;
    return ok();
  }
  std::string_view m_data;
  std::size_t m_pos = 0;
};

Result<BlobDigest> decode_digest(std::string_view message) {
  WireReader reader(message);
  std::string_view hash;
  std::uint64_t size = 0;
  while (!reader.done()) {
    FORGE_TRY(Field field, reader.next());
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
  WireReader reader(message);
  std::optional<BlobDigest> found;
  while (!reader.done()) {
    FORGE_TRY(Field field, reader.next());
    if (field.number == number && field.type == WireType::length_delimited) {
      FORGE_TRY(found, decode_digest(field.bytes));
    }
  }
  return found;
}

}  // namespace

Result<std::vector<BlobDigest>> referenced_digests(std::string_view action_result) {
  std::vector<BlobDigest> digests;
  WireReader reader(action_result);
  while (!reader.done()) {
    FORGE_TRY(Field field, reader.next());
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
  WireReader reader(action_result);
  while (!reader.done()) {
    FORGE_TRY(Field field, reader.next());
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
  WireReader reader(tree);
  while (!reader.done()) {
    FORGE_TRY(Field field, reader.next());
    if (field.type != WireType::length_delimited ||
        (field.number != k_tree_root && field.number != k_tree_children)) {
      continue;
    }
    WireReader directory(field.bytes);  // a Directory
    while (!directory.done()) {
      FORGE_TRY(Field entry, directory.next());
      if (entry.type != WireType::length_delimited || entry.number != k_directory_files) continue;
      FORGE_TRY(auto file, nested_digest(entry.bytes, k_file_node_digest));
      if (!file) return fail(malformed("a FileNode without a digest", "Tree"));
      files.push_back(*file);
    }
  }
  return files;
}

}  // namespace forge::cache
