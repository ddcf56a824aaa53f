#include "forge/cas_tree/directory.h"

#include <algorithm>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "forge/cache/reapi_fields.h"
#include "forge/cache/wire.h"

namespace forge::cas_tree {
namespace {

using cache::WireField;
using cache::WireReader;
using cache::WireType;
using cache::WireWriter;
using namespace cache::reapi;  // field numbers

Error invalid(std::string detail) {
  return Error(ErrorCategory::validation, fmt::format("invalid Directory: {}", detail))
      .with_suggestion(
          "REAPI requires one-component names sorted bytewise, unique within a directory");
}

Result<void> check_name(std::string_view name) {
  if (name.empty()) return fail(invalid("an entry has an empty name"));
  if (name == "." || name == "..")
    return fail(invalid(fmt::format("an entry is named '{}'", name)));
  if (name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return fail(invalid(fmt::format("entry name '{}' contains '/' or NUL", name)));
  }
  return ok();
}

template <typename Node>
Result<void> check_list(const std::vector<Node>& nodes, std::set<std::string_view>& seen) {
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    FORGE_TRY_VOID(check_name(nodes[i].name));
    if (i > 0 && !(nodes[i - 1].name < nodes[i].name)) {
      return fail(invalid(fmt::format("entries '{}' and '{}' are not sorted or are duplicates",
                                      nodes[i - 1].name, nodes[i].name)));
    }
    if (!seen.insert(nodes[i].name).second) {
      return fail(invalid(fmt::format("name '{}' is used twice", nodes[i].name)));
    }
  }
  return ok();
}

}  // namespace

std::string encode_digest(const cache::BlobDigest& digest) {
  WireWriter writer;
  writer.bytes_field(k_digest_hash, digest.sha256.hex());
  if (digest.size != 0) writer.varint_field(k_digest_size_bytes, digest.size);
  return writer.take();
}

Result<cache::BlobDigest> decode_digest(std::string_view bytes) {
  WireReader reader(bytes, "Digest");
  std::string_view hash;
  std::uint64_t size = 0;
  while (!reader.done()) {
    FORGE_TRY(const WireField field, reader.next());
    if (field.number == k_digest_hash && field.type == WireType::length_delimited) {
      hash = field.bytes;
    } else if (field.number == k_digest_size_bytes && field.type == WireType::varint) {
      size = field.varint;
    }
  }
  return cache::parse_blob_digest(hash, size);
}

namespace {

// name, digest (DirectoryNode / FileNode), target (SymlinkNode), is_executable (FileNode).
struct RawNode {
  std::string name;
  std::optional<cache::BlobDigest> digest;
  std::string target;
  bool is_executable = false;
};

Result<RawNode> decode_node(std::string_view bytes, std::string_view what, bool symlink) {
  WireReader reader(bytes, what);
  RawNode node;
  while (!reader.done()) {
    FORGE_TRY(const WireField field, reader.next());
    if (field.number == k_node_name && field.type == WireType::length_delimited) {
      node.name = field.bytes;
    } else if (!symlink && field.number == k_node_digest &&
               field.type == WireType::length_delimited) {
      FORGE_TRY(node.digest, decode_digest(field.bytes));
    } else if (symlink && field.number == k_symlink_target &&
               field.type == WireType::length_delimited) {
      node.target = field.bytes;
    } else if (!symlink && field.number == k_file_is_executable && field.type == WireType::varint) {
      node.is_executable = field.varint != 0;
    }
  }
  if (!symlink && !node.digest) {
    return fail(reader.malformed(fmt::format("entry '{}' has no digest", node.name)));
  }
  return node;
}

}  // namespace

void sort_entries(Directory& directory) {
  const auto by_name = [](const auto& a, const auto& b) { return a.name < b.name; };
  std::sort(directory.files.begin(), directory.files.end(), by_name);
  std::sort(directory.directories.begin(), directory.directories.end(), by_name);
  std::sort(directory.symlinks.begin(), directory.symlinks.end(), by_name);
}

Result<void> validate(const Directory& directory) {
  std::set<std::string_view> seen;
  FORGE_TRY_VOID(check_list(directory.files, seen));
  FORGE_TRY_VOID(check_list(directory.directories, seen));
  FORGE_TRY_VOID(check_list(directory.symlinks, seen));
  for (const auto& symlink : directory.symlinks) {
    if (symlink.target.empty() || symlink.target.find('\0') != std::string::npos) {
      return fail(
          invalid(fmt::format("symlink '{}' has an empty target or one with NUL", symlink.name)));
    }
  }
  return ok();
}

std::string encode_directory(const Directory& directory) {
  WireWriter out;
  for (const auto& file : directory.files) {
    WireWriter node;
    node.bytes_field(k_node_name, file.name);
    node.bytes_field(k_node_digest, encode_digest(file.digest));
    if (file.is_executable) node.varint_field(k_file_is_executable, 1);
    out.bytes_field(k_directory_files, node.bytes());
  }
  for (const auto& child : directory.directories) {
    WireWriter node;
    node.bytes_field(k_node_name, child.name);
    node.bytes_field(k_node_digest, encode_digest(child.digest));
    out.bytes_field(k_directory_directories, node.bytes());
  }
  for (const auto& symlink : directory.symlinks) {
    WireWriter node;
    node.bytes_field(k_node_name, symlink.name);
    node.bytes_field(k_symlink_target, symlink.target);
    out.bytes_field(k_directory_symlinks, node.bytes());
  }
  return out.take();
}

Result<Directory> decode_directory(std::string_view bytes) {
  WireReader reader(bytes, "Directory");
  Directory directory;
  while (!reader.done()) {
    FORGE_TRY(const WireField field, reader.next());
    if (field.type != WireType::length_delimited) continue;
    if (field.number == k_directory_files) {
      FORGE_TRY(RawNode node, decode_node(field.bytes, "FileNode", false));
      directory.files.push_back({std::move(node.name), *node.digest, node.is_executable});
    } else if (field.number == k_directory_directories) {
      FORGE_TRY(RawNode node, decode_node(field.bytes, "DirectoryNode", false));
      directory.directories.push_back({std::move(node.name), *node.digest});
    } else if (field.number == k_directory_symlinks) {
      FORGE_TRY(RawNode node, decode_node(field.bytes, "SymlinkNode", true));
      directory.symlinks.push_back({std::move(node.name), std::move(node.target)});
    }
  }
  FORGE_TRY_VOID(validate(directory));
  return directory;
}

Result<void> check_symlink_target(std::string_view target, std::size_t depth) {
  const auto refuse = [&](std::string_view why) {
    return fail(
        Error(ErrorCategory::validation, fmt::format("symlink target '{}' {}", target, why))
            .with_suggestion("only relative targets that stay inside the tree are materialized: "
                             "leading '..' components (no deeper than the link), then names"));
  };
  if (target.empty()) return refuse("is empty");
  if (target.front() == '/') return refuse("is absolute");
  std::size_t ups = 0;
  bool seen_name = false;
  std::size_t start = 0;
  while (start <= target.size()) {
    const std::size_t end = std::min(target.find('/', start), target.size());
    const std::string_view part = target.substr(start, end - start);
    if (part == "..") {
      if (seen_name) return refuse("has '..' after a name");
      if (++ups > depth) return refuse("climbs out of the tree");
    } else if (!part.empty() && part != ".") {
      seen_name = true;
    }
    start = end + 1;
  }
  return ok();
}

}  // namespace forge::cas_tree
