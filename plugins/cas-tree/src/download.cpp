#include "forge/cas_tree/download.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "file_copy.h"
#include "forge/core/support/unique_fd.h"

namespace forge::cas_tree {
namespace {

Error missing(const cache::BlobDigest& digest, std::string_view what, std::string_view path) {
  return Error(ErrorCategory::validation,
               fmt::format("{} {} for '{}' is not in the store", what, digest.to_string(),
                           path.empty() ? "." : path))
      .with_suggestion(
          "upload the tree first (`forge cas upload DIR`), or give --dir the "
          "store that holds it");
}

std::string child_path(const std::string& parent, std::string_view name) {
  return parent.empty() ? std::string(name) : parent + "/" + std::string(name);
}

class Materializer {
 public:
  Materializer(const cache::CasStore& store, const DownloadOptions& options)
      : m_store(store), m_options(options) {}

  Result<void> materialize(int dirfd, const cache::BlobDigest& digest, const std::string& path,
                           std::size_t depth) {
    FORGE_TRY(const Directory directory, fetch(digest, path));
    ++m_result.stats.directories;
    FORGE_TRY_VOID(
        count(directory.files.size() + directory.directories.size() + directory.symlinks.size()));
    for (const auto& file : directory.files) {
      const std::string file_path = child_path(path, file.name);
      FORGE_TRY(auto blob, m_store.open_blob(file.digest, ""));
      if (!blob) return fail(missing(file.digest, "file blob", file_path));
      // The bytes are cloned or linked without passing through here: check them first (the
      // page cache serves the copy). A corrupt blob is quarantined by the store.
      if (auto checked = blob->verify_all(); !checked) {
        return fail(std::move(checked).error().prefixed(
            fmt::format("file blob {} for '{}'", file.digest.to_string(), file_path)));
      }
      FORGE_TRY(const Placed placed,
                place_blob(m_store, file.digest, *blob, dirfd, file.name, file.is_executable,
                           m_options.link == Link::hardlink, file_path));
      ++m_result.stats.files;
      m_result.stats.file_bytes += file.digest.size;
      if (placed == Placed::hardlinked) ++m_result.hardlinked;
      if (placed == Placed::cloned) ++m_result.cloned;
    }
    for (const auto& symlink : directory.symlinks) {
      const std::string link_path = child_path(path, symlink.name);
      if (auto safe = check_symlink_target(symlink.target, depth); !safe) {
        return fail(std::move(safe).error().prefixed(fmt::format("symlink '{}'", link_path)));
      }
      if (::symlinkat(symlink.target.c_str(), dirfd, symlink.name.c_str()) != 0) {
        return fail(Error::from_errno(errno, "symlink", link_path));
      }
      ++m_result.stats.symlinks;
    }
    for (const auto& child : directory.directories) {
      const std::string sub_path = child_path(path, child.name);
      if (::mkdirat(dirfd, child.name.c_str(), 0777) != 0) {
        return fail(Error::from_errno(errno, "mkdir", sub_path));
      }
      UniqueFd sub(
          ::openat(dirfd, child.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) return fail(Error::from_errno(errno, "open", sub_path));
      FORGE_TRY_VOID(materialize(sub.get(), child.digest, sub_path, depth + 1));
    }
    return ok();
  }

  DownloadResult result() const { return m_result; }

 private:
  Result<void> count(std::uint64_t entries) {
    m_entries += entries;
    if (m_entries > m_options.max_entries) {
      return fail(Error(ErrorCategory::validation,
                        fmt::format("the tree has more than {} entries", m_options.max_entries))
                      .with_suggestion("a Directory reused many times can expand without "
                                       "bound; check the root digest"));
    }
    return ok();
  }

  Result<Directory> fetch(const cache::BlobDigest& digest, const std::string& path) {
    if (digest.size > m_options.max_directory_size) {
      return fail(
          Error(ErrorCategory::validation,
                fmt::format("Directory {} for '{}' is larger than {} bytes", digest.to_string(),
                            path.empty() ? "." : path, m_options.max_directory_size))
              .with_suggestion("check the digest: real Directory messages are small"));
    }
    FORGE_TRY(const auto bytes, m_store.get(digest, ""));
    if (!bytes) return fail(missing(digest, "Directory", path));
    auto decoded = decode_directory(*bytes);
    if (!decoded) {
      return fail(std::move(decoded).error().prefixed(
          fmt::format("Directory {} for '{}'", digest.to_string(), path.empty() ? "." : path)));
    }
    return decoded;
  }

  const cache::CasStore& m_store;
  const DownloadOptions& m_options;
  DownloadResult m_result;
  std::uint64_t m_entries = 0;
};

Result<void> check_destination(const std::filesystem::path& dest) {
  std::error_code ec;
  const auto status = std::filesystem::symlink_status(dest, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return fail(Error::from_error_code(ec, "stat", dest.string()));
  }
  if (!std::filesystem::exists(status)) return ok();
  if (std::filesystem::is_directory(status) && std::filesystem::is_empty(dest, ec) && !ec) {
    return ok();
  }
  return fail(Error(ErrorCategory::validation,
                    fmt::format("{} already exists and is not an empty directory", dest.string()))
                  .with_file(dest.string())
                  .with_suggestion("download into a new or empty directory"));
}

}  // namespace

Result<DownloadResult> download_tree(const cache::CasStore& store, const cache::BlobDigest& root,
                                     const std::filesystem::path& dest,
                                     const DownloadOptions& options) {
  FORGE_TRY_VOID(check_destination(dest));
  const std::filesystem::path target = dest.has_filename() ? dest : dest.parent_path();
  const auto partial = target.parent_path() /
                       fmt::format("{}.forge-partial-{}", target.filename().string(), ::getpid());
  if (::mkdir(partial.c_str(), 0777) != 0) {
    return fail(Error::from_errno(errno, "mkdir", partial.string()));
  }
  const auto discard = [&] {
    std::error_code ignored;
    std::filesystem::remove_all(partial, ignored);
  };
  UniqueFd top(::open(partial.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!top) {
    const int error = errno;
    discard();
    return fail(Error::from_errno(error, "open", partial.string()));
  }
  Materializer materializer(store, options);
  if (auto built = materializer.materialize(top.get(), root, "", 0); !built) {
    discard();
    return fail(std::move(built).error());
  }
  if (::rename(partial.c_str(), target.c_str()) != 0) {
    const int error = errno;
    discard();
    return fail(Error::from_errno(error, "rename", target.string()));
  }
  return materializer.result();
}

}  // namespace forge::cas_tree
