#pragma once
// The model cache: load_model() keeps the Model it built in an LMDB environment inside the
// build directory (BUILD/.forge/cmake), so the next `forge cmake` answers without reading
// thousands of reply files or running ninja and ctest again.
//
// Validity: a cached model is used only while the files it was built from are unchanged.
// BuildIdentity is the name of the newest reply index and the (size, mtime, ctime, inode)
// of that index, build.ninja (and build-<config>.ninja of a multi-config generator),
// CMakeCache.txt, .ninja_deps (header dependencies) and .ninja_log (which targets were
// built, and so which tests ctest can list with a command). A configure writes a new index
// and build files; a build appends to .ninja_log/.ninja_deps; either makes the next lookup
// a miss. Only Ninja generators are cached: other generators keep no single file that
// changes when a build does.
//
// Record format: database "models", key = LoadOptions as bytes (config, header_deps,
// tests), value = u32 k_model_format_version, u32 identity length, identity bytes,
// encode_model() bytes (model_codec.h). Another version, another identity or bytes that do
// not decode are a miss; the next store overwrites them.
//
// Callers take the identity BEFORE reading the build dir and store under it, so a build
// running during the load makes the stored entry stale, never wrong.
//
// Threading: one ModelCache per thread; LMDB serialises writers across processes. Errors:
// store errors (lmdb.h); load_model() treats every cache error as a miss.

#include <filesystem>
#include <optional>
#include <string>

#include "forge/cmake/loader.h"
#include "forge/cmake/model.h"
#include "forge/core/store/lmdb.h"
#include "forge/core/support/error.h"

namespace forge::cmake {

// The identity of a build directory's CMake and Ninja state, as opaque bytes.
using BuildIdentity = std::string;

// REQUIRES: build_dir is absolute. Missing files count (as "absent"), so their appearing
// changes the identity.
BuildIdentity build_identity(const std::filesystem::path& build_dir, const std::string& config);

class ModelCache {
 public:
  // Opens (creating) BUILD/.forge/cmake.
  static Result<ModelCache> open(const std::filesystem::path& build_dir);

  // The model stored for `options` if it was stored under `identity`; nullopt otherwise.
  Result<std::optional<Model>> lookup(const LoadOptions& options,
                                      const BuildIdentity& identity) const;
  // Stores `model` for `options` under `identity` (replacing what was there).
  Result<void> store(const LoadOptions& options, const BuildIdentity& identity, const Model& model);

 private:
  ModelCache(store::Environment env, store::Database models)
      : m_env(std::move(env)), m_models(models) {}
  store::Environment m_env;
  store::Database m_models;
};

}  // namespace forge::cmake
