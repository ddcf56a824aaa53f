#pragma once
// Internal Win32 building blocks of the Windows io backend (not a public header); the
// counterpart of posix_file.h. Every function is thread-safe (no shared state) and returns
// errno-mapped Errors naming the path and the operation, so callers and tests see the same
// categories and codes as on Linux.

#ifndef _WIN32
#error "win32_file.h is for the Windows build only"
#endif

#include <windows.h>

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

#include "file_common.h"
#include "forge/core/io/platform_io.h"
#include "forge/core/support/path_text.h"
#include "forge/core/support/unique_handle_win32.h"

namespace forge::io::detail {

// The errno a Win32 error code means (ERROR_FILE_NOT_FOUND -> ENOENT, ...); EIO otherwise.
int errno_from_win32(DWORD error);

// Error::from_errno(errno_from_win32(error), operation, path) with the Win32 code attached.
Error win32_error(DWORD error, std::string_view operation, const std::filesystem::path& path);

// forge::win32_path (path_text.h) gives the path handed to CreateFileW.
using forge::win32_path;

// FileStat of an open handle: size, file index as ino, volume serial as dev, last write and
// change times as ns since the Unix epoch, and a POSIX mode (S_IFDIR, S_IFLNK for a reparse
// point opened without following it, else S_IFREG; 0444 when read-only, else 0644/0755).
Result<FileStat> stat_handle(HANDLE handle, const std::filesystem::path& path);

// lstat semantics: a symlink is reported, not followed.
Result<FileStat> lstat_path(const std::filesystem::path& path);

// Opens a regular file for overlapped reading (IocpIO), sharing read, write and delete with
// others (sync_file.h's open_sync, also here, opens one for synchronous reads). A directory fails
// with EISDIR; with Follow::no a symlink fails with ELOOP; a device, pipe or console is
// not_regular(). Returns the handle and its FileStat at open.
struct OpenedFile {
  UniqueHandle handle;
  FileStat stat;
};
Result<OpenedFile> open_for_read(const std::filesystem::path& path, Follow follow);

// Atomic replace: a temp file beside `path`, every byte written, FlushFileBuffers with
// Sync::yes, then MoveFileExW(REPLACE_EXISTING, WRITE_THROUGH with Sync::yes). The temp file
// is deleted on any failure, so no partial file is ever visible under `path`.
Result<void> atomic_write(const std::filesystem::path& path, std::span<const std::byte> data,
                          Sync sync);

}  // namespace forge::io::detail
