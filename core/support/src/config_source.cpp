#include "forge/core/support/config_source.h"

#include <fmt/format.h>

#include "forge/core/support/config_file.h"
#include "forge/core/support/config_loader.h"
#include "forge/core/support/paths.h"

namespace forge::support {
namespace {

bool set_by(std::string_view key, std::string_view assigned) {
  return key == assigned || (key.starts_with(assigned) && key[assigned.size()] == '.');
}

std::string describe(const ConfigOrigin& origin) {
  switch (origin.layer) {
    case ConfigLayer::file: return fmt::format("set in {}", origin.detail);
    case ConfigLayer::environment: return fmt::format("set by ${}", origin.detail);
    case ConfigLayer::flag: return fmt::format("set by {}", origin.detail);
    default: return "the default";
  }
}

}  // namespace

std::string_view to_string(ConfigLayer layer) {
  switch (layer) {
    case ConfigLayer::file: return "file";
    case ConfigLayer::environment: return "environment";
    case ConfigLayer::flag: return "flag";
    default: return "default";
  }
}

ConfigFileLocation locate_config_file(const ConfigInputs& inputs) {
  if (inputs.config_file) return {*inputs.config_file, "--config", true};
  const auto variable = [&](const char* name) -> std::string {
    const char* value = inputs.getenv(name);
    return value == nullptr ? std::string() : std::string(value);
  };
  if (auto named = variable("FORGE_CONFIG"); !named.empty()) return {named, "FORGE_CONFIG", true};
  if (auto xdg = variable("XDG_CONFIG_HOME"); !xdg.empty()) {
    return {std::filesystem::path(xdg) / "forge" / "config.json", "XDG_CONFIG_HOME", false};
  }
#ifdef _WIN32
  if (auto appdata = variable("APPDATA"); !appdata.empty()) {
    return {std::filesystem::path(appdata) / "forge" / "config.json", "APPDATA", false};
  }
#endif
  if (auto home = variable("HOME"); !home.empty()) {
    return {std::filesystem::path(home) / ".config" / "forge" / "config.json", "HOME", false};
  }
  return {};
}

Result<EffectiveConfig> load_effective_config(const ConfigInputs& inputs) {
  EffectiveConfig effective;
  effective.file = locate_config_file(inputs);
  for (const auto& key : config_keys()) effective.origins[key] = {};

  nlohmann::json document = nlohmann::json::object();
  std::error_code ec;
  const auto& path = effective.file.path;
  if (!path.empty() && (effective.file.required || std::filesystem::exists(path, ec))) {
    FORGE_TRY(document, read_config_file(path));
    effective.file_loaded = true;
    for (auto& [key, origin] : effective.origins) {
      if (find_key(document, key) != nullptr) origin = {ConfigLayer::file, path.string()};
    }
  }
  const auto apply = [&](const std::string& assignment, ConfigOrigin origin) -> Result<void> {
    FORGE_TRY_VOID(apply_override(document, assignment));
    const std::string_view assigned = std::string_view(assignment).substr(0, assignment.find('='));
    for (auto& [key, existing] : effective.origins) {
      if (set_by(key, assigned)) existing = origin;
    }
    return ok();
  };
  for (const auto& [variable, key] : k_environment_keys) {
    const char* value = inputs.getenv(std::string(variable).c_str());
    if (value == nullptr || *value == '\0') continue;
    const auto quoted = nlohmann::json(std::string(value))
                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    FORGE_TRY_VOID(apply(fmt::format("{}={}", key, quoted),
                         {ConfigLayer::environment, std::string(variable)}));
  }
  for (const auto& flag : inputs.flags) {
    FORGE_TRY_VOID(apply(flag.assignment, {ConfigLayer::flag, flag.flag}));
  }

  if (auto issues = check_config(document); !issues.empty()) {
    for (auto& issue : issues) {
      const auto origin = effective.origins.find(issue.field.substr(0, issue.field.find('[')));
      if (origin != effective.origins.end()) issue.problem += " [" + describe(origin->second) + "]";
    }
    return fail(config_error(issues));
  }
  FORGE_TRY(effective.config, config_from_json(document));
  if (effective.config.store_dir.empty()) effective.config.store_dir = forge_cache_home();
  // A command is quiet unless asked: its default level is warn (the library's is info).
  if (effective.origins["logging.level"].layer == ConfigLayer::defaults) {
    effective.config.logging.level = "warn";
  }
  return effective;
}

}  // namespace forge::support
