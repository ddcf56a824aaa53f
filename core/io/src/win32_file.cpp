#include "win32_file.h"
#include "forge/core/io/win32_stat.h"
#include "sync_file.h"

#include <algorithm>
#include <cerrno>
#include <random>

#include <fmt/format.h>

namespace forge::io::detail {
namespace {

// 100 ns ticks between 1601-01-01 (FILETIME) and 1970-01-01 (Unix).
constexpr std::int64_t k_epoch_offset_ticks = 116'444'736'000'000'000;

std::int64_t ticks_to_unix_ns(std::int64_t ticks) {
  return (ticks - k_epoch_offset_ticks) * 100;
}

constexpr DWORD k_share_all = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

}  // namespace

int errno_from_win32(DWORD error) {
  switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_NET_NAME: return ENOENT;
    case ERROR_ACCESS_DENIED:
    case ERROR_PRIVILEGE_NOT_HELD: return EACCES;
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
    case ERROR_BUSY: return EBUSY;
    case ERROR_TOO_MANY_OPEN_FILES: return EMFILE;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL: return ENOSPC;
    case ERROR_FILE_EXISTS:
    case ERROR_ALREADY_EXISTS: return EEXIST;
    case ERROR_DIRECTORY: return ENOTDIR;
    case ERROR_DIR_NOT_EMPTY: return ENOTEMPTY;
    case ERROR_FILENAME_EXCED_RANGE: return ENAMETOOLONG;
    case ERROR_INVALID_NAME:
    case ERROR_INVALID_PARAMETER: return EINVAL;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY: return ENOMEM;
    case ERROR_CANT_RESOLVE_FILENAME: return ELOOP;
    case ERROR_WRITE_PROTECT: return EROFS;
    case ERROR_NOT_SAME_DEVICE: return EXDEV;
    case ERROR_OPERATION_ABORTED: return EINTR;
    case ERROR_NOT_SUPPORTED: return EOPNOTSUPP;
    default: return EIO;
  }
}

Error win32_error(DWORD error, std::string_view operation, const std::filesystem::path& path) {
  return Error::from_errno(errno_from_win32(error), operation, display_path(path))
      .with_suggestion(fmt::format("Win32 error {} from {}", error, operation));
}

Result<FileStat> stat_handle(HANDLE handle, const std::filesystem::path& path) {
  BY_HANDLE_FILE_INFORMATION info{};
  if (!::GetFileInformationByHandle(handle, &info)) {
    return fail(win32_error(::GetLastError(), "fstat", path));
  }
  FILE_BASIC_INFO basic{};
  const bool have_basic =
      ::GetFileInformationByHandleEx(handle, FileBasicInfo, &basic, sizeof basic) != 0;
  const auto write_ticks = static_cast<std::int64_t>(
      (static_cast<std::uint64_t>(info.ftLastWriteTime.dwHighDateTime) << 32) |
      info.ftLastWriteTime.dwLowDateTime);
  return file_stat_win32(
      info.dwFileAttributes,
      (static_cast<std::uint64_t>(info.nFileSizeHigh) << 32) | info.nFileSizeLow,
      (static_cast<std::uint64_t>(info.nFileIndexHigh) << 32) | info.nFileIndexLow,
      info.dwVolumeSerialNumber, write_ticks, have_basic ? basic.ChangeTime.QuadPart : write_ticks);
}

Result<FileStat> lstat_path(const std::filesystem::path& path) {
  // FILE_READ_ATTRIBUTES only: never blocked by another process's sharing mode.
  UniqueHandle handle(::CreateFileW(
      win32_path(path).c_str(), FILE_READ_ATTRIBUTES, k_share_all, nullptr, OPEN_EXISTING,
      FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr));
  if (!handle) return fail(win32_error(::GetLastError(), "stat", path));
  return stat_handle(handle.get(), path);
}

namespace {

// Opens a regular file for reading with `flags`, sharing read, write and delete with others.
// BACKUP_SEMANTICS lets a directory open, so that it is reported as EISDIR like on Linux.
Result<OpenedFile> open_regular(const std::filesystem::path& path, Follow follow, DWORD flags) {
  flags |= FILE_FLAG_SEQUENTIAL_SCAN | FILE_FLAG_BACKUP_SEMANTICS |
           (follow == Follow::no ? FILE_FLAG_OPEN_REPARSE_POINT : 0);
  OpenedFile opened;
  opened.handle.reset(::CreateFileW(win32_path(path).c_str(), GENERIC_READ, k_share_all, nullptr,
                                    OPEN_EXISTING, flags, nullptr));
  if (!opened.handle) return fail(win32_error(::GetLastError(), "open", path));
  if (::GetFileType(opened.handle.get()) != FILE_TYPE_DISK)
    return fail(not_regular(path, "a device, pipe or console"));
  FORGE_TRY(opened.stat, stat_handle(opened.handle.get(), path));
  if (S_ISDIR(opened.stat.mode)) return fail(Error::from_errno(EISDIR, "read", display_path(path)));
  if (S_ISLNK(opened.stat.mode)) return fail(Error::from_errno(ELOOP, "open", display_path(path)));
  return opened;
}

}  // namespace

Result<OpenedFile> open_for_read(const std::filesystem::path& path, Follow follow) {
  return open_regular(path, follow, FILE_FLAG_OVERLAPPED);
}

Result<UniqueHandle> open_sync(const std::filesystem::path& path, Follow follow) {
  FORGE_TRY(OpenedFile opened, open_regular(path, follow, 0));
  return std::move(opened.handle);
}

Result<std::size_t> read_some(const UniqueHandle& file, const std::filesystem::path& path,
                              std::span<std::byte> buffer) {
  const auto want = static_cast<DWORD>(std::min<std::size_t>(buffer.size(), 1u << 30));
  DWORD got = 0;
  if (!::ReadFile(file.get(), buffer.data(), want, &got, nullptr)) {
    const DWORD error = ::GetLastError();
    if (error == ERROR_HANDLE_EOF) return std::size_t{0};
    return fail(win32_error(error, "read", path));
  }
  return std::size_t{got};
}

Result<FileStat> stat_file(const UniqueHandle& file, const std::filesystem::path& path) {
  return stat_handle(file.get(), path);
}

Result<void> atomic_write(const std::filesystem::path& path, std::span<const std::byte> data,
                          Sync sync) {
  thread_local std::mt19937_64 random{std::random_device{}()};
  const std::filesystem::path temp = temp_path_beside(path, random());
  const std::wstring temp_name = win32_path(temp);
  UniqueHandle file(::CreateFileW(temp_name.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW,
                                  FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!file) return fail(win32_error(::GetLastError(), "open", temp).with_file(display_path(path)));
  auto cleanup = [&](Error error) {
    file.reset();
    ::DeleteFileW(temp_name.c_str());
    return fail(std::move(error).with_file(display_path(path)));
  };
  for (std::span<const std::byte> rest = data; !rest.empty();) {
    const auto want = static_cast<DWORD>(std::min<std::size_t>(rest.size(), 1u << 30));
    DWORD written = 0;
    if (!::WriteFile(file.get(), rest.data(), want, &written, nullptr)) {
      return cleanup(win32_error(::GetLastError(), "write", path));
    }
    rest = rest.subspan(written);
  }
  if (sync == Sync::yes && !::FlushFileBuffers(file.get())) {
    return cleanup(win32_error(::GetLastError(), "fsync", path));
  }
  if (const DWORD error = file.close(); error != 0) {
    ::DeleteFileW(temp_name.c_str());
    return fail(win32_error(error, "close", path));
  }
  const DWORD move_flags =
      MOVEFILE_REPLACE_EXISTING | (sync == Sync::yes ? MOVEFILE_WRITE_THROUGH : 0);
  if (!::MoveFileExW(temp_name.c_str(), win32_path(path).c_str(), move_flags)) {
    const DWORD error = ::GetLastError();
    ::DeleteFileW(temp_name.c_str());
    return fail(win32_error(error, "rename", path));
  }
  return ok();
}

}  // namespace forge::io::detail

namespace forge::io {

Result<FileStat> lstat_win32(const std::filesystem::path& path) {
  return detail::lstat_path(path);
}

FileStat file_stat_win32(std::uint32_t attributes, std::uint64_t size, std::uint64_t file_index,
                         std::uint64_t volume_serial, std::int64_t write_ticks,
                         std::int64_t change_ticks) {
  FileStat stat;
  stat.size = size;
  stat.ino = file_index;
  stat.dev = volume_serial;
  stat.mtime_ns = detail::ticks_to_unix_ns(write_ticks);
  stat.ctime_ns = detail::ticks_to_unix_ns(change_ticks);
  const bool read_only = (attributes & FILE_ATTRIBUTE_READONLY) != 0;
  if (attributes & FILE_ATTRIBUTE_REPARSE_POINT) {
    stat.mode = S_IFLNK | 0777;
  } else if (attributes & FILE_ATTRIBUTE_DIRECTORY) {
    stat.mode = S_IFDIR | (read_only ? 0555 : 0755);
  } else {
    stat.mode = S_IFREG | (read_only ? 0444 : 0644);
  }
  return stat;
}

}  // namespace forge::io
