#include "forge/ninja/settle_request.h"

#include <gtest/gtest.h>

#include "tiny_project.h"

namespace forge::ninja {
namespace {

class SettleRequestTest : public test::TinyNinjaProject {};

TEST_F(SettleRequestTest, BadParamsAreValidationErrors) {
  for (const nlohmann::json& params :
       {nlohmann::json::object(), nlohmann::json{{"dir", 3}}, nlohmann::json{{"dir", "rel"}},
        nlohmann::json{{"dir", (m_dir / "absent").string()}},
        nlohmann::json{{"dir", m_dir.path().string()}, {"dry_run", 1}}}) {
    auto answer = answer_settle_request(params);
    ASSERT_FALSE(answer) << params.dump();
    EXPECT_EQ(answer.error().category(), ErrorCategory::validation) << params.dump();
  }
}

TEST_F(SettleRequestTest, AnUnrecordedBuildHasEveryEdgeCleanAndTheReportSaysSo) {
  auto answer = answer_settle_request({{"dir", m_dir.path().string()}, {"dry_run", true}});
  ASSERT_TRUE(answer) << answer.error().to_string();
  EXPECT_EQ((*answer)["edges"], 3);
  EXPECT_EQ((*answer)["dirty"], 0);
  EXPECT_EQ((*answer)["dry_run"], true);
  m_dir.write_file("a.txt", "edited\n");
  answer = answer_settle_request({{"dir", m_dir.path().string()}});
  ASSERT_TRUE(answer) << answer.error().to_string();
  EXPECT_EQ((*answer)["dirty"], 2);  // a.out and all.out
  ASSERT_EQ((*answer)["details"].size(), 2u);
  EXPECT_EQ((*answer)["details"][0]["output"], "a.out");
  EXPECT_EQ((*answer)["details"][0]["verdict"], "run");
}

}  // namespace
}  // namespace forge::ninja
