#pragma once
// capture_outputs: the declared outputs of an executed action → a REAPI v2 `ActionResult`
// whose blobs are all in a CasStore (`forge cas capture`, what a farm executor does after
// running a command), and capture_action, which also stores it in the action cache.
//
// Paths are relative to `working_dir`, as REAPI's Command.output_files/output_directories:
// '/'-separated, not absolute, no empty, "." or ".." component. A parent component that is a
// symlink is refused (a capture never reads outside the working directory).
// - An output file that is a regular file → OutputFile {path, digest, is_executable (the
//   owner's execute bit)}; one that is a directory is a Validation error (REAPI).
// - An output directory → its tree uploaded as by upload_tree (every file and Directory
//   message stored), plus a REAPI `Tree` {root, children (each distinct Directory once, in
//   breadth-first order)} stored as a blob → OutputDirectory {path, tree_digest,
//   root_directory_digest}; one that is a regular file is a Validation error.
// - A declared output that is a symlink → OutputSymlink {path, target verbatim} (REAPI
//   v2.1 output_symlinks); a declared output that does not exist is left out (REAPI: the
//   action simply did not produce it) and named in CaptureResult::missing.
// ActionResult encoding: output_files (2), output_directories (3), exit_code (4, omitted
// when 0), output_symlinks (12), each list sorted by path, fields in number order — the
// same outputs give the same bytes.
// Blocks; safe from several threads on one store.

#include <filesystem>
#include <string>
#include <vector>

#include "forge/cache/action_cache.h"
#include "forge/cas_tree/upload.h"

namespace forge::cas_tree {

struct CaptureRequest {
  std::filesystem::path working_dir;
  std::vector<std::string> output_files;
  std::vector<std::string> output_directories;
  int exit_code = 0;
};

struct CapturedDirectory {
  std::string path;
  cache::BlobDigest tree;            // the stored Tree message
  cache::BlobDigest root_directory;  // the root Directory (download_tree takes this)
};

struct CaptureResult {
  std::string action_result;  // the serialized ActionResult
  cache::BlobDigest action_result_digest;
  std::vector<CapturedDirectory> directories;  // sorted by path
  std::vector<std::string> missing;            // declared, not produced
  TreeStats stats;                             // every file, directory and symlink captured
};

// Errors: a malformed path (Validation, naming it), a file/directory kind mismatch
// (Validation), I/O errors (FileSystem) and the store's.
Result<CaptureResult> capture_outputs(cache::CasStore& store, const CaptureRequest& request);

// capture_outputs, then the ActionResult stored in `ac` under the action digest's key
// (its 64 hex digits, as Bazel's HTTP cache names ac entries).
Result<CaptureResult> capture_action(cache::ActionCache& ac, const cache::BlobDigest& action,
                                     const CaptureRequest& request);

}  // namespace forge::cas_tree
