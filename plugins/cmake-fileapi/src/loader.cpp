#include "forge/cmake/loader.h"

#include <fmt/format.h>

#include "forge/cmake/codemodel.h"
#include "forge/cmake/ctest_tests.h"
#include "forge/cmake/file_api.h"
#include "forge/cmake/header_deps.h"
#include "forge/cmake/model_cache.h"
#include "forge/cmake/process.h"
#include "forge/core/support/log.h"

namespace forge::cmake {
namespace fs = std::filesystem;

namespace {

Result<Model> load_uncached(const fs::path& build_dir, const LoadOptions& options) {
  FORGE_TRY(auto reply, read_reply(build_dir));
  FORGE_TRY(auto model, read_codemodel(reply, options.config));
  FORGE_TRY_VOID(read_cmake_files(reply, model));
  FORGE_TRY_VOID(read_toolchains(reply, model));
  if (options.header_deps) FORGE_TRY_VOID(read_header_deps(model));
  if (options.tests) FORGE_TRY_VOID(read_tests(model, reply.ctest));
  return model;
}

fs::path absolute_build_dir(const LoadOptions& options) {
  std::error_code ec;
  fs::path build_dir = fs::absolute(options.build_dir, ec).lexically_normal();
  if (build_dir.has_filename() == false) build_dir = build_dir.parent_path();
  return build_dir;
}

}  // namespace

Result<Model> load_model(const LoadOptions& options) {
  std::error_code ec;
  const fs::path build_dir = absolute_build_dir(options);
  const bool configured =
      fs::is_directory(build_dir, ec) && fs::exists(build_dir / "CMakeCache.txt", ec);
  if (configured) FORGE_TRY_VOID(write_query(build_dir));
  if (options.cache == UseCache::no || !configured) return load_uncached(build_dir, options);
  // The identity is taken before anything is read (model_cache.h). Cache errors (a
  // read-only build dir, a damaged environment) only cost the slow path.
  const BuildIdentity identity = build_identity(build_dir, options.config);
  auto cache = ModelCache::open(build_dir);
  if (cache) {
    auto cached = cache->lookup(options, identity);
    if (cached && *cached) return std::move(**cached);
    if (!cached) support::log_error(cached.error(), spdlog::level::debug);
  } else {
    support::log_error(cache.error(), spdlog::level::debug);
  }
  FORGE_TRY(auto model, load_uncached(build_dir, options));
  if (cache && model.generator.starts_with("Ninja")) {
    if (auto stored = cache->store(options, identity, model); !stored) {
      support::log_error(stored.error(), spdlog::level::debug);
    }
  }
  return model;
}

std::optional<IndexedModel> IndexedModel::open(const LoadOptions& options) {
  if (options.cache == UseCache::no) return std::nullopt;
  std::error_code ec;
  const fs::path build_dir = absolute_build_dir(options);
  // A build dir without a query yet gets one from load_model; without a reply, no index.
  if (!fs::exists(query_file(build_dir), ec)) return std::nullopt;
  const BuildIdentity identity = build_identity(build_dir, options.config);
  auto cache = ModelCache::open(build_dir);
  if (!cache) return std::nullopt;
  auto owned = std::make_unique<ModelCache>(std::move(*cache));
  auto index = owned->open_index(options, identity);
  if (!index || !*index) return std::nullopt;
  return IndexedModel(std::move(owned), std::make_unique<CachedIndex>(std::move(**index)));
}

IndexedModel::IndexedModel(std::unique_ptr<ModelCache> cache, std::unique_ptr<CachedIndex> index)
    : m_cache(std::move(cache)), m_index(std::move(index)) {}
IndexedModel::IndexedModel(IndexedModel&&) noexcept = default;
IndexedModel& IndexedModel::operator=(IndexedModel&&) noexcept = default;
IndexedModel::~IndexedModel() = default;

Model& IndexedModel::model() {
  return m_index->index().slim;
}

Result<Affected> IndexedModel::affected(std::vector<std::string> changed) const {
  const CachedIndex& index = *m_index;
  return compute_affected(
      index.index(), [&](const std::string& path) { return index.file_use(path); },
      std::move(changed));
}

Result<void> reconfigure(const fs::path& build_dir) {
  FORGE_TRY(auto output, run_program({"cmake", build_dir.string()}, build_dir));
  if (output.exit_code != 0) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("cmake failed to re-configure {} (exit {}):\n{}{}",
                                  build_dir.string(), output.exit_code, output.out, output.err))
                    .with_file(build_dir.string())
                    .with_suggestion("fix the CMake error above, then run forge again"));
  }
  return ok();
}

}  // namespace forge::cmake
