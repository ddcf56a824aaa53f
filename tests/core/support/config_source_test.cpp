#include "forge/core/support/config_source.h"

#include <map>

#include <gtest/gtest.h>

#include "forge/core/support/paths.h"
#include "forge/test/temp_dir.h"

namespace forge::support {
namespace {

// A process environment of our own, so tests never touch the real one.
struct Environment {
  std::map<std::string, std::string> variables;
  ConfigInputs inputs() const {
    ConfigInputs in;
    in.getenv = [this](const char* name) -> const char* {
      const auto it = variables.find(name);
      return it == variables.end() ? nullptr : it->second.c_str();
    };
    return in;
  }
};

TEST(ConfigSourceTest, LocationIsFlagThenForgeConfigThenXdgThenHome) {
  Environment env{{{"HOME", "/home/u"}}};
  EXPECT_EQ(locate_config_file(env.inputs()).path, "/home/u/.config/forge/config.json");
  EXPECT_FALSE(locate_config_file(env.inputs()).required);
  env.variables["XDG_CONFIG_HOME"] = "/xdg";
  EXPECT_EQ(locate_config_file(env.inputs()).path, "/xdg/forge/config.json");
  env.variables["FORGE_CONFIG"] = "/etc/forge.json";
  EXPECT_EQ(locate_config_file(env.inputs()).path, "/etc/forge.json");
  EXPECT_TRUE(locate_config_file(env.inputs()).required);
  auto inputs = env.inputs();
  inputs.config_file = "/flag.json";
  EXPECT_EQ(locate_config_file(inputs).path, "/flag.json");
  EXPECT_EQ(locate_config_file(inputs).named_by, "--config");
  EXPECT_TRUE(locate_config_file(Environment{}.inputs()).path.empty());
}

TEST(ConfigSourceTest, AbsentDefaultFileGivesDefaultsAndAbsentNamedFileIsAnError) {
  test::TempDir dir;
  Environment env{{{"XDG_CONFIG_HOME", dir.path().string()}}};
  auto loaded = load_effective_config(env.inputs());
  ASSERT_TRUE(loaded) << loaded.error().to_string();
  EXPECT_FALSE(loaded->file_loaded);
  EXPECT_EQ(loaded->config.logging.level, "warn");
  EXPECT_EQ(loaded->origins.at("logging.level").layer, ConfigLayer::defaults);
  // The default store is resolved, so every command and `config show` name the same one.
  EXPECT_EQ(loaded->config.store_dir, forge_cache_home());
  env.variables["FORGE_CONFIG"] = (dir / "absent.json").string();
  auto missing = load_effective_config(env.inputs());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().to_string().find("absent.json"), std::string::npos);
}

TEST(ConfigSourceTest, DefaultsThenFileThenEnvironmentThenFlags) {
  test::TempDir dir;
  dir.write_file("forge/config.json",
                 R"({"logging": {"level": "info", "format": "json"}, "io": {"backend": "uring"},
                     "store_dir": ")" +
                     (dir / "store").string() + "\"}");
  Environment env{{{"XDG_CONFIG_HOME", dir.path().string()}}};
  auto from_file = load_effective_config(env.inputs());
  ASSERT_TRUE(from_file) << from_file.error().to_string();
  EXPECT_TRUE(from_file->file_loaded);
  EXPECT_EQ(from_file->config.logging.level, "info");
  EXPECT_EQ(from_file->config.io.backend, "uring");
  EXPECT_EQ(from_file->config.store_dir, dir / "store");
  EXPECT_EQ(from_file->origins.at("logging.level").layer, ConfigLayer::file);
  EXPECT_EQ(from_file->origins.at("io.max_file_handles").layer, ConfigLayer::defaults);

  env.variables["FORGE_LOG"] = "debug";
  env.variables["FORGE_IO_BACKEND"] = "fallback";
  auto from_env = load_effective_config(env.inputs());
  ASSERT_TRUE(from_env) << from_env.error().to_string();
  EXPECT_EQ(from_env->config.logging.level, "debug");
  EXPECT_EQ(from_env->config.io.backend, "fallback");
  EXPECT_EQ(from_env->origins.at("logging.level").layer, ConfigLayer::environment);
  EXPECT_EQ(from_env->origins.at("logging.level").detail, "FORGE_LOG");
  EXPECT_EQ(from_env->config.logging.format, LogFormat::json);  // the file's, untouched

  auto inputs = env.inputs();
  inputs.flags = {{"logging.level=\"error\"", "--log-level"}, {"io.max_file_handles=64", "--set"}};
  auto from_flags = load_effective_config(inputs);
  ASSERT_TRUE(from_flags) << from_flags.error().to_string();
  EXPECT_EQ(from_flags->config.logging.level, "error");
  EXPECT_EQ(from_flags->config.io.max_file_handles, 64u);
  EXPECT_EQ(from_flags->origins.at("logging.level").detail, "--log-level");
  EXPECT_EQ(from_flags->origins.at("io.max_file_handles").layer, ConfigLayer::flag);
  EXPECT_EQ(from_flags->config.io.backend, "fallback");  // the environment's, untouched
}

TEST(ConfigSourceTest, InvalidValuesNameTheLayerThatSetThem) {
  test::TempDir dir;
  const auto file = dir.write_file("forge.json", R"({"io": {"max_file_handles": 0}})");
  Environment env{{{"FORGE_CONFIG", file.string()}, {"FORGE_LOG", "loud"}}};
  auto inputs = env.inputs();
  inputs.flags = {{"io.backend=kqueue", "--set"}};
  auto loaded = load_effective_config(inputs);
  ASSERT_FALSE(loaded);
  const std::string message = loaded.error().message();
  EXPECT_NE(message.find("3 invalid"), std::string::npos) << message;
  EXPECT_NE(message.find("set in " + file.string()), std::string::npos) << message;
  EXPECT_NE(message.find("set by $FORGE_LOG"), std::string::npos) << message;
  EXPECT_NE(message.find("set by --set"), std::string::npos) << message;
}

TEST(ConfigSourceTest, MalformedFileIsAnErrorNamingIt) {
  test::TempDir dir;
  const auto file = dir.write_file("forge.json", "{\"io\": ");
  Environment env{{{"FORGE_CONFIG", file.string()}}};
  auto loaded = load_effective_config(env.inputs());
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message().find(file.string() + ":1:"), std::string::npos)
      << loaded.error().message();
}

}  // namespace
}  // namespace forge::support
