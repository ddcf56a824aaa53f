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
// tests), value = u32 k_model_cache_version, u32 identity length, identity bytes,
// encode_model() bytes (model_codec.h). Another version, another identity or bytes that do
// not decode are a miss; the next store overwrites them.
// The query index of the same model (query_index.h), so that `affected` decodes only what
// it needs: database "indexes", same key, value framed like a model's (version, identity)
// around encode_query_index(); database "files", key = LoadOptions bytes, NUL, absolute
// path, value = encode_file_use(). store() replaces the model, the index and every file
// entry of the key in one write transaction, so a reader (one read transaction) sees one
// consistent generation. A model naming a path too long for an LMDB key gets no index.
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
#include "forge/cmake/query_index.h"
#include "forge/core/store/lmdb.h"
#include "forge/core/support/error.h"

namespace forge::cmake {

// Frames every "models" and "indexes" value. 1: models only; 2: every model comes with its
// query index (an entry of version 1 is a miss, so the next load stores both).
inline constexpr std::uint32_t k_model_cache_version = 2;
static_assert(k_model_cache_version == 2,
              "bump k_model_cache_version when the cache's databases or value framing change");

// The identity of a build directory's CMake and Ninja state, as opaque bytes.
using BuildIdentity = std::string;

// REQUIRES: build_dir is absolute. Missing files count (as "absent"), so their appearing
// changes the identity.
BuildIdentity build_identity(const std::filesystem::path& build_dir, const std::string& config);

// An open read of one cached query index: the summary, and the file entries of the same
// generation (read in the same LMDB read transaction). Must not outlive its ModelCache;
// one thread at a time.
class CachedIndex {
 public:
  const QueryIndex& index() const { return m_index; }
  QueryIndex& index() { return m_index; }
  // The uses of an absolute path (an empty FileUse when no target lists it).
  Result<FileUse> file_use(const std::string& path) const;

 private:
  friend class ModelCache;
  CachedIndex(store::ReadTxn txn, store::Database files, std::string prefix, QueryIndex index)
      : m_txn(std::move(txn)),
        m_files(files),
        m_prefix(std::move(prefix)),
        m_index(std::move(index)) {}
  store::ReadTxn m_txn;
  store::Database m_files;
  std::string m_prefix;
  QueryIndex m_index;
};

class ModelCache {
 public:
  // Opens (creating) BUILD/.forge/cmake.
  static Result<ModelCache> open(const std::filesystem::path& build_dir);

  // The model stored for `options` if it was stored under `identity`; nullopt otherwise.
  Result<std::optional<Model>> lookup(const LoadOptions& options,
                                      const BuildIdentity& identity) const;
  // The query index stored for `options` under `identity`; nullopt otherwise.
  Result<std::optional<CachedIndex>> open_index(const LoadOptions& options,
                                                const BuildIdentity& identity) const;
  // Stores `model` and its query index for `options` under `identity` (replacing what was
  // there).
  Result<void> store(const LoadOptions& options, const BuildIdentity& identity, const Model& model);

 private:
  ModelCache(store::Environment env, store::Database models, store::Database indexes,
             store::Database files)
      : m_env(std::move(env)), m_models(models), m_indexes(indexes), m_files(files) {}
  static std::optional<std::string_view> payload(std::optional<std::string_view> value,
                                                 const BuildIdentity& identity);
  store::Environment m_env;
  store::Database m_models;
  store::Database m_indexes;
  store::Database m_files;
};

}  // namespace forge::cmake
