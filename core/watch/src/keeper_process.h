#pragma once
// What the watcher-sync protocol (index_sync.cpp) asks of the operating system, per platform:
// keeper_process_posix.cpp (kill(pid, 0), open O_EXCL) and keeper_process_win32.cpp
// (OpenProcess, CreateFileW CREATE_NEW). Internal header; every function is thread-safe.

#include <filesystem>
#include <string_view>

namespace forge::watch::detail {

// True when the process `pid` (> 0) is running (one this user may not signal or open
// counts: it exists).
bool process_alive(long pid);

// Creates the empty file `path`; false when it exists or cannot be created.
bool create_new_file(const std::filesystem::path& path);

}  // namespace forge::watch::detail
