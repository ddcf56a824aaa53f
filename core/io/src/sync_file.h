#pragma once
// The file abstraction of the synchronous backends (internal header): a regular file open for
// blocking reads, the same calls on Linux (a descriptor, posix_file.cpp) and Windows (a
// synchronous HANDLE, win32_file.cpp), so that one fallback backend (fallback_io.cpp) and one
// read loop (sync_file.cpp) serve both platforms. Including it brings the platform's file
// header too (lstat_path, atomic_write, with the same signatures on both).
// Every function is thread-safe (no shared state); errors are errno-mapped and name the path
// and the operation, as the platform's file header says.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <span>

#include "forge/core/io/platform_io.h"

#ifdef _WIN32
#include "win32_file.h"
#else
#include "posix_file.h"
#endif

namespace forge::io::detail {

#ifdef _WIN32
using NativeFile = UniqueHandle;  // opened without FILE_FLAG_OVERLAPPED
#else
using NativeFile = UniqueFd;
#endif

// Opens a regular file for synchronous reading (Follow::no: a symlink fails with ELOOP).
// A directory fails with EISDIR, a FIFO, device, pipe or console with not_regular(); opening
// never blocks on a FIFO.
Result<NativeFile> open_sync(const std::filesystem::path& path, Follow follow = Follow::yes);

// Reads up to `buffer.size()` bytes at the file's position: the count, 0 at the end.
Result<std::size_t> read_some(const NativeFile& file, const std::filesystem::path& path,
                              std::span<std::byte> buffer);

// The FileStat of the open file.
Result<FileStat> stat_file(const NativeFile& file, const std::filesystem::path& path);

// Reads `file` (from open_sync) to its end, at most its size at open + 1 byte, in chunks of
// `buffer.size()`, feeding `sink`; then checks that the bytes read match the size at open and
// that size and mtime are unchanged (check_unchanged). Returns the stat after reading, with
// the size read.
Result<FileStat> stream_file(const NativeFile& file, const std::filesystem::path& path,
                             std::span<std::byte> buffer,
                             const std::function<void(std::span<const std::byte>)>& sink);

// Reads from the start until `buffer` is full or the file ends: the bytes read.
Result<std::size_t> read_prefix(const NativeFile& file, const std::filesystem::path& path,
                                std::span<std::byte> buffer);

// Runs fn(i) for i in [0, count) on up to `threads` threads (the caller's included).
void parallel_for(std::size_t count, std::size_t threads,
                  const std::function<void(std::size_t)>& fn);

}  // namespace forge::io::detail
