#include "forge/cmake/codemodel.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "demo_project.h"
#include "forge/test/temp_dir.h"

namespace forge::cmake {
namespace {

namespace fs = std::filesystem;

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

class CodemodelTest : public ::testing::Test {
 protected:
  Model load(const std::string& generator = "Ninja", const std::string& config = "") {
    test::write_demo_project(m_source);
    std::string log;
    EXPECT_EQ(test::configure(m_source, m_build, &log, generator), 0) << log;
    auto reply = read_reply(m_build);
    EXPECT_TRUE(reply) << reply.error().to_string();
    auto model = read_codemodel(*reply, config);
    EXPECT_TRUE(model) << model.error().to_string();
    EXPECT_TRUE(read_cmake_files(*reply, *model));
    EXPECT_TRUE(read_toolchains(*reply, *model));
    return *model;
  }
  const Target& target(const Model& model, const std::string& name) {
    auto index = model.find_target(name);
    EXPECT_TRUE(index) << name;
    return model.targets.at(index.value_or(0));
  }

  test::TempDir m_dir;
  fs::path m_source = fs::canonical(m_dir.path()) / "src";
  fs::path m_build = fs::canonical(m_dir.path()) / "build";
};

TEST_F(CodemodelTest, TargetsTypesSourcesAndArtifacts) {
  const Model model = load();
  EXPECT_EQ(model.source_dir, m_source.string());
  EXPECT_EQ(model.build_dir, m_build.string());
  std::vector<std::string> names;
  for (const auto& t : model.targets) names.push_back(t.name);
  // INTERFACE libraries without sources take no part in the build: not in the codemodel.
  EXPECT_EQ(names, (std::vector<std::string>{"app", "core", "objs", "solo", "util"}));
  EXPECT_EQ(target(model, "objs").type, "OBJECT_LIBRARY");
  EXPECT_EQ(target(model, "core").type, "STATIC_LIBRARY");
  EXPECT_EQ(target(model, "app").type, "EXECUTABLE");
  EXPECT_EQ(target(model, "app").artifacts, (std::vector<std::string>{(m_build / "app").string()}));
  EXPECT_EQ(
      target(model, "objs").artifacts,
      (std::vector<std::string>{(m_build / "CMakeFiles/objs.dir/core/src/obj.cc.o").string()}));
  const auto& core = target(model, "core");
  std::vector<std::string> sources;
  for (const auto& s : core.sources) sources.push_back(s.path);
  EXPECT_TRUE(contains(sources, (m_source / "core/src/core.cc").string()));
  EXPECT_TRUE(contains(sources, (m_source / "core/src/private.h").string()));
  EXPECT_TRUE(contains(sources, target(model, "objs").artifacts[0]));  // the objects it archives
  const auto& app = target(model, "app");
  ASSERT_EQ(app.sources.size(), 3u);
  EXPECT_TRUE(app.sources[1].generated);
  EXPECT_EQ(app.sources[2].path, (m_source / "gen/gen.cc.in").string());
  EXPECT_FALSE(app.sources[2].compile_group.has_value());
}

TEST_F(CodemodelTest, CompileGroupsDependenciesAndLinkLibraries) {
  const Model model = load();
  const auto& core = target(model, "core");
  ASSERT_EQ(core.compile_groups.size(), 1u);
  const auto& group = core.compile_groups[0];
  EXPECT_EQ(group.language, "CXX");
  EXPECT_TRUE(contains(group.includes, (m_source / "core/include").string()));
  EXPECT_TRUE(contains(group.includes, (m_source / "iface/include").string()));  // INTERFACE
  EXPECT_TRUE(contains(group.includes, (m_build / "generated").string()));
  const auto& app = target(model, "app");
  std::vector<std::string> deps;
  for (auto d : app.dependencies) deps.push_back(model.targets[d].name);
  EXPECT_EQ(deps, (std::vector<std::string>{"core", "objs", "util"}));
  EXPECT_EQ(app.link_libraries, (std::vector<std::string>{(m_build / "libutil.a").string(),
                                                          (m_build / "libcore.a").string()}));
  EXPECT_TRUE(target(model, "util").link_libraries.empty());  // static: archived, not linked
}

TEST_F(CodemodelTest, CMakeInputsAndToolchains) {
  const Model model = load();
  EXPECT_TRUE(contains(model.cmake_inputs, (m_source / "CMakeLists.txt").string()));
  EXPECT_TRUE(contains(model.cmake_inputs, (m_source / "version.h.in").string()));
  for (const auto& input : model.cmake_inputs) {
    EXPECT_FALSE(input.starts_with("/usr/share/cmake")) << input;  // external: left out
  }
  ASSERT_FALSE(model.toolchains.empty());
  EXPECT_EQ(model.toolchains[0].language, "CXX");
  EXPECT_FALSE(model.toolchains[0].compiler_id.empty());
}

TEST_F(CodemodelTest, MultiConfigNeedsAConfigurationChoice) {
  test::write_demo_project(m_source);
  std::string log;
  ASSERT_EQ(test::configure(m_source, m_build, &log, "Ninja Multi-Config"), 0) << log;
  auto reply = read_reply(m_build);
  ASSERT_TRUE(reply) << reply.error().to_string();
  EXPECT_TRUE(reply->multi_config);
  auto none = read_codemodel(*reply, "");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().category(), ErrorCategory::validation);
  auto wrong = read_codemodel(*reply, "NoSuchConfig");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().category(), ErrorCategory::validation);
  auto debug = read_codemodel(*reply, "Debug");
  ASSERT_TRUE(debug) << debug.error().to_string();
  EXPECT_EQ(debug->config, "Debug");
  EXPECT_EQ(debug->targets.size(), 5u);
  auto release = read_codemodel(*reply, "Release");
  ASSERT_TRUE(release);
  auto app_debug = debug->targets[*debug->find_target("app")].artifacts;
  auto app_release = release->targets[*release->find_target("app")].artifacts;
  EXPECT_NE(app_debug, app_release);  // Debug/app vs Release/app
}

}  // namespace
}  // namespace forge::cmake
