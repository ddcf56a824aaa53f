#pragma once
// Paths as text at Forge's boundaries (indexes, JSON, messages, command lines), the same on
// every platform: UTF-8 with '/' separators. On Linux a path is its bytes and nothing is
// converted; on Windows the native UTF-16 path is converted to and from UTF-8 here and only
// here, and '\' and '/' are both accepted on input.
// Thread-safe (pure functions). Never throws: text that is not valid UTF-8 (or UTF-16) is
// converted with the replacement character instead of failing.

#include <filesystem>
#include <string>
#include <string_view>

namespace forge {

// The UTF-8 text of `path` with '/' separators ("C:/src/a.c" on Windows).
std::string path_utf8(const std::filesystem::path& path);

// The path `utf8` names; on Windows '/' and '\' both separate.
std::filesystem::path path_from_utf8(std::string_view utf8);

#ifdef _WIN32
// The path handed to a wide Win32 call (CreateFileW, FindFirstFileExW...): '\' separators,
// and the `\\?\` prefix (`\\?\UNC\` for a share) on an absolute path of MAX_PATH or more
// characters, so long paths work without the system's long-path switch.
std::wstring win32_path(const std::filesystem::path& path);
#endif

}  // namespace forge
