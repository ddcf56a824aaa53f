#include "forge/cmake/model_json.h"

#include <gtest/gtest.h>

namespace forge::cmake {
namespace {

Model small_model() {
  Model model;
  model.source_dir = "/s";
  model.build_dir = "/s/build";
  model.targets.push_back(Target{.name = "a", .type = "EXECUTABLE", .artifacts = {"/s/build/a"}});
  model.targets.push_back(Target{.name = "b", .type = "STATIC_LIBRARY", .dependencies = {}});
  model.targets[0].dependencies = {1};
  model.tests.push_back(Test{.name = "a.test(1)+", .target = 0});
  model.tests.push_back(Test{.name = "plain"});
  return model;
}

TEST(CmakeModelJsonTest, TestRegexEscapesMetacharacters) {
  const Model model = small_model();
  Affected affected;
  EXPECT_EQ(test_regex(model, affected), "");
  affected.tests = {0, 1};
  EXPECT_EQ(test_regex(model, affected), "^(a\\.test\\(1\\)\\+|plain)$");
}

TEST(CmakeModelJsonTest, PathsAreShownRelativeToTheSourceOrBuildDir) {
  const Model model = small_model();
  EXPECT_EQ(display_path(model, "/s/src/a.cc"), "src/a.cc");
  EXPECT_EQ(display_path(model, "/s/build/gen.cc"), "$B/gen.cc");
  EXPECT_EQ(display_path(model, "/usr/include/x.h"), "/usr/include/x.h");
}

TEST(CmakeModelJsonTest, AffectedJsonListsDirectTransitiveAndAll) {
  const Model model = small_model();
  Affected affected;
  affected.changed = {"/s/b.cc"};
  affected.direct = {1};
  affected.transitive = {0};
  affected.tests = {0};
  const auto json = affected_to_json(model, affected);
  EXPECT_EQ(json["changed"], nlohmann::json::array({"b.cc"}));
  EXPECT_EQ(json["directly_affected"], nlohmann::json::array({"b"}));
  EXPECT_EQ(json["transitively_affected"], nlohmann::json::array({"a"}));
  EXPECT_EQ(json["affected"], nlohmann::json::array({"a", "b"}));
  EXPECT_EQ(json["tests"], nlohmann::json::array({"a.test(1)+"}));
  EXPECT_FALSE(json["reconfigure_needed"]);
}

TEST(CmakeModelJsonTest, TargetsJsonCarriesFingerprintsDependenciesAndTests) {
  const Model model = small_model();
  const auto prints = compute_fingerprints(model);
  const auto json = model_to_json(model, prints);
  ASSERT_EQ(json["targets"].size(), 2u);
  EXPECT_EQ(json["targets"][0]["dependencies"], nlohmann::json::array({"b"}));
  EXPECT_EQ(json["targets"][0]["transitive_dependencies"], nlohmann::json::array({"b"}));
  EXPECT_EQ(json["targets"][0]["artifacts"], nlohmann::json::array({"$B/a"}));
  EXPECT_EQ(json["targets"][0]["tests"], nlohmann::json::array({"a.test(1)+"}));
  EXPECT_EQ(json["targets"][0]["fingerprint"], prints.fingerprint[0].hex());
  EXPECT_EQ(json["tests"][1]["target"], nullptr);
}

}  // namespace
}  // namespace forge::cmake
