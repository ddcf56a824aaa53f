#pragma once
// The effective configuration of one run: where the config file is, and which layer each
// setting comes from. Every command reads its settings from here.
//
// The config file is, in order of precedence:
//   1. `--config FILE` (a global option of `forge`),
//   2. $FORGE_CONFIG,
//   3. $XDG_CONFIG_HOME/forge/config.json, else $HOME/.config/forge/config.json.
// A file named by 1 or 2 must exist; the default location (3) may be absent.
//
// Settings are layered defaults < file < environment < flags: the environment variables in
// k_environment_keys (FORGE_LOG, FORGE_IO_BACKEND) override the file, and flags (`--set
// KEY=VALUE` and the options a command maps onto keys, such as `--log-level`) override both.
// The merged document is validated once (config_loader.h); an error names each invalid
// field and the layer it came from.
//
// An empty store_dir is resolved here to forge_cache_home() (paths.h), so every command
// and `forge config show` see the directory actually used; logging.level defaults to warn
// (a command is quiet unless asked).
// Errors: Result. Thread-compatible; reads the environment through ConfigInputs::getenv.

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "forge/core/support/config.h"
#include "forge/core/support/error.h"

namespace forge::support {

enum class ConfigLayer { defaults, file, environment, flag };
std::string_view to_string(ConfigLayer layer);

// Where one setting's value came from: the layer and what in it ("FORGE_LOG", "--set",
// the file's path).
struct ConfigOrigin {
  ConfigLayer layer = ConfigLayer::defaults;
  std::string detail;
};

// The environment variables that set a key, and the key each sets.
struct EnvironmentKey {
  std::string_view variable;
  std::string_view key;
};
inline constexpr EnvironmentKey k_environment_keys[] = {
    {"FORGE_LOG", "logging.level"},
    {"FORGE_IO_BACKEND", "io.backend"},
};

// A flag-layer assignment: "dotted.key=value" and the flag that made it ("--set",
// "--log-level").
struct FlagSetting {
  std::string assignment;
  std::string flag;
};

struct ConfigInputs {
  std::optional<std::filesystem::path> config_file;  // --config FILE
  std::vector<FlagSetting> flags;                    // applied in order; the last wins
  // The environment; tests pass their own.
  std::function<const char*(const char*)> getenv = [](const char* name) {
    return std::getenv(name);
  };
};

struct ConfigFileLocation {
  std::filesystem::path path;  // empty: no location (neither XDG_CONFIG_HOME nor HOME)
  std::string named_by;        // "--config", "FORGE_CONFIG", "XDG_CONFIG_HOME", "HOME"
  bool required = false;       // named explicitly: a missing file is an error
};

struct EffectiveConfig {
  ForgeConfig config;
  ConfigFileLocation file;
  bool file_loaded = false;
  std::map<std::string, ConfigOrigin> origins;  // every key (config_keys()) -> its origin
};

ConfigFileLocation locate_config_file(const ConfigInputs& inputs);

// Layers the defaults, the file, the environment and the flags. Fails with the file's own
// error (unreadable, malformed) or a Validation error listing the invalid fields, each
// with the layer that set it.
Result<EffectiveConfig> load_effective_config(const ConfigInputs& inputs);

}  // namespace forge::support
