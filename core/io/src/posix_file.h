#pragma once
// Internal POSIX building blocks shared by the io backends (not a public header).
// All functions are thread-safe (no shared state) and return errno-mapped Errors that name
// the path and the operation.

#include <sys/stat.h>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <span>
#include <vector>

#include "file_common.h"
#include "forge/core/io/platform_io.h"
#include "forge/core/support/unique_fd.h"

namespace forge::io::detail {

// statx(AT_SYMLINK_NOFOLLOW): lstat semantics.
Result<FileStat> lstat_path(const std::filesystem::path& path);

// Opens a regular file for reading: O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK (a FIFO
// never blocks the open), O_NOFOLLOW with Follow::no (a symlink fails with ELOOP), then
// fstat: a directory fails with EISDIR, any other non-regular file with not_regular().
Result<UniqueFd> open_for_read(const std::filesystem::path& path, Follow follow = Follow::yes);

// not_regular(path, kind) with the kind of special file `mode` is (a FIFO, a device, ...).
Error not_regular(const std::filesystem::path& path, std::uint32_t mode);

// Reads regular file `fd` to EOF, at most its size at open + 1 byte, in chunks of `buffer.size()`,
// feeding `sink`; then checks that the size the file had when opened (`stat_before`) matches the
// bytes read and fstat after reading. Returns the final fstat. A mismatch is a file_system Error
// "changed while reading".
Result<FileStat> stream_fd(int fd, const std::filesystem::path& path, std::span<std::byte> buffer,
                           const std::function<void(std::span<const std::byte>)>& sink);

Result<FileStat> fstat_fd(int fd, const std::filesystem::path& path);

// Atomic replace: temp file beside `path`, write all, (fsync), rename, (fsync dir).
Result<void> atomic_write(const std::filesystem::path& path, std::span<const std::byte> data,
                          Sync sync);

// Runs fn(i) for i in [0, count) on up to `threads` threads (the caller's included).
void parallel_for(std::size_t count, std::size_t threads,
                  const std::function<void(std::size_t)>& fn);

}  // namespace forge::io::detail
