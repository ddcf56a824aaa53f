#pragma once
// The platform-neutral part of the io backends' file handling (internal header), shared by
// posix_file.cpp and win32_file.cpp: how paths appear in errors, the errors for a special
// file and for a file that changed while it was read, and the temp name of an atomic write.
// Every function is pure and thread-safe.

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "forge/core/io/platform_io.h"

namespace forge::io::detail {

// The path as UTF-8 with '/' separators: how paths appear in messages and JSON (on Linux the
// path's own bytes).
std::string display_path(const std::filesystem::path& path);

// The file_system Error for a FIFO, device, socket, pipe or console where a regular file is
// read; `kind` says which ("a FIFO", "a device, pipe or console", ...).
Error not_regular(const std::filesystem::path& path, std::string_view kind);

// A file_system Error "changed while reading" unless `bytes_read` equals the size at open
// (`before`) and size and mtime are the same after reading (`after`) as at open.
Result<void> check_unchanged(const std::filesystem::path& path, const FileStat& before,
                             const FileStat& after, std::uint64_t bytes_read);

// The temp file an atomic write of `path` goes through first: `.NAME.forge-tmp.<16 hex>` in
// the same directory (`random` picks the suffix), so the final rename never crosses devices.
std::filesystem::path temp_path_beside(const std::filesystem::path& path, std::uint64_t random);

// The directory an atomic write of `path` renames inside: its parent, or "." for a bare name.
std::filesystem::path directory_of(const std::filesystem::path& path);

}  // namespace forge::io::detail
