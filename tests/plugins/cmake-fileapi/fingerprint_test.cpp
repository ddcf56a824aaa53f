#include "forge/cmake/fingerprint.h"

#include <fstream>

#include <gtest/gtest.h>

#include "demo_project.h"
#include "forge/cmake/loader.h"
#include "forge/test/temp_dir.h"

namespace forge::cmake {
namespace {

namespace fs = std::filesystem;

class FingerprintTest : public ::testing::Test {
 protected:
  Model load(const fs::path& build) {
    auto model = load_model({.build_dir = build, .tests = false});
    EXPECT_TRUE(model) << model.error().to_string();
    return model ? *model : Model{};
  }
  hash::Digest of(const Model& model, const Fingerprints& prints, const std::string& name) {
    return prints.fingerprint.at(model.find_target(name).value_or(99));
  }

  test::TempDir m_dir;
  fs::path m_source = fs::canonical(m_dir.path()) / "src";
};

// b2 builds a second checkout of the same source: other source and build paths.
TEST_F(FingerprintTest, EqualForTwoCheckoutsAndBuildDirsDifferentAfterAnyInputChange) {
  const fs::path checkout = fs::canonical(m_dir.path()) / "another/checkout";
  test::write_demo_project(m_source);
  test::write_demo_project(checkout);
  std::string log;
  for (const auto& [source, build] : {std::pair{m_source, "b1"}, std::pair{checkout, "b2"}}) {
    ASSERT_EQ(test::configure(source, m_dir / build, &log), 0) << log;
    ASSERT_EQ(test::build(m_dir / build, &log), 0) << log;
  }
  const Model one = load(m_dir / "b1");
  const Model two = load(m_dir / "b2");
  const auto first = compute_fingerprints(one);
  const auto second = compute_fingerprints(two);
  ASSERT_EQ(first.fingerprint.size(), 5u);
  EXPECT_EQ(first.fingerprint, second.fingerprint);
  EXPECT_EQ(first.own, second.own);

  // A private header of core: core, and everything depending on core, changes; solo not.
  std::ofstream(m_source / "core/src/private.h") << "inline int private_value() { return 5; }\n";
  const auto after = compute_fingerprints(one);
  for (const char* name : {"core", "util", "app"}) {
    EXPECT_NE(of(one, first, name), of(one, after, name)) << name;
  }
  EXPECT_EQ(of(one, first, "solo"), of(one, after, "solo"));
  EXPECT_EQ(of(one, first, "objs"), of(one, after, "objs"));
  EXPECT_EQ(first.own[*one.find_target("util")], after.own[*one.find_target("util")]);
}

TEST(FingerprintModelTest, CompileFlagsAndDependencyOrderMatterOnlyWhereTheyShould) {
  Model model;
  model.source_dir = "/nonexistent-s";
  model.build_dir = "/nonexistent-b";
  model.targets.resize(2);
  model.targets[0].name = "a";
  model.targets[1].name = "b";
  model.targets[1].dependencies = {0};
  model.targets[0].compile_groups.push_back(CompileGroup{.language = "CXX", .fragments = {"-O2"}});
  const auto base = compute_fingerprints(model);
  model.targets[0].compile_groups[0].fragments = {"-O3"};
  const auto flags = compute_fingerprints(model);
  EXPECT_NE(base.own[0], flags.own[0]);
  EXPECT_EQ(base.own[1], flags.own[1]);
  EXPECT_NE(base.fingerprint[1], flags.fingerprint[1]);  // through the dependency
  // The compiler's identity counts for the targets of its language.
  model.toolchains.push_back(
      Toolchain{.language = "CXX", .compiler_id = "GNU", .compiler_version = "14.2"});
  const auto gcc14 = compute_fingerprints(model);
  model.toolchains[0].compiler_version = "14.3";
  EXPECT_NE(compute_fingerprints(model).own[0], gcc14.own[0]);
  EXPECT_EQ(compute_fingerprints(model).own[1], gcc14.own[1]);  // b compiles nothing
  model.toolchains.clear();
  // Build-dir paths in flags are written as $B: another build dir gives the same digest.
  model.targets[0].compile_groups[0].fragments = {"-I/nonexistent-b/gen"};
  const auto here = compute_fingerprints(model);
  model.build_dir = "/other-b";
  model.targets[0].compile_groups[0].fragments = {"-I/other-b/gen"};
  EXPECT_EQ(here.own[0], compute_fingerprints(model).own[0]);
}

TEST(FingerprintModelTest, DependencyCycleTerminates) {
  Model model;
  model.targets.resize(2);
  model.targets[0].name = "a";
  model.targets[1].name = "b";
  model.targets[0].dependencies = {1};
  model.targets[1].dependencies = {0};
  const auto prints = compute_fingerprints(model);
  EXPECT_NE(prints.fingerprint[0], prints.fingerprint[1]);
}

}  // namespace
}  // namespace forge::cmake
