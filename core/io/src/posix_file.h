#pragma once
// Internal POSIX building blocks shared by the io backends (not a public header); with
// sync_file.h's open_sync/read_some/stat_file, implemented in posix_file.cpp.
// All functions are thread-safe (no shared state) and return errno-mapped Errors that name
// the path and the operation.

#include <sys/stat.h>

#include <cstddef>
#include <filesystem>
#include <span>
#include <vector>

#include "file_common.h"
#include "forge/core/io/platform_io.h"
#include "forge/core/support/unique_fd.h"

namespace forge::io::detail {

// statx(AT_SYMLINK_NOFOLLOW): lstat semantics.
Result<FileStat> lstat_path(const std::filesystem::path& path);

// not_regular(path, kind) with the kind of special file `mode` is (a FIFO, a device, ...).
Error not_regular(const std::filesystem::path& path, std::uint32_t mode);

Result<FileStat> fstat_fd(int fd, const std::filesystem::path& path);

// Atomic replace: temp file beside `path`, write all, (fsync), rename, (fsync dir).
Result<void> atomic_write(const std::filesystem::path& path, std::span<const std::byte> data,
                          Sync sync);

}  // namespace forge::io::detail
