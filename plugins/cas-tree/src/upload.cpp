#include "forge/cas_tree/upload.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include <fmt/format.h>

#include "forge/core/hash/hasher.h"
#include "forge/core/support/unique_fd.h"

namespace forge::cas_tree {
namespace {

// Directory nesting beyond this is refused rather than recursed into (a bind-mount loop
// would otherwise never end; real trees are far shallower).
constexpr std::size_t k_max_depth = 512;

Result<std::string> read_link(const std::filesystem::path& path) {
  std::string target(256, '\0');
  for (;;) {
    const ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
    if (n < 0) return fail(Error::from_errno(errno, "readlink", path.string()));
    if (static_cast<std::size_t>(n) < target.size()) {
      target.resize(static_cast<std::size_t>(n));
      return target;
    }
    target.resize(target.size() * 2);
  }
}

// A file already in the store is only read and looked up: no temp file, no fsync, no rename
// (a re-upload of an unchanged tree costs one read per file). Otherwise put_file stores it;
// its digest wins if the file changed in between.
// size_hint (from lstat) sizes the read buffer (cache::copy_buffer_size).
Result<cache::BlobDigest> store_file(cache::CasStore& store, const std::filesystem::path& path,
                                     std::uint64_t size_hint) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return fail(Error::from_errno(errno, "open", path.string()));
  hash::MultiHasher hasher(hash::AlgorithmSet{true, false});
  std::vector<std::byte> buffer(cache::copy_buffer_size(size_hint));
  FORGE_TRY(
      const std::uint64_t size,
      cache::read_to_end(fd, path, buffer, [&](std::span<const std::byte> chunk) -> Result<void> {
        hasher.update(chunk);
        return ok();
      }));
  const cache::BlobDigest digest{*hasher.finish().sha256, size};
  FORGE_TRY(const bool present, store.contains(digest));
  if (present) return digest;
  return store.put_file(path);
}

Result<cache::BlobDigest> upload_directory(cache::CasStore& store, const std::filesystem::path& dir,
                                           std::size_t depth, TreeStats& stats) {
  if (depth > k_max_depth) {
    return fail(
        Error(ErrorCategory::validation,
              fmt::format("{} is nested more than {} directories deep", dir.string(), k_max_depth))
            .with_suggestion("check for a bind-mount loop under the uploaded tree"));
  }
  ++stats.directories;
  Directory directory;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto& path = it->path();
    std::string name = path.filename().string();
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0)
      return fail(Error::from_errno(errno, "lstat", path.string()));
    if (S_ISREG(st.st_mode)) {
      FORGE_TRY(const cache::BlobDigest digest,
                store_file(store, path, static_cast<std::uint64_t>(st.st_size)));
      directory.files.push_back({std::move(name), digest, (st.st_mode & S_IXUSR) != 0});
      ++stats.files;
      stats.file_bytes += digest.size;
    } else if (S_ISDIR(st.st_mode)) {
      FORGE_TRY(const cache::BlobDigest digest, upload_directory(store, path, depth + 1, stats));
      directory.directories.push_back({std::move(name), digest});
    } else if (S_ISLNK(st.st_mode)) {
      FORGE_TRY(std::string target, read_link(path));
      directory.symlinks.push_back({std::move(name), std::move(target)});
      ++stats.symlinks;
    } else {
      return fail(
          Error(ErrorCategory::validation,
                fmt::format("{} is not a regular file, directory or symlink", path.string()))
              .with_file(path.string())
              .with_suggestion("REAPI trees hold only those; remove it or upload a "
                               "directory without it"));
    }
  }
  if (ec) return fail(Error::from_error_code(ec, "readdir", dir.string()));
  sort_entries(directory);
  FORGE_TRY_VOID(validate(directory));
  const std::string encoded = encode_directory(directory);
  return store.put(std::as_bytes(std::span(encoded.data(), encoded.size())));
}

}  // namespace

Result<UploadResult> upload_tree(cache::CasStore& store, const std::filesystem::path& root) {
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) return fail(Error::from_errno(errno, "stat", root.string()));
  if (!S_ISDIR(st.st_mode)) {
    return fail(
        Error(ErrorCategory::validation, fmt::format("{} is not a directory", root.string()))
            .with_file(root.string())
            .with_suggestion("give the directory whose tree to upload"));
  }
  UploadResult result;
  FORGE_TRY(result.root, upload_directory(store, root, 0, result.stats));
  return result;
}

}  // namespace forge::cas_tree
