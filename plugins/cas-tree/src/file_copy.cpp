#include "file_copy.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include <fmt/format.h>

#include "forge/core/support/unique_fd.h"

namespace forge::cas_tree {
namespace {

// Links `name` to the store's file of `blob` once that inode is read-only. The link is kept
// only if it is that very inode (a concurrent put may rename a new, writable file over the
// blob's name between our chmod and link) and it is still read-only. Only a regular file is
// ever chmod'ed: the empty blob's reader holds /dev/null, which must stay writable.
bool try_hardlink(const cache::CasStore& store, const cache::BlobDigest& digest,
                  const cache::BlobReader& blob, int dirfd, const std::string& name) {
  struct stat held {};
  if (::fstat(blob.fd(), &held) != 0 || !S_ISREG(held.st_mode)) return false;
  if ((held.st_mode & 0222) != 0 && ::fchmod(blob.fd(), 0444) != 0) return false;
  const auto source = store.blob_path(digest);
  if (::linkat(AT_FDCWD, source.c_str(), dirfd, name.c_str(), 0) != 0) return false;
  struct stat linked {};
  if (::fstatat(dirfd, name.c_str(), &linked, AT_SYMLINK_NOFOLLOW) == 0 &&
      linked.st_ino == held.st_ino && linked.st_dev == held.st_dev &&
      (linked.st_mode & 0222) == 0) {
    return true;
  }
  ::unlinkat(dirfd, name.c_str(), 0);
  return false;
}

Result<void> copy_bytes(int from, int to, std::uint64_t size, const std::string& path) {
  std::uint64_t done = 0;
  bool kernel_copy = true;
  std::vector<char> buffer;
  while (done < size) {
    if (kernel_copy) {
      loff_t in_offset = static_cast<loff_t>(done);
      const ssize_t n = ::copy_file_range(from, &in_offset, to, nullptr, size - done, 0);
      if (n > 0) {
        done += static_cast<std::uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP) {
        return fail(Error::from_errno(errno, "copy_file_range", path));
      }
      kernel_copy = false;  // unsupported here (or 0: the blob shrank; read() will tell)
      buffer.resize(1 << 20);
    }
    const ssize_t n = ::pread(from, buffer.data(), buffer.size(), static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error::from_errno(errno, "read", path));
    if (n == 0) {
      return fail(Error(ErrorCategory::file_system,
                        fmt::format("the stored blob for {} is shorter than its digest", path))
                      .with_suggestion("run `forge cache verify` to repair the store"));
    }
    for (ssize_t written = 0; written < n;) {
      const ssize_t w = ::write(to, buffer.data() + written, static_cast<std::size_t>(n - written));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return fail(Error::from_errno(errno, "write", path));
      written += w;
    }
    done += static_cast<std::uint64_t>(n);
  }
  return ok();
}

}  // namespace

Result<Placed> place_blob(const cache::CasStore& store, const cache::BlobDigest& digest,
                          const cache::BlobReader& blob, int dirfd, const std::string& name,
                          bool executable, bool try_link, const std::string& path_for_errors) {
  if (try_link && !executable && try_hardlink(store, digest, blob, dirfd, name)) {
    return Placed::hardlinked;
  }
  UniqueFd out(::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                        executable ? 0777 : 0666));
  if (!out) return fail(Error::from_errno(errno, "create", path_for_errors));
  Placed placed = Placed::copied;
  Result<void> copied = ok();
  if (blob.size() > 0 && ::ioctl(out.get(), FICLONE, blob.fd()) == 0) {
    placed = Placed::cloned;
  } else {
    copied = copy_bytes(blob.fd(), out.get(), blob.size(), path_for_errors);
  }
  if (copied && ::close(out.release()) != 0) {
    copied = fail(Error::from_errno(errno, "close", path_for_errors));
  }
  if (!copied) {
    ::unlinkat(dirfd, name.c_str(), 0);
    return fail(std::move(copied).error());
  }
  return placed;
}

}  // namespace forge::cas_tree
