// The walker's directories on Windows: a directory is its path between calls (a handle kept
// open would stop it from being renamed or deleted while the walk runs). read_names() opens
// it and lists names and stats together (GetFileInformationByHandleEx, FileIdBothDirectory-
// Info: file id, times, size, attributes), so a walk opens no file to stat it; the stats are
// made by io::file_stat_win32 like the IOCP backend's, so a walk and a read agree. A child
// not in the listing (a reused one) is stat'ed through io::lstat_win32.
#include <windows.h>

#include <cstddef>
#include <cstring>
#include <fstream>
#include <iterator>

#include "forge/core/io/win32_stat.h"
#include "forge/core/support/path_text.h"
#include "forge/core/support/unique_handle_win32.h"
#include "walk_dir.h"

namespace forge::scan::detail {
namespace {

// As io::file_stat_win32 reports it: any reparse point is a symlink (not followed).
EntryType type_of(DWORD attributes) {
  if (attributes & FILE_ATTRIBUTE_REPARSE_POINT) return EntryType::symlink;
  if (attributes & FILE_ATTRIBUTE_DIRECTORY) return EntryType::directory;
  if (attributes & FILE_ATTRIBUTE_DEVICE) return EntryType::other;
  return EntryType::file;
}

std::filesystem::path child(const std::filesystem::path& dir, const char* name) {
  return dir / path_from_utf8(name);
}

Error list_error(DWORD error, const std::filesystem::path& dir) {
  const int code = error == ERROR_ACCESS_DENIED                                     ? EACCES
                   : error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND ? ENOENT
                   : error == ERROR_DIRECTORY                                       ? ENOTDIR
                                                                                    : EIO;
  return Error::from_errno(code, "readdir", path_utf8(dir))
      .with_suggestion("Win32 error " + std::to_string(error) + " listing the directory");
}

// 64 KiB of records per call: a few hundred typical names.
constexpr DWORD k_list_bytes = 64 * 1024;

}  // namespace

Result<WalkDir> WalkDir::open(const std::filesystem::path& absolute, bool /*path_only*/) {
  // What open(O_DIRECTORY | O_NOFOLLOW) checks: a directory, not a link to one.
  const DWORD attributes = ::GetFileAttributesW(win32_path(absolute).c_str());
  if (attributes == INVALID_FILE_ATTRIBUTES) {
    const DWORD error = ::GetLastError();
    return fail(Error::from_errno(error == ERROR_ACCESS_DENIED ? EACCES : ENOENT, "opendir",
                                  path_utf8(absolute)));
  }
  if (attributes & FILE_ATTRIBUTE_REPARSE_POINT) {
    return fail(Error::from_errno(ELOOP, "opendir", path_utf8(absolute)));
  }
  if (!(attributes & FILE_ATTRIBUTE_DIRECTORY)) {
    return fail(Error::from_errno(ENOTDIR, "opendir", path_utf8(absolute)));
  }
  WalkDir dir;
  dir.m_absolute = absolute;
  return dir;
}

Result<void> WalkDir::make_listable() {
  return ok();
}

Result<void> WalkDir::read_names(std::vector<char>& buffer, std::vector<DirName>& names) const {
  const UniqueHandle handle(
      ::CreateFileW(win32_path(m_absolute).c_str(), FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                    FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr));
  if (!handle) return fail(list_error(::GetLastError(), m_absolute));
  BY_HANDLE_FILE_INFORMATION self{};
  if (!::GetFileInformationByHandle(handle.get(), &self)) {
    return fail(list_error(::GetLastError(), m_absolute));
  }
  // Names go to `buffer` as NUL-terminated UTF-8; views are made once it stops growing.
  struct Listed {
    std::size_t offset = 0;
    std::size_t size = 0;
    EntryType type = EntryType::file;
    io::FileStat stat;
  };
  std::vector<Listed> listed;
  std::size_t used = 0;
  std::vector<std::byte> records(k_list_bytes);
  for (;;) {
    if (!::GetFileInformationByHandleEx(handle.get(), FileIdBothDirectoryInfo, records.data(),
                                        k_list_bytes)) {
      const DWORD error = ::GetLastError();
      if (error == ERROR_NO_MORE_FILES) break;
      return fail(list_error(error, m_absolute));
    }
    for (std::size_t at = 0;;) {
      // Fields are copied out: a record's alignment is the file system driver's.
      FILE_ID_BOTH_DIR_INFO info;
      std::memcpy(&info, records.data() + at, offsetof(FILE_ID_BOTH_DIR_INFO, FileName));
      const std::size_t name_units = info.FileNameLength / sizeof(wchar_t);
      std::wstring wide(name_units, L'\0');
      std::memcpy(wide.data(), records.data() + at + offsetof(FILE_ID_BOTH_DIR_INFO, FileName),
                  info.FileNameLength);
      if (wide != L"." && wide != L"..") {
        const int size = ::WideCharToMultiByte(
            CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()), nullptr, 0, nullptr, nullptr);
        const auto length = static_cast<std::size_t>(std::max(size, 0));
        if (buffer.size() < used + length + 1) {
          buffer.resize(std::max(buffer.size() * 2, used + length + 1));
        }
        ::WideCharToMultiByte(CP_UTF8, 0, wide.data(), static_cast<int>(wide.size()),
                              buffer.data() + used, size, nullptr, nullptr);
        buffer[used + length] = '\0';
        listed.push_back(
            Listed{used, length, type_of(info.FileAttributes),
                   io::file_stat_win32(
                       info.FileAttributes, static_cast<std::uint64_t>(info.EndOfFile.QuadPart),
                       static_cast<std::uint64_t>(info.FileId.QuadPart), self.dwVolumeSerialNumber,
                       info.LastWriteTime.QuadPart, info.ChangeTime.QuadPart)});
        used += length + 1;
      }
      if (info.NextEntryOffset == 0) break;
      at += info.NextEntryOffset;
    }
  }
  m_listed.clear();
  for (const Listed& entry : listed) {
    const char* c_name = buffer.data() + entry.offset;
    names.push_back(DirName{std::string_view(c_name, entry.size), entry.type, c_name, 0});
    m_listed.emplace(c_name, entry.stat);
  }
  return ok();
}

std::optional<io::FileStat> WalkDir::stat(const char* name) const {
  if (const auto found = m_listed.find(name); found != m_listed.end()) return found->second;
  auto stat = io::lstat_win32(child(m_absolute, name));
  if (!stat) return std::nullopt;
  return *stat;
}

std::optional<std::string> WalkDir::read_file(const char* name) const {
  std::ifstream in(child(m_absolute, name), std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace forge::scan::detail
