#include "forge/cmake/affected.h"

#include <gtest/gtest.h>

#include "demo_project.h"
#include "forge/cmake/loader.h"
#include "forge/test/temp_dir.h"

namespace forge::cmake {
namespace {

namespace fs = std::filesystem;
using Names = std::vector<std::string>;

Names target_names(const Model& model, const std::vector<std::size_t>& indices) {
  Names out;
  for (auto i : indices) out.push_back(model.targets[i].name);
  return out;
}

Names test_names(const Model& model, const Affected& affected) {
  Names out;
  for (auto i : affected.tests) out.push_back(model.tests[i].name);
  return out;
}

class AffectedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_demo_project(m_source);
    std::string log;
    ASSERT_EQ(test::configure(m_source, m_build, &log), 0) << log;
    ASSERT_EQ(test::build(m_build, &log), 0) << log;
    auto model = load_model({.build_dir = m_build});
    ASSERT_TRUE(model) << model.error().to_string();
    m_model = std::move(*model);
  }
  Affected affected(const std::string& relative) {
    return compute_affected(m_model, {(m_source / relative).string()});
  }

  test::TempDir m_dir;
  fs::path m_source = fs::canonical(m_dir.path()) / "src";
  fs::path m_build = fs::canonical(m_dir.path()) / "build";
  Model m_model;
};

TEST_F(AffectedTest, EachKindOfChangeReachesWhatWouldRebuild) {
  // A .cc of a static library: it re-archives, the executable linking it relinks; util,
  // which only "links" core as a static library, does not re-archive.
  auto cc = affected("core/src/core.cc");
  EXPECT_EQ(target_names(m_model, cc.direct), (Names{"core"}));
  EXPECT_EQ(target_names(m_model, cc.transitive), (Names{"app"}));
  EXPECT_EQ(test_names(m_model, cc), (Names{"app_runs"}));
  EXPECT_FALSE(cc.reconfigure_needed);
  EXPECT_TRUE(cc.unmapped.empty());

  auto private_header = affected("core/src/private.h");
  EXPECT_EQ(target_names(m_model, private_header.direct), (Names{"core"}));

  // A public header is compiled into objs, core and util; the objects flow into core.
  auto public_header = affected("core/include/core/core.h");
  EXPECT_EQ(target_names(m_model, public_header.direct), (Names{"core", "objs", "util"}));
  EXPECT_EQ(target_names(m_model, public_header.transitive), (Names{"app"}));

  auto interface_header = affected("iface/include/iface/iface.h");
  EXPECT_EQ(target_names(m_model, interface_header.direct), (Names{"core", "solo"}));
  EXPECT_EQ(target_names(m_model, interface_header.transitive), (Names{"app"}));
  EXPECT_EQ(test_names(m_model, interface_header), (Names{"app_runs", "solo_runs"}));

  auto generator_input = affected("gen/gen.cc.in");
  EXPECT_EQ(target_names(m_model, generator_input.direct), (Names{"app"}));

  auto object_source = affected("core/src/obj.cc");
  EXPECT_EQ(target_names(m_model, object_source.direct), (Names{"objs"}));
  EXPECT_EQ(target_names(m_model, object_source.transitive), (Names{"app", "core"}));
}

TEST_F(AffectedTest, CMakeInputsNeedAReconfigure) {
  for (const char* input : {"CMakeLists.txt", "version.h.in"}) {
    auto result = affected(input);
    EXPECT_TRUE(result.reconfigure_needed) << input;
    ASSERT_EQ(result.cmake_inputs_changed.size(), 1u);
    EXPECT_TRUE(result.direct.empty());
  }
}

TEST_F(AffectedTest, UnusedFilesAreUnmapped) {
  auto result = affected("README.md");
  EXPECT_TRUE(result.direct.empty());
  EXPECT_TRUE(result.tests.empty());
  EXPECT_EQ(result.unmapped, (Names{(m_source / "README.md").string()}));
}

Model conservative_model() {
  Model model;
  model.source_dir = "/s";
  model.build_dir = "/b";
  Target lib;
  lib.name = "lib";
  lib.type = "STATIC_LIBRARY";
  lib.compile_groups.push_back(CompileGroup{.language = "CXX", .includes = {"/s/lib/include"}});
  lib.sources.push_back(Source{.path = "/s/lib/src/lib.cc", .compile_group = 0});
  lib.artifacts = {"/b/liblib.a"};
  Target exe;
  exe.name = "exe";
  exe.type = "EXECUTABLE";
  exe.compile_groups.emplace_back();
  exe.sources.push_back(Source{.path = "/s/exe/main.cc", .compile_group = 0});
  exe.link_libraries = {"/b/liblib.a"};
  exe.artifacts = {"/b/exe"};
  model.targets = {exe, lib};
  model.tests.push_back(Test{.name = "exe_test", .command = {"/b/exe"}, .target = 0});
  model.tests.push_back(Test{.name = "data_test",
                             .command = {"/usr/bin/python3", "--data=/s/data/cases"},
                             .working_directory = "/b"});
  return model;
}

TEST(AffectedConservativeTest, UnknownHeadersMapThroughIncludeAndSourceDirectories) {
  const Model model = conservative_model();
  auto in_include = compute_affected(model, {"/s/lib/include/lib/lib.h"});
  EXPECT_EQ(target_names(model, in_include.direct), (Names{"lib"}));
  EXPECT_EQ(target_names(model, in_include.transitive), (Names{"exe"}));
  auto beside_source = compute_affected(model, {"/s/exe/local.h"});
  EXPECT_EQ(target_names(model, beside_source.direct), (Names{"exe"}));
  auto elsewhere = compute_affected(model, {"/s/doc/x.h"});
  EXPECT_TRUE(elsewhere.direct.empty());
}

TEST(AffectedConservativeTest, TestsWhoseArgumentsNameAChangedFileRun) {
  const Model model = conservative_model();
  auto result = compute_affected(model, {"/s/data/cases/one.txt"});
  EXPECT_TRUE(result.direct.empty());
  EXPECT_EQ(test_names(model, result), (Names{"data_test"}));
}

TEST(AffectedConservativeTest, UserPathsResolveAgainstTheWorkingDirectory) {
  Model model = conservative_model();
  auto paths = resolve_user_paths(model, {"lib/x.h", "/s/./a/../b.h"}, "/s");
  EXPECT_EQ(paths, (Names{"/s/lib/x.h", "/s/b.h"}));
}

}  // namespace
}  // namespace forge::cmake
