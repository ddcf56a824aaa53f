#include "forge/cmake/affected_request.h"

#include <mutex>
#include <optional>

#include <fmt/format.h>

#include "forge/cmake/affected.h"
#include "forge/cmake/loader.h"
#include "forge/cmake/model_json.h"
#include "forge/cmake/reconfigure.h"

namespace forge::cmake {
namespace {

Error bad_param(std::string_view what) {
  return Error(ErrorCategory::validation, fmt::format("cmake.affected: {}", what))
      .with_suggestion(
          "send {\"build_dir\": \"/abs/build\", \"files\": [\"src/a.cc\"]} (README.md, "
          "\"Agent socket protocol\")");
}

Result<bool> bool_param(const nlohmann::json& params, const char* key) {
  const auto found = params.find(key);
  if (found == params.end()) return false;
  if (!found->is_boolean()) return fail(bad_param(fmt::format("\"{}\" must be a boolean", key)));
  return found->get<bool>();
}

Result<LoadOptions> load_options(const nlohmann::json& params) {
  const auto build_dir = params.find("build_dir");
  if (build_dir == params.end() || !build_dir->is_string() ||
      !build_dir->get_ref<const std::string&>().starts_with('/')) {
    return fail(bad_param("\"build_dir\" must be an absolute path"));
  }
  LoadOptions options;
  options.build_dir = build_dir->get<std::string>();
  if (const auto config = params.find("config"); config != params.end()) {
    if (!config->is_string()) return fail(bad_param("\"config\" must be a string"));
    options.config = config->get<std::string>();
  }
  FORGE_TRY(const bool no_cache, bool_param(params, "no_cache"));
  if (no_cache) options.cache = UseCache::no;
  return options;
}

Result<std::vector<std::string>> files_param(const nlohmann::json& params) {
  const auto files = params.find("files");
  if (files == params.end() || !files->is_array()) {
    return fail(bad_param("\"files\" must be an array of paths"));
  }
  std::vector<std::string> out;
  for (const auto& file : *files) {
    if (!file.is_string() || file.get_ref<const std::string&>().empty()) {
      return fail(bad_param("every file must be a non-empty path string"));
    }
    out.push_back(file.get<std::string>());
  }
  return out;
}

}  // namespace

Result<nlohmann::json> answer_affected_request(const nlohmann::json& params) {
  FORGE_TRY(const auto options, load_options(params));
  FORGE_TRY(auto files, files_param(params));
  FORGE_TRY(const bool reconfigure, bool_param(params, "reconfigure"));

  static std::mutex one_at_a_time;
  std::lock_guard lock(one_at_a_time);
  // As `forge cmake affected`: the cached query index answers without decoding the whole
  // model; a miss loads it (and fills the cache).
  std::optional<IndexedModel> indexed = IndexedModel::open(options);
  std::optional<Model> loaded;
  if (!indexed) {
    FORGE_TRY(auto full, load_model(options));
    loaded = std::move(full);
  }
  Model* model = indexed ? &indexed->model() : &*loaded;
  files = resolve_user_paths(*model, files, model->source_dir);
  Affected affected;
  if (indexed) {
    FORGE_TRY(affected, indexed->affected(files));
  } else {
    affected = compute_affected(*model, files);
  }
  const bool reconfigured = reconfigure && affected.reconfigure_needed;
  if (reconfigured) {
    if (!loaded) {
      FORGE_TRY(auto full, load_model(options));
      loaded = std::move(full);
      model = &*loaded;
    }
    FORGE_TRY(auto after, reconfigure_and_compare(*model, options));
    *model = std::move(after.model);
    affected = compute_affected(*model, files, after.changed);
    model->notes.push_back(
        "re-configured: targets whose settings or configure_file outputs "
        "changed count as directly affected");
  }
  auto out = affected_to_json(*model, affected);
  out["reconfigured"] = reconfigured;
  return out;
}

}  // namespace forge::cmake
