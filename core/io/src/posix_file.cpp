#include "posix_file.h"

#include "sync_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <random>

#include <fmt/format.h>

#include "forge/core/support/unique_fd.h"

namespace forge::io::detail {

std::int64_t to_ns(const struct statx_timestamp& ts) {
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace forge::io::detail

namespace forge::io {

FileStat to_file_stat(const struct statx& stx) {
  FileStat stat;
  stat.size = stx.stx_size;
  stat.ino = stx.stx_ino;
  stat.dev = (static_cast<std::uint64_t>(stx.stx_dev_major) << 32) | stx.stx_dev_minor;
  stat.mtime_ns = detail::to_ns(stx.stx_mtime);
  stat.ctime_ns = detail::to_ns(stx.stx_ctime);
  stat.mode = stx.stx_mode;
  return stat;
}

}  // namespace forge::io

namespace forge::io::detail {

Result<FileStat> lstat_path(const std::filesystem::path& path) {
  struct statx stx {};
  if (statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS,
            &stx) != 0) {
    return fail(Error::from_errno(errno, "statx", path.string()));
  }
  return to_file_stat(stx);
}

Result<FileStat> fstat_fd(int fd, const std::filesystem::path& path) {
  struct statx stx {};
  if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, &stx) != 0) {
    return fail(Error::from_errno(errno, "fstat", path.string()));
  }
  return to_file_stat(stx);
}

Error not_regular(const std::filesystem::path& path, std::uint32_t mode) {
  return not_regular(path, S_ISFIFO(mode)   ? "a FIFO"
                           : S_ISCHR(mode)  ? "a character device"
                           : S_ISBLK(mode)  ? "a block device"
                           : S_ISSOCK(mode) ? "a socket"
                                            : "not a regular file");
}

Result<UniqueFd> open_sync(const std::filesystem::path& path, Follow follow) {
  // O_NONBLOCK: a FIFO never blocks the open; O_NOFOLLOW with Follow::no: a symlink is ELOOP.
  const int flags =
      O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow == Follow::no ? O_NOFOLLOW : 0);
  UniqueFd fd;
  do {
    fd.reset(::open(path.c_str(), flags));
  } while (!fd && errno == EINTR);
  if (!fd) return fail(Error::from_errno(errno, "open", path.string()));
  FORGE_TRY(const FileStat stat, fstat_fd(fd.get(), path));
  if (S_ISDIR(stat.mode)) return fail(Error::from_errno(EISDIR, "read", path.string()));
  if (!S_ISREG(stat.mode)) return fail(not_regular(path, stat.mode));
  return fd;
}

Result<std::size_t> read_some(const UniqueFd& file, const std::filesystem::path& path,
                              std::span<std::byte> buffer) {
  for (;;) {
    const ssize_t n = ::read(file.get(), buffer.data(), buffer.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EINTR) return fail(Error::from_errno(errno, "read", path.string()));
  }
}

Result<FileStat> stat_file(const UniqueFd& file, const std::filesystem::path& path) {
  return fstat_fd(file.get(), path);
}

Result<void> atomic_write(const std::filesystem::path& path, std::span<const std::byte> data,
                          Sync sync) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  const std::filesystem::path temp = temp_path_beside(path, random());
  UniqueFd file(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!file) return fail(Error::from_errno(errno, "open", temp.string()));
  const int fd = file.get();
  auto cleanup = [&](Error error) {
    file.reset();
    ::unlink(temp.c_str());
    return fail(std::move(error).with_file(path.string()));
  };
  std::size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return cleanup(Error::from_errno(errno, "write", path.string()));
    }
    written += static_cast<std::size_t>(n);
  }
  if (sync == Sync::yes && ::fsync(fd) != 0) {
    return cleanup(Error::from_errno(errno, "fsync", path.string()));
  }
  if (const int close_error = file.close(); close_error != 0) {
    ::unlink(temp.c_str());
    return fail(Error::from_errno(close_error, "close", path.string()));
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temp.c_str());
    return fail(Error::from_errno(saved, "rename", path.string()));
  }
  if (sync == Sync::yes) return fsync_directory(directory_of(path));
  return ok();
}

}  // namespace forge::io::detail

namespace forge::io {

Result<void> fsync_directory(const std::filesystem::path& dir) {
  const UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return fail(Error::from_errno(errno, "open", dir.string()));
  if (::fsync(fd.get()) != 0) return fail(Error::from_errno(errno, "fsync", dir.string()));
  return ok();
}

}  // namespace forge::io
