#include "serve_binary.h"

namespace forge::cli {

std::filesystem::path serve_binary_path() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (ec ? std::filesystem::path(".") : self.parent_path()) / "forge-serve";
}

}  // namespace forge::cli
