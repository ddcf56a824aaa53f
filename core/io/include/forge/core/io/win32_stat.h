#pragma once
// Windows only: the lstat the IOCP backend's batch_stat takes (a symlink or other reparse
// point is reported, not followed), for code outside io that needs one path's FileStat with
// the same fields (the scan walker). Thread-safe. Errors are errno-style, naming the path.

#ifndef _WIN32
#error "win32_stat.h is for the Windows build only"
#endif

#include <cstdint>
#include <filesystem>

#include "forge/core/io/platform_io.h"

namespace forge::io {

Result<FileStat> lstat_win32(const std::filesystem::path& path);

// A FileStat from what Windows reports of a file (a handle's or a directory listing's
// record): times in 100 ns ticks since 1601 (FILETIME), the file index as ino, the volume
// serial as dev; mode S_IFLNK for any reparse point, else S_IFDIR or S_IFREG, read-only
// 0444/0555 else 0644/0755. Every FileStat of the Windows build is made here, so a walk's
// listing and a read's handle report the same fields.
FileStat file_stat_win32(std::uint32_t attributes, std::uint64_t size, std::uint64_t file_index,
                         std::uint64_t volume_serial, std::int64_t write_ticks,
                         std::int64_t change_ticks);

}  // namespace forge::io
