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
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "forge/cmake/affected.h"
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

class ModelCache;
class CachedIndex;

// The cached query index of a build dir (model_cache.h, query_index.h), for `affected`:
// answers from the changed files' entries and the summary alone, without decoding the
// whole model. Holds an LMDB read transaction while it lives (one thread at a time).
class IndexedModel {
 public:
  // The index when the cache holds one for the build dir's current identity; nullopt
  // (then use load_model, which fills the cache) on a miss, with options.cache == no, or
  // when the cache cannot be opened.
  static std::optional<IndexedModel> open(const LoadOptions& options);
  IndexedModel(IndexedModel&&) noexcept;
  IndexedModel& operator=(IndexedModel&&) noexcept;
  ~IndexedModel();

  // The slim model: targets carry id, name and type only; tests, notes and paths in full.
  Model& model();
  Result<Affected> affected(std::vector<std::string> changed) const;

 private:
  IndexedModel(std::unique_ptr<ModelCache> cache, std::unique_ptr<CachedIndex> index);
  std::unique_ptr<ModelCache> m_cache;
  std::unique_ptr<CachedIndex> m_index;  // after m_cache: destroyed first
};

// Runs `cmake BUILD_DIR` (a re-configure of an existing build), so the reply, build.ninja
// and configure_file outputs reflect the current CMake inputs. Output goes to the error
// message when cmake fails.
Result<void> reconfigure(const std::filesystem::path& build_dir);

}  // namespace forge::cmake
