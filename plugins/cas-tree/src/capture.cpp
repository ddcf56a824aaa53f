#include "forge/cas_tree/capture.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <set>
#include <unordered_set>

#include <fmt/format.h>

#include "forge/cache/reapi_fields.h"
#include "forge/cache/wire.h"
#include "forge/cas_tree/directory.h"

namespace forge::cas_tree {
namespace {

using namespace cache::reapi;  // field numbers

Error bad_path(std::string_view path, std::string_view why) {
  return Error(ErrorCategory::validation, fmt::format("output path '{}' {}", path, why))
      .with_suggestion(
          "declare outputs relative to the working directory, '/'-separated, without '.', "
          "'..' or empty components (REAPI Command.output_files/output_directories)");
}

// Checks the path's form and that no parent component is a symlink (or missing: then the
// output is simply absent). Returns the lstat of the output, nullopt when it is absent.
Result<std::optional<struct stat>> stat_output(const std::filesystem::path& working_dir,
                                               const std::string& path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') {
    return fail(bad_path(path, "is empty, absolute or ends with '/'"));
  }
  if (path.find('\0') != std::string::npos) return fail(bad_path(path, "contains NUL"));
  std::filesystem::path at = working_dir;
  std::size_t start = 0;
  for (;;) {
    const auto slash = path.find('/', start);
    const std::string component =
        path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (component.empty() || component == "." || component == "..") {
      return fail(bad_path(path, "has an empty, '.' or '..' component"));
    }
    at /= component;
    struct stat st {};
    if (::lstat(at.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return std::optional<struct stat>();
      return fail(Error::from_errno(errno, "lstat", at.string()));
    }
    if (slash == std::string::npos) return std::optional<struct stat>(st);
    if (!S_ISDIR(st.st_mode)) {
      if (S_ISLNK(st.st_mode)) {
        return fail(bad_path(path, fmt::format("has a symlink parent ({}); captures never "
                                               "leave the working directory",
                                               at.string())));
      }
      return std::optional<struct stat>();  // a file where a parent should be: not produced
    }
    start = slash + 1;
  }
}

Result<std::string> read_link(const std::filesystem::path& path) {
  std::error_code ec;
  auto target = std::filesystem::read_symlink(path, ec);
  if (ec) return fail(Error::from_error_code(ec, "readlink", path.string()));
  return target.string();
}

Result<std::string> stored_bytes(const cache::CasStore& store, const cache::BlobDigest& digest) {
  FORGE_TRY(auto bytes, store.get(digest));
  if (!bytes) {
    return fail(Error(ErrorCategory::file_system,
                      fmt::format("Directory {} vanished from the store during the capture",
                                  digest.to_string()))
                    .with_suggestion("retry; the store may be evicting (raise its max_size)"));
  }
  return std::move(*bytes);
}

// The REAPI Tree of an uploaded directory: the root Directory and each distinct
// descendant Directory once, read back from the store breadth first.
Result<std::string> tree_of(const cache::CasStore& store, const cache::BlobDigest& root) {
  cache::WireWriter tree;
  FORGE_TRY(const std::string root_bytes, stored_bytes(store, root));
  tree.bytes_field(k_tree_root, root_bytes);
  std::unordered_set<hash::Digest> seen{root.sha256};
  std::deque<std::string> queue{root_bytes};
  while (!queue.empty()) {
    FORGE_TRY(const Directory directory, decode_directory(queue.front()));
    queue.pop_front();
    for (const auto& child : directory.directories) {
      if (!seen.insert(child.digest.sha256).second) continue;
      FORGE_TRY(std::string bytes, stored_bytes(store, child.digest));
      tree.bytes_field(k_tree_children, bytes);
      queue.push_back(std::move(bytes));
    }
  }
  return tree.take();
}

cache::BlobDigest digest_of(std::string_view bytes) {
  return cache::BlobDigest{hash::sha256_of(bytes), bytes.size()};
}

}  // namespace

Result<CaptureResult> capture_outputs(cache::CasStore& store, const CaptureRequest& request) {
  std::set<std::string> declared;
  for (const auto* list : {&request.output_files, &request.output_directories}) {
    for (const auto& path : *list) {
      if (!declared.insert(path).second) return fail(bad_path(path, "is declared twice"));
    }
  }
  CaptureResult result;
  std::vector<std::pair<std::string, std::string>> files, directories, symlinks;  // path, bytes
  const auto capture_one = [&](const std::string& path, bool as_directory) -> Result<void> {
    FORGE_TRY(const auto st, stat_output(request.working_dir, path));
    const auto full = request.working_dir / path;
    if (!st) {
      result.missing.push_back(path);
      return ok();
    }
    cache::WireWriter node;
    node.bytes_field(k_output_path, path);
    if (S_ISLNK(st->st_mode)) {
      FORGE_TRY(const std::string target, read_link(full));
      node.bytes_field(k_output_symlink_target, target);
      symlinks.emplace_back(path, node.take());
      ++result.stats.symlinks;
      return ok();
    }
    if (as_directory != S_ISDIR(st->st_mode) || !(S_ISDIR(st->st_mode) || S_ISREG(st->st_mode))) {
      return fail(Error(ErrorCategory::validation,
                        fmt::format("declared output {} '{}' is {}",
                                    as_directory ? "directory" : "file", path,
                                    S_ISDIR(st->st_mode)   ? "a directory"
                                    : S_ISREG(st->st_mode) ? "a regular file"
                                                           : "neither a file nor a directory"))
                      .with_file(full.string())
                      .with_suggestion("declare files in output_files and directories in "
                                       "output_directories"));
    }
    if (!as_directory) {
      FORGE_TRY(const auto digest, store.put_file(full));
      node.bytes_field(k_output_file_digest, encode_digest(digest));
      if ((st->st_mode & S_IXUSR) != 0) node.varint_field(k_output_file_is_executable, 1);
      files.emplace_back(path, node.take());
      ++result.stats.files;
      result.stats.file_bytes += digest.size;
      return ok();
    }
    FORGE_TRY(const auto uploaded, upload_tree(store, full));
    FORGE_TRY(const std::string tree, tree_of(store, uploaded.root));
    FORGE_TRY(const auto tree_digest,
              store.put(std::as_bytes(std::span(tree.data(), tree.size())), digest_of(tree)));
    node.bytes_field(k_output_directory_tree_digest, encode_digest(tree_digest));
    node.bytes_field(k_output_directory_root_digest, encode_digest(uploaded.root));
    directories.emplace_back(path, node.take());
    result.directories.push_back({path, tree_digest, uploaded.root});
    result.stats.files += uploaded.stats.files;
    result.stats.directories += uploaded.stats.directories;
    result.stats.symlinks += uploaded.stats.symlinks;
    result.stats.file_bytes += uploaded.stats.file_bytes;
    return ok();
  };
  for (const auto& path : request.output_files) FORGE_TRY_VOID(capture_one(path, false));
  for (const auto& path : request.output_directories) FORGE_TRY_VOID(capture_one(path, true));

  cache::WireWriter action_result;
  const auto append = [&](std::uint32_t field, auto& entries) {
    std::sort(entries.begin(), entries.end());
    for (const auto& [path, bytes] : entries) action_result.bytes_field(field, bytes);
  };
  append(k_action_result_output_files, files);
  append(k_action_result_output_directories, directories);
  // int32 on the wire: a negative exit code is sign-extended to 64 bits (protobuf's rule).
  if (request.exit_code != 0) {
    action_result.varint_field(
        k_action_result_exit_code,
        static_cast<std::uint64_t>(static_cast<std::int64_t>(request.exit_code)));
  }
  append(k_action_result_output_symlinks, symlinks);
  std::sort(result.directories.begin(), result.directories.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  std::sort(result.missing.begin(), result.missing.end());
  result.action_result = action_result.take();
  result.action_result_digest = digest_of(result.action_result);
  return result;
}

Result<CaptureResult> capture_action(cache::ActionCache& ac, const cache::BlobDigest& action,
                                     const CaptureRequest& request) {
  FORGE_TRY(auto result, capture_outputs(ac.cas(), request));
  FORGE_TRY(result.action_result_digest,
            ac.put(cache::Keyspace::ac, action.sha256.hex(), result.action_result));
  return result;
}

}  // namespace forge::cas_tree
