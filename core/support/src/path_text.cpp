#include "forge/core/support/path_text.h"

#ifdef _WIN32
#include <windows.h>
#endif

namespace forge {

std::string path_utf8(const std::filesystem::path& path) {
  const std::u8string text = path.generic_u8string();
  return std::string(text.begin(), text.end());
}

std::filesystem::path path_from_utf8(std::string_view utf8) {
#ifdef _WIN32
  // MultiByteToWideChar replaces invalid sequences (no MB_ERR_INVALID_CHARS) rather than
  // throwing as std::filesystem's own UTF-8 conversion does.
  if (utf8.empty()) return {};
  const int size = static_cast<int>(utf8.size());
  std::wstring wide(
      static_cast<std::size_t>(::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), size, nullptr, 0)),
      L'\0');
  ::MultiByteToWideChar(CP_UTF8, 0, utf8.data(), size, wide.data(), static_cast<int>(wide.size()));
  return std::filesystem::path(std::move(wide)).make_preferred();
#else
  return std::filesystem::path(std::string(utf8));
#endif
}

#ifdef _WIN32
std::wstring win32_path(const std::filesystem::path& path) {
  std::wstring text = std::filesystem::path(path).make_preferred().native();
  if (text.size() >= MAX_PATH && path.is_absolute() && !text.starts_with(L"\\\\?\\")) {
    text = (text.starts_with(L"\\\\") ? L"\\\\?\\UNC\\" + text.substr(2) : L"\\\\?\\" + text);
  }
  return text;
}
#endif

}  // namespace forge
