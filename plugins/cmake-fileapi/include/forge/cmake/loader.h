#pragma once
// Loads the whole Model of a build directory: writes the file-API query when missing, reads
// the newest reply (codemodel, cmakeFiles, toolchains), asks Ninja for header dependencies
// and ctest for the tests. A Ninja build dir's model is cached in BUILD/.forge/cmake and
// reused while the reply, build files and Ninja's logs are unchanged (model_cache.h;
// Model::from_cache says which). Blocking (runs ninja and ctest on a miss). Not for two
// threads of one process on one build dir at once (LMDB opens an environment once per process).
//
// Errors: those of file_api.h and codemodel.h (no build dir, no reply, corrupt JSON, config
// choice), plus ninja/ctest failures. A query written just now cannot have a reply yet: the
// "run cmake once" error says so.

#include <filesystem>
#include <string>

#include "forge/cmake/model.h"
#include "forge/core/support/error.h"

namespace forge::cmake {

// yes: answer from the model cache while the build dir is unchanged, and fill it on a miss
// (model_cache.h); no: always read the reply and run ninja and ctest.
enum class UseCache { yes, no };

struct LoadOptions {
  std::filesystem::path build_dir;
  std::string config;  // multi-config generators: the configuration to describe
  bool header_deps = true;
  bool tests = true;
  UseCache cache = UseCache::yes;
};

Result<Model> load_model(const LoadOptions& options);

// Runs `cmake BUILD_DIR` (a re-configure of an existing build), so the reply, build.ninja
// and configure_file outputs reflect the current CMake inputs. Output goes to the error
// message when cmake fails.
Result<void> reconfigure(const std::filesystem::path& build_dir);

}  // namespace forge::cmake
