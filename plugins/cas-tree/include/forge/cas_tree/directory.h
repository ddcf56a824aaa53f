#pragma once
// One REAPI v2 `Directory` message (build/bazel/remote/execution/v2/remote_execution.proto)
// as a value, with its canonical encoding and a validating decoder.
//
// Encoding (protobuf, fields in number order, proto3 defaults omitted — what Bazel hashes):
//   Directory     files = 1 (FileNode), directories = 2 (DirectoryNode), symlinks = 3
//   FileNode      name = 1, digest = 2 (Digest), is_executable = 4
//   DirectoryNode name = 1, digest = 2
//   SymlinkNode   name = 1, target = 2
//   Digest        hash = 1 (lower-case hex), size_bytes = 2
// node_properties (fields 5 / 6 / 4) are not written; the decoder skips them.
//
// A valid Directory (REAPI's rules, checked by decode_directory and required by
// encode_directory): every name is one path component — non-empty, no '/', no NUL, not "."
// or ".."; each list is sorted by name (bytewise) without duplicates; no name appears in two
// lists; every symlink target is non-empty and has no NUL.
// Value types; thread-compatible.

#include <string>
#include <string_view>
#include <vector>

#include "forge/cache/blob_digest.h"
#include "forge/core/support/error.h"

namespace forge::cas_tree {

struct FileNode {
  std::string name;
  cache::BlobDigest digest;
  bool is_executable = false;
  bool operator==(const FileNode&) const = default;
};

struct DirectoryNode {
  std::string name;
  cache::BlobDigest digest;  // of the child's encoded Directory
  bool operator==(const DirectoryNode&) const = default;
};

struct SymlinkNode {
  std::string name;
  std::string target;
  bool operator==(const SymlinkNode&) const = default;
};

struct Directory {
  std::vector<FileNode> files;
  std::vector<DirectoryNode> directories;
  std::vector<SymlinkNode> symlinks;
  bool operator==(const Directory&) const = default;
};

// A REAPI Digest message (hash = 1 as lower-case hex, size_bytes = 2, 0 omitted) and back.
std::string encode_digest(const cache::BlobDigest& digest);
Result<cache::BlobDigest> decode_digest(std::string_view bytes);

// Sorts each list by name (the canonical order).
void sort_entries(Directory& directory);
// The rules above; the error names the offending entry.
Result<void> validate(const Directory& directory);
// REQUIRES: validate(directory) succeeds. Deterministic: equal Directories, equal bytes.
std::string encode_directory(const Directory& directory);
// Decodes and validates; malformed protobuf or a broken rule → Validation error.
Result<Directory> decode_directory(std::string_view bytes);

// Whether a symlink at depth `depth` below the root (0: in the root directory) may point
// at `target` when materialized: the target must be relative, and after any number of
// leading ".." components (at most `depth` of them) contain no "..". That keeps every
// symlink, and every chain of them, inside the root (a ".." after a name could climb out
// through another symlink). Validation error naming the target otherwise.
Result<void> check_symlink_target(std::string_view target, std::size_t depth);

}  // namespace forge::cas_tree
