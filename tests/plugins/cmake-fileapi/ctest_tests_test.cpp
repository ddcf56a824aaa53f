#include "forge/cmake/ctest_tests.h"

#include <gtest/gtest.h>

#include "demo_project.h"
#include "forge/cmake/loader.h"
#include "forge/test/temp_dir.h"

namespace forge::cmake {
namespace {

namespace fs = std::filesystem;

TEST(CtestJsonTest, TestsMapToTargetsByTheirProgram) {
  Model model;
  model.build_dir = "/b";
  model.targets.push_back(Target{.name = "t", .artifacts = {"/b/bin/t"}});
  ASSERT_TRUE(apply_ctest_json(R"({"kind":"ctestInfo","tests":[
      {"name":"one","command":["/b/bin/t","--x"],
       "properties":[{"name":"WORKING_DIRECTORY","value":"/s/data"},
                     {"name":"LABELS","value":["fast","unit"]}]},
      {"name":"two","command":["/usr/bin/python3","/s/check.py"]},
      {"name":"three"}]})",
                               model));
  ASSERT_EQ(model.tests.size(), 3u);
  EXPECT_EQ(model.tests[0].target, 0u);
  EXPECT_EQ(model.tests[0].working_directory, "/s/data");
  EXPECT_EQ(model.tests[0].labels, (std::vector<std::string>{"fast", "unit"}));
  EXPECT_FALSE(model.tests[1].target.has_value());
  EXPECT_TRUE(model.tests[2].command.empty());
}

TEST(CtestJsonTest, OutputThatIsNotJsonIsAValidationError) {
  Model model;
  auto result = apply_ctest_json("Test project /b\nNo tests were found!!!\n", model);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().category(), ErrorCategory::validation);
}

TEST(CtestTest, RealCtestListsTheDemoTests) {
  test::TempDir dir;
  const auto source = fs::canonical(dir.path()) / "src";
  const auto build = fs::canonical(dir.path()) / "build";
  test::write_demo_project(source);
  std::string log;
  ASSERT_EQ(test::configure(source, build, &log), 0) << log;
  auto unbuilt = load_model({.build_dir = build, .header_deps = false});
  ASSERT_TRUE(unbuilt) << unbuilt.error().to_string();
  ASSERT_EQ(unbuilt->tests.size(), 2u);
  EXPECT_FALSE(unbuilt->tests[0].target.has_value());  // ctest omits unbuilt programs
  ASSERT_FALSE(unbuilt->notes.empty());
  EXPECT_NE(unbuilt->notes.back().find("not built"), std::string::npos);
  ASSERT_EQ(test::build(build, &log), 0) << log;
  auto model = load_model({.build_dir = build, .header_deps = false});
  ASSERT_TRUE(model) << model.error().to_string();
  ASSERT_EQ(model->tests.size(), 2u);
  EXPECT_EQ(model->tests[0].name, "app_runs");
  ASSERT_TRUE(model->tests[0].target);
  EXPECT_EQ(model->targets[*model->tests[0].target].name, "app");
  ASSERT_TRUE(model->tests[1].target);
  EXPECT_EQ(model->targets[*model->tests[1].target].name, "solo");
}

}  // namespace
}  // namespace forge::cmake
