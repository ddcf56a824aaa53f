#include "forge/cmake/reconfigure.h"

#include <fstream>

#include <gtest/gtest.h>

#include "demo_project.h"
#include "forge/test/temp_dir.h"

namespace forge::cmake {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> names(const Model& model, const std::vector<std::size_t>& indices) {
  std::vector<std::string> out;
  for (auto i : indices) out.push_back(model.targets[i].name);
  return out;
}

class ReconfigureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_demo_project(m_source);
    std::string log;
    ASSERT_EQ(test::configure(m_source, m_build, &log), 0) << log;
    ASSERT_EQ(test::build(m_build, &log), 0) << log;
  }
  Reconfigured reconfigure_after(const std::string& file, const std::string& append) {
    auto before = load_model({.build_dir = m_build, .tests = false});
    EXPECT_TRUE(before) << before.error().to_string();
    std::ofstream(m_source / file, std::ios::app) << append;
    auto after = reconfigure_and_compare(*before, {.build_dir = m_build, .tests = false});
    EXPECT_TRUE(after) << after.error().to_string();
    return after ? std::move(*after) : Reconfigured{};
  }

  test::TempDir m_dir;
  fs::path m_source = fs::canonical(m_dir.path()) / "src";
  fs::path m_build = fs::canonical(m_dir.path()) / "build";
};

TEST_F(ReconfigureTest, ADefineAddedInCMakeListsChangesOnlyThatTarget) {
  auto after =
      reconfigure_after("CMakeLists.txt", "target_compile_definitions(util PRIVATE X=1)\n");
  EXPECT_EQ(names(after.model, after.changed), (std::vector<std::string>{"util"}));
}

TEST_F(ReconfigureTest, AConfigureFileTemplateChangesTheTargetsIncludingItsOutput) {
  auto after = reconfigure_after("version.h.in", "#define EXTRA 1\n");
  EXPECT_EQ(names(after.model, after.changed), (std::vector<std::string>{"core"}));
}

TEST_F(ReconfigureTest, ACommentInCMakeListsChangesNothing) {
  auto after = reconfigure_after("CMakeLists.txt", "# nothing\n");
  EXPECT_TRUE(after.changed.empty());
}

TEST_F(ReconfigureTest, ACMakeErrorIsAConfigurationError) {
  auto before = load_model({.build_dir = m_build, .tests = false});
  ASSERT_TRUE(before);
  std::ofstream(m_source / "CMakeLists.txt", std::ios::app) << "message(FATAL_ERROR \"boom\")\n";
  auto after = reconfigure_and_compare(*before, {.build_dir = m_build, .tests = false});
  ASSERT_FALSE(after);
  EXPECT_EQ(after.error().category(), ErrorCategory::configuration);
}

}  // namespace
}  // namespace forge::cmake
