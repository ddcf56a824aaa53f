#include "forge/agent/protocol.h"

#include <gtest/gtest.h>

namespace forge::agent {
namespace {

TEST(ProtocolTest, WellFormedRequestIsParsedWithItsIdAndParams) {
  auto request = parse_request(R"({"v":1,"id":"x7","method":"since","params":{"cursor":"c"}})");
  ASSERT_TRUE(request) << request.error().to_string();
  EXPECT_EQ(request->id, "x7");
  EXPECT_EQ(request->method, "since");
  EXPECT_EQ(request->params["cursor"], "c");
  auto no_params = parse_request(R"({"v":1,"method":"status"})");
  ASSERT_TRUE(no_params);
  EXPECT_TRUE(no_params->params.is_object());
  EXPECT_TRUE(no_params->id.is_null());
}

TEST(ProtocolTest, VersionTwoAddedTheBuildToolMethodsAndVersionOneRequestsStillParse) {
  for (const char* line : {R"({"v":1,"method":"status"})", R"({"v":2,"method":"status"})",
                           R"({"v":2,"method":"cmake.affected","params":{}})",
                           R"({"v":2,"method":"ninja.settle","params":{}})"}) {
    EXPECT_TRUE(parse_request(line)) << line;
  }
  EXPECT_EQ(k_protocol_version, 2);
  EXPECT_TRUE(is_known_method("cmake.affected"));
  EXPECT_TRUE(is_known_method("ninja.settle"));
}

TEST(ProtocolTest, ProtocolErrorsAreValidationErrorsThatKeepTheId) {
  for (const std::string& line :
       {std::string("not json"), std::string("[1,2]"), std::string(R"({"v":3,"method":"status"})"),
        std::string(R"({"v":0,"method":"status"})"), std::string(R"({"method":"status"})"),
        std::string(R"({"v":1,"method":"format_disk"})"), std::string(R"({"v":1,"method":7})"),
        std::string(R"({"v":1,"method":"get","params":3})"),
        std::string(k_max_request_line + 1, ' ')}) {
    nlohmann::json id;
    auto request = parse_request(line, &id);
    ASSERT_FALSE(request) << line.substr(0, 60);
    EXPECT_EQ(request.error().category(), ErrorCategory::validation);
  }
  nlohmann::json id;
  ASSERT_FALSE(parse_request(R"({"v":1,"id":42,"method":"nope"})", &id));
  EXPECT_EQ(id, 42);
}

TEST(ProtocolTest, ResponsesAreOneVersionedJsonLine) {
  const std::string ok = ok_response(3, {{"a", 1}});
  ASSERT_EQ(ok.back(), '\n');
  EXPECT_EQ(ok.find('\n'), ok.size() - 1);
  const auto parsed = nlohmann::json::parse(ok);
  EXPECT_EQ(parsed["v"], k_protocol_version);
  EXPECT_EQ(parsed["id"], 3);
  EXPECT_EQ(parsed["ok"], true);
  EXPECT_EQ(parsed["result"]["a"], 1);
  const auto error = nlohmann::json::parse(
      error_response("q", Error(ErrorCategory::validation, "bad\nthing").with_suggestion("fix")));
  EXPECT_EQ(error["ok"], false);
  EXPECT_EQ(error["error"]["category"], "Validation");
  EXPECT_EQ(error["error"]["hint"], "fix");
  const auto request = parse_request(request_line(9, "status"));
  ASSERT_TRUE(request);
  EXPECT_EQ(request->id, 9);
}

}  // namespace
}  // namespace forge::agent
