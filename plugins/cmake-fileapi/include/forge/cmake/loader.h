#pragma once
// Loads the whole Model of a build directory: writes the file-API query when missing, reads
// the newest reply (codemodel, cmakeFiles, toolchains), asks Ninja for header dependencies
// and ctest for the tests. Blocking (runs ninja and ctest); thread-safe.
//
// Errors: those of file_api.h and codemodel.h (no build dir, no reply, corrupt JSON, config
// choice), plus ninja/ctest failures. A query written just now cannot have a reply yet: the
// "run cmake once" error says so.

#include <filesystem>
#include <string>

#include "forge/cmake/model.h"
#include "forge/core/support/error.h"

namespace forge::cmake {

struct LoadOptions {
  std::filesystem::path build_dir;
  std::string config;  // multi-config generators: the configuration to describe
  bool header_deps = true;
  bool tests = true;
};

Result<Model> load_model(const LoadOptions& options);

// Runs `cmake BUILD_DIR` (a re-configure of an existing build), so the reply, build.ninja
// and configure_file outputs reflect the current CMake inputs. Output goes to the error
// message when cmake fails.
Result<void> reconfigure(const std::filesystem::path& build_dir);

}  // namespace forge::cmake
