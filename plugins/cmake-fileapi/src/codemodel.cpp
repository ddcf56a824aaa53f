#include "forge/cmake/codemodel.h"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace forge::cmake {
namespace {

using nlohmann::json;

Error bad_object(const std::filesystem::path& file, std::string_view what) {
  return Error(ErrorCategory::validation,
               fmt::format("{}: unexpected file-API object layout ({})", file.string(), what))
      .with_file(file.string())
      .with_suggestion("re-run cmake in the build directory to rewrite the file-API reply");
}

std::string unquote(std::string text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  return text;
}

CompileGroup read_compile_group(const json& group, const std::string& source_dir) {
  CompileGroup out;
  out.language = group.value("language", "");
  for (const auto& fragment : group.value("compileCommandFragments", json::array())) {
    out.fragments.push_back(fragment.value("fragment", ""));
  }
  for (const auto& define : group.value("defines", json::array())) {
    out.defines.push_back(define.value("define", ""));
  }
  for (const auto& include : group.value("includes", json::array())) {
    auto path = normalize_path(include.value("path", ""), source_dir);
    (include.value("isSystem", false) ? out.system_includes : out.includes)
        .push_back(std::move(path));
  }
  if (group.contains("sysroot")) out.sysroot = group.at("sysroot").value("path", "");
  return out;
}

// One target object. Link fragments are resolved later, once every artifact is known.
Target read_target(const json& object, const Model& model, std::vector<std::string>& dep_ids,
                   std::vector<std::string>& link_fragments) {
  Target target;
  target.id = object.at("id").get<std::string>();
  target.name = object.at("name").get<std::string>();
  target.type = object.at("type").get<std::string>();
  const auto& paths = object.at("paths");
  target.source_dir = normalize_path(paths.value("source", "."), model.source_dir);
  target.build_dir = normalize_path(paths.value("build", "."), model.build_dir);
  for (const auto& group : object.value("compileGroups", json::array())) {
    target.compile_groups.push_back(read_compile_group(group, model.source_dir));
  }
  for (const auto& source : object.value("sources", json::array())) {
    Source out;
    out.path = normalize_path(source.at("path").get<std::string>(), model.source_dir);
    if (source.contains("compileGroupIndex")) {
      const auto index = source.at("compileGroupIndex").get<std::size_t>();
      if (index < target.compile_groups.size()) out.compile_group = index;
    }
    out.generated = source.value("isGenerated", false);
    target.sources.push_back(std::move(out));
  }
  for (const auto& artifact : object.value("artifacts", json::array())) {
    target.artifacts.push_back(normalize_path(artifact.at("path"), model.build_dir));
  }
  for (const auto& dependency : object.value("dependencies", json::array())) {
    dep_ids.push_back(dependency.at("id").get<std::string>());
  }
  if (object.contains("link")) {
    for (const auto& fragment : object.at("link").value("commandFragments", json::array())) {
      auto text = unquote(fragment.value("fragment", ""));
      if (fragment.value("role", "") == "libraries" && !text.empty() && text[0] != '-') {
        link_fragments.push_back(std::move(text));
      } else if (!text.empty()) {
        target.link_flags.push_back(std::move(text));
      }
    }
  }
  return target;
}

// Link library fragments are relative to the directory the link runs in: the top build
// directory for Ninja, the target's for Makefiles. Both are tried against known artifacts.
void resolve_link_libraries(Model& model, std::vector<std::vector<std::string>>& fragments) {
  std::unordered_map<std::string, bool> artifacts;
  for (const auto& target : model.targets) {
    for (const auto& artifact : target.artifacts) artifacts[artifact] = true;
  }
  for (std::size_t i = 0; i < model.targets.size(); ++i) {
    auto& target = model.targets[i];
    for (const auto& fragment : fragments[i]) {
      auto top = normalize_path(fragment, model.build_dir);
      auto local = normalize_path(fragment, target.build_dir);
      target.link_libraries.push_back(artifacts.contains(top) || !artifacts.contains(local)
                                          ? std::move(top)
                                          : std::move(local));
    }
  }
}

const json& pick_configuration(const json& codemodel, const std::string& config,
                               const std::filesystem::path& file, Result<void>& status) {
  const auto& configurations = codemodel.at("configurations");
  std::vector<std::string> names;
  for (const auto& entry : configurations) names.push_back(entry.value("name", ""));
  if (configurations.empty()) {
    status = fail(bad_object(file, "no configurations"));
    return codemodel;
  }
  if (config.empty() && configurations.size() == 1) return configurations.front();
  for (const auto& entry : configurations) {
    if (!config.empty() && entry.value("name", "") == config) return entry;
  }
  status = fail(
      Error(ErrorCategory::validation,
            config.empty()
                ? fmt::format("the build has configurations {}; pick one", fmt::join(names, ", "))
                : fmt::format("no configuration '{}' (the build has {})", config,
                              fmt::join(names, ", ")))
          .with_file(file.string())
          .with_suggestion(fmt::format("pass --config with one of: {}", fmt::join(names, ", "))));
  return codemodel;
}

}  // namespace

Result<Model> read_codemodel(const Reply& reply, const std::string& config) {
  const auto& object = reply.objects.at("codemodel");
  FORGE_TRY(auto codemodel, read_json_file(object.file));
  Model model;
  model.generator = reply.generator;
  model.multi_config = reply.multi_config;
  model.cmake_version = reply.cmake_version;
  model.notes = reply.notes;
  const std::string build_dir = reply.build_dir.string();
  try {
    model.source_dir = normalize_path(codemodel.at("paths").at("source"), build_dir);
    model.build_dir = normalize_path(codemodel.at("paths").at("build"), build_dir);
    Result<void> status;
    const json& configuration = pick_configuration(codemodel, config, object.file, status);
    if (!status) return fail(std::move(status).error());
    model.config = configuration.value("name", "");
    std::vector<std::vector<std::string>> dep_ids;
    std::vector<std::vector<std::string>> fragments;
    for (const auto& entry : configuration.at("targets")) {
      const auto file = object.file.parent_path() / entry.at("jsonFile").get<std::string>();
      FORGE_TRY(auto target_json, read_json_file(file));
      try {
        dep_ids.emplace_back();
        fragments.emplace_back();
        model.targets.push_back(read_target(target_json, model, dep_ids.back(), fragments.back()));
      } catch (const json::exception& error) {
        return fail(bad_object(file, error.what()));
      }
    }
    // Sort by name; carry the per-target side tables along.
    std::vector<std::size_t> order(model.targets.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return model.targets[a].name < model.targets[b].name;
    });
    std::vector<Target> sorted;
    std::vector<std::vector<std::string>> sorted_ids, sorted_fragments;
    for (std::size_t i : order) {
      sorted.push_back(std::move(model.targets[i]));
      sorted_ids.push_back(std::move(dep_ids[i]));
      sorted_fragments.push_back(std::move(fragments[i]));
    }
    model.targets = std::move(sorted);
    std::unordered_map<std::string, std::size_t> by_id;
    for (std::size_t i = 0; i < model.targets.size(); ++i) by_id[model.targets[i].id] = i;
    for (std::size_t i = 0; i < model.targets.size(); ++i) {
      for (const auto& id : sorted_ids[i]) {
        if (auto found = by_id.find(id); found != by_id.end()) {
          model.targets[i].dependencies.push_back(found->second);
        }
      }
      std::sort(model.targets[i].dependencies.begin(), model.targets[i].dependencies.end());
    }
    resolve_link_libraries(model, sorted_fragments);
  } catch (const json::exception& error) {
    return fail(bad_object(object.file, error.what()));
  }
  return model;
}

Result<void> read_cmake_files(const Reply& reply, Model& model) {
  const auto found = reply.objects.find("cmakeFiles");
  if (found == reply.objects.end()) {
    model.notes.push_back(
        "no cmakeFiles v1 in the reply: changes to CMake inputs "
        "(CMakeLists.txt, *.cmake) are not detected");
    return ok();
  }
  FORGE_TRY(auto object, read_json_file(found->second.file));
  try {
    for (const auto& input : object.at("inputs")) {
      if (input.value("isGenerated", false) || input.value("isExternal", false)) continue;
      model.cmake_inputs.push_back(normalize_path(input.at("path"), model.source_dir));
    }
  } catch (const json::exception& error) {
    return fail(bad_object(found->second.file, error.what()));
  }
  std::sort(model.cmake_inputs.begin(), model.cmake_inputs.end());
  return ok();
}

Result<void> read_toolchains(const Reply& reply, Model& model) {
  const auto found = reply.objects.find("toolchains");
  if (found == reply.objects.end()) {
    model.notes.push_back(
        "no toolchains v1 in the reply (CMake < 3.20): fingerprints do not "
        "include the compiler identity");
    return ok();
  }
  FORGE_TRY(auto object, read_json_file(found->second.file));
  try {
    for (const auto& entry : object.at("toolchains")) {
      Toolchain toolchain;
      toolchain.language = entry.value("language", "");
      const auto compiler = entry.value("compiler", json::object());
      toolchain.compiler_id = compiler.value("id", "");
      toolchain.compiler_version = compiler.value("version", "");
      toolchain.compiler_path = compiler.value("path", "");
      model.toolchains.push_back(std::move(toolchain));
    }
  } catch (const json::exception& error) {
    return fail(bad_object(found->second.file, error.what()));
  }
  return ok();
}

}  // namespace forge::cmake
