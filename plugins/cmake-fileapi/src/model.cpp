#include "forge/cmake/model.h"

#include <filesystem>

namespace forge::cmake {
namespace fs = std::filesystem;

std::optional<std::size_t> Model::find_target(const std::string& name) const {
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (targets[i].name == name) return i;
  }
  return std::nullopt;
}

std::string normalize_path(const std::string& path, const std::string& base) {
  fs::path p(path);
  if (p.is_relative()) p = fs::path(base) / p;
  std::string normal = p.lexically_normal().string();
  if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

std::optional<std::string> relative_to(const std::string& path, const std::string& root) {
  if (path == root) return std::string(".");
  if (path.size() > root.size() && path.starts_with(root) &&
      (root.back() == '/' || path[root.size()] == '/')) {
    return path.substr(root.size() + (root.back() == '/' ? 0 : 1));
  }
  return std::nullopt;
}

}  // namespace forge::cmake
