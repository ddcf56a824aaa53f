#include "forge/test/temp_dir.h"

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace forge::test {
namespace {

// The path UTF-8 `text` names (on Windows, not the ANSI code page's reading of it).
std::filesystem::path utf8(std::string_view text) {
  return std::filesystem::path(std::u8string(text.begin(), text.end()));
}

}  // namespace

TempDir::TempDir() {
#ifdef _WIN32
  // %TEMP% (what wine gives as well); a random name, retried until it is new.
  std::random_device seed;
  const auto base = std::filesystem::temp_directory_path();
  for (;;) {
    m_path = base / ("forge-test-" + std::to_string(seed()) + std::to_string(seed()));
    if (std::filesystem::create_directory(m_path)) break;
  }
#else
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/forge-test-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  m_path = buf.data();
#endif
}

TempDir::~TempDir() {
  std::error_code ec;
  // Tests make unreadable files and directories; restore access so removal succeeds.
  for (auto it = std::filesystem::recursive_directory_iterator(
           m_path, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_symlink(ec)) {
      std::filesystem::permissions(it->path(), std::filesystem::perms::owner_all,
                                   std::filesystem::perm_options::add, ec);
    }
  }
  std::filesystem::permissions(m_path, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::add, ec);
  std::filesystem::remove_all(m_path, ec);
}

std::filesystem::path TempDir::write_file(std::string_view relative,
                                          std::string_view content) const {
  const auto path = m_path / utf8(relative);
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
  return path;
}

std::string TempDir::read_file(std::string_view relative) const {
  std::ifstream in(m_path / utf8(relative), std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::filesystem::path forge_binary() {
  const char* path = std::getenv("FORGE_BINARY");
  if (path == nullptr || *path == '\0') throw std::runtime_error("FORGE_BINARY is not set");
  return path;
}

}  // namespace forge::test
