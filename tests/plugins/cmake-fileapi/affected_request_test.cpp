#include "forge/cmake/affected_request.h"

#include <gtest/gtest.h>

#include "demo_project.h"
#include "forge/test/temp_dir.h"

namespace forge::cmake {
namespace {

TEST(AffectedRequestTest, BadParamsAreValidationErrors) {
  for (const nlohmann::json& params :
       {nlohmann::json::object(), nlohmann::json{{"build_dir", "relative"}, {"files", {"a"}}},
        nlohmann::json{{"build_dir", "/b"}},
        nlohmann::json{{"build_dir", "/b"}, {"files", {"a", 7}}},
        nlohmann::json{{"build_dir", "/b"}, {"files", {""}}},
        nlohmann::json{{"build_dir", "/b"}, {"files", {"a"}}, {"config", 1}},
        nlohmann::json{{"build_dir", "/b"}, {"files", {"a"}}, {"reconfigure", "yes"}}}) {
    auto answer = answer_affected_request(params);
    ASSERT_FALSE(answer) << params.dump();
    EXPECT_EQ(answer.error().category(), ErrorCategory::validation) << params.dump();
  }
}

TEST(AffectedRequestTest, AnswersForAConfiguredBuildDir) {
  test::TempDir dir;
  test::write_demo_project(dir / "src");
  std::string log;
  ASSERT_EQ(test::configure(dir / "src", dir / "build", &log), 0) << log;
  auto answer = answer_affected_request(
      {{"build_dir", (dir / "build").string()}, {"files", {"util.cc"}}, {"no_cache", true}});
  ASSERT_TRUE(answer) << answer.error().to_string();
  EXPECT_EQ((*answer)["directly_affected"], nlohmann::json::array({"util"}));
  EXPECT_NE((*answer)["transitively_affected"].dump().find("app"), std::string::npos);
  EXPECT_EQ((*answer)["reconfigured"], false);
  EXPECT_FALSE(
      answer_affected_request({{"build_dir", (dir / "absent").string()}, {"files", {"util.cc"}}}));
}

}  // namespace
}  // namespace forge::cmake
