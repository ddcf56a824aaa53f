#include "forge/cmake/header_deps.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "demo_project.h"
#include "forge/cmake/loader.h"
#include "forge/test/temp_dir.h"

namespace forge::cmake {
namespace {

namespace fs = std::filesystem;

Model two_targets() {
  Model model;
  model.source_dir = "/s";
  model.build_dir = "/b";
  model.generator = "Ninja";
  for (const char* name : {"a", "ab"}) {
    Target target;
    target.name = name;
    target.build_dir = "/b";
    target.sources.push_back(Source{.path = std::string("/s/") + name + ".cc", .compile_group = 0});
    target.compile_groups.emplace_back();
    model.targets.push_back(target);
  }
  return model;
}

TEST(NinjaDepsTextTest, EntriesGoToTheTargetOwningTheObjectDirectory) {
  Model model = two_targets();
  apply_ninja_deps(
      "CMakeFiles/ab.dir/ab.cc.o: #deps 2, deps mtime 1 (VALID)\n"
      "    /s/ab.cc\n"
      "    ../s/x.h\n"
      "\n"
      "CMakeFiles/a.dir/./a.cc.o: #deps 2, deps mtime 1 (STALE)\n"
      "    /s/a.cc\n"
      "    /s/y.h\n"
      "\n"
      "other/thing.o: #deps 1, deps mtime 1 (VALID)\n"
      "    /s/z.h\n",
      model);
  EXPECT_EQ(model.targets[0].headers, (std::vector<std::string>{"/s/a.cc", "/s/y.h"}));
  EXPECT_EQ(model.targets[1].headers, (std::vector<std::string>{"/s/ab.cc", "/s/x.h"}));
  EXPECT_TRUE(model.targets[0].headers_known);
  EXPECT_TRUE(model.targets[1].headers_known);
}

TEST(NinjaDepsTextTest, TargetWithAnUnbuiltSourceHasUnknownHeaders) {
  Model model = two_targets();
  model.targets[0].sources.push_back(Source{.path = "/s/a2.cc", .compile_group = 0});
  apply_ninja_deps("CMakeFiles/a.dir/a.cc.o: #deps 1, deps mtime 1 (VALID)\n    /s/a.cc\n", model);
  EXPECT_FALSE(model.targets[0].headers_known);
}

class HeaderDepsTest : public ::testing::Test {
 protected:
  test::TempDir m_dir;
  fs::path m_source = fs::canonical(m_dir.path()) / "src";
  fs::path m_build = fs::canonical(m_dir.path()) / "build";
};

TEST_F(HeaderDepsTest, BuiltNinjaProjectHasExactHeaders) {
  test::write_demo_project(m_source);
  std::string log;
  ASSERT_EQ(test::configure(m_source, m_build, &log), 0) << log;
  ASSERT_EQ(test::build(m_build, &log), 0) << log;
  auto model = load_model({.build_dir = m_build, .tests = false});
  ASSERT_TRUE(model) << model.error().to_string();
  EXPECT_TRUE(model->headers_exact);
  const auto& core = model->targets[*model->find_target("core")];
  for (const fs::path& header : {m_source / "core/src/private.h", m_build / "generated/version.h",
                                 m_source / "iface/include/iface/iface.h"}) {
    EXPECT_TRUE(std::binary_search(core.headers.begin(), core.headers.end(), header.string()))
        << header;
  }
  const auto& solo = model->targets[*model->find_target("solo")];
  EXPECT_FALSE(std::binary_search(solo.headers.begin(), solo.headers.end(),
                                  (m_source / "core/src/private.h").string()));
}

TEST_F(HeaderDepsTest, UnbuiltProjectFallsBackWithANote) {
  test::write_demo_project(m_source);
  std::string log;
  ASSERT_EQ(test::configure(m_source, m_build, &log), 0) << log;
  auto model = load_model({.build_dir = m_build, .tests = false});
  ASSERT_TRUE(model) << model.error().to_string();
  EXPECT_FALSE(model->headers_exact);
  EXPECT_FALSE(model->notes.empty());
}

TEST_F(HeaderDepsTest, MakefilesGeneratorIsConservativeWithANote) {
  test::write_demo_project(m_source);
  std::string log;
  ASSERT_EQ(test::configure(m_source, m_build, &log, "Unix Makefiles"), 0) << log;
  auto model = load_model({.build_dir = m_build, .tests = false});
  ASSERT_TRUE(model) << model.error().to_string();
  EXPECT_EQ(model->generator, "Unix Makefiles");
  EXPECT_FALSE(model->headers_exact);
  ASSERT_FALSE(model->notes.empty());
  EXPECT_NE(model->notes.back().find("conservative"), std::string::npos);
}

}  // namespace
}  // namespace forge::cmake
