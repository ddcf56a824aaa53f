#pragma once
// Shared by the io tests: both backends by name, and running external reference tools.

#include <cstdio>
#include <memory>
#include <string>

#include "forge/core/io/backend_selector.h"

namespace forge::io::test {

inline std::unique_ptr<PlatformIO> make_backend(
    const std::string& name, std::shared_ptr<support::ResourceManager> handles = nullptr,
    support::IoConfig config = {}) {
  if (!handles) handles = std::make_shared<support::ResourceManager>(config.max_file_handles);
  if (name == "fallback") return create_fallback_io(config, std::move(handles));
  auto io = create_uring_io(config, std::move(handles));
  return io ? std::move(*io) : nullptr;
}

// Runs `command` through the shell and returns its stdout.
inline std::string run_command(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  std::size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  return out;
}

}  // namespace forge::io::test
