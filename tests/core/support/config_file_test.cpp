// Reading config files and --set overrides from hostile input (issue 16, item 18): every
// input gives a document or an error, never a crash, a hang or an unbounded error message.
#include "forge/core/support/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <string>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "forge/core/support/config_loader.h"
#include "forge/test/temp_dir.h"

namespace forge::support {
namespace {

using nlohmann::json;

// Nothing an error or an issue quotes may grow with the input.
constexpr std::size_t k_issue_text_limit = 1024;
constexpr std::size_t k_error_text_limit = 16 * 1024;

void expect_bounded(const std::vector<ConfigIssue>& issues) {
  for (const auto& issue : issues) {
    EXPECT_LE(issue.field.size(), k_issue_text_limit);
    EXPECT_LE(issue.problem.size(), k_issue_text_limit);
    EXPECT_LE(issue.expected.size(), k_issue_text_limit);
    EXPECT_LE(issue.suggestion.size(), k_issue_text_limit);
  }
}

TEST(ConfigFileTest, NumberTooLargeForADoubleIsAnErrorNotAnException) {
  test::TempDir dir;
  const auto file = dir.write_file("forge.json", R"({"io": {"max_file_handles": 1e400}})");
  auto loaded = read_config_file(file);  // threw nlohmann's out_of_range before the fix
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().category(), ErrorCategory::configuration);
  EXPECT_NE(loaded.error().message().find("too large"), std::string::npos)
      << loaded.error().message();
  json document = json::object();
  ASSERT_TRUE(apply_override(document, "io.max_file_handles=1e400"));  // taken as a string
  EXPECT_FALSE(check_config(document).empty());
}

TEST(ConfigFileTest, DeeplyNestedValueIsRefusedBeforeAnythingRecursesIntoIt) {
  test::TempDir dir;
  const std::size_t depth = 100'000;
  const std::string nested = std::string(depth, '[') + std::string(depth, ']');
  const auto file = dir.write_file("forge.json", R"({"project_root": )" + nested + "}");
  auto loaded = read_config_file(file);  // the error message overflowed the stack before
  if (loaded) {
    expect_bounded(check_config(*loaded));
    FAIL() << "a 100,000-deep document was accepted";
  }
  EXPECT_NE(loaded.error().message().find("nested"), std::string::npos) << loaded.error().message();
  EXPECT_NE(loaded.error().message().find(":1:"), std::string::npos);  // where it happens
  json document = json::object();
  ASSERT_TRUE(apply_override(document, "io.max_file_handles=" + nested));
  expect_bounded(check_config(document));
}

TEST(ConfigFileTest, SpecialFilesAreRefusedWithoutReadingThem) {
  test::TempDir dir;
  const auto fifo = dir / "fifo.json";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  for (const std::filesystem::path& path : {std::filesystem::path("/dev/zero"), fifo, dir.path()}) {
    auto loaded = read_config_file(path);  // /dev/zero grew without bound, a FIFO blocked
    ASSERT_FALSE(loaded) << path;
    EXPECT_NE(loaded.error().message().find("not a regular file"), std::string::npos)
        << loaded.error().message();
  }
}

TEST(ConfigFileTest, OversizedFileIsRefusedAndNotQuoted) {
  test::TempDir dir;
  const std::string value(k_max_config_file_size, 'x');
  const auto file = dir.write_file("forge.json", R"({"io": {"backend": ")" + value + "\"}}");
  auto loaded = read_config_file(file);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message().find("larger than"), std::string::npos);
  EXPECT_LE(loaded.error().to_string().size(), k_error_text_limit);
}

TEST(ConfigFileTest, HugeValuesAreQuotedTruncated) {
  const std::string value(8 << 20, 'x');
  json document{{"io", {{"backend", value}, {"max_file_handles", value}}},
                {"server", {{"http_listen", {value}}}},
                {value, 1}};
  const auto issues = check_config(document);  // quoted all 8 MB, three times, before the fix
  EXPECT_EQ(issues.size(), 4u);
  expect_bounded(issues);
  auto config = config_from_json(document);
  ASSERT_FALSE(config);
  EXPECT_LE(config.error().to_string().size(), k_error_text_limit);
}

TEST(ConfigFileTest, NulInsideAPathIsRejected) {
  test::TempDir dir;
  for (const char* key : {"project_root", "store_dir"}) {
    json document{{key, dir.path().string() + std::string("\0/elsewhere", 11)}};
    const auto issues = check_config(document);  // project_root was accepted before the fix
    ASSERT_EQ(issues.size(), 1u) << key;
    EXPECT_EQ(issues[0].field, key);
    EXPECT_NE(issues[0].problem.find("NUL"), std::string::npos) << issues[0].problem;
  }
  json listen{{"server", {{"http_listen", std::string("127.0.0.1:80\0x", 14)}}}};
  const auto issues = check_config(listen);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_NE(issues[0].problem.find("NUL"), std::string::npos) << issues[0].problem;
}

TEST(ConfigFileTest, InvalidUtf8InAnOverrideIsQuotedSafely) {
  json document = json::object();
  ASSERT_TRUE(apply_override(document, "io.backend=\xff\xfe"));
  const auto issues = check_config(document);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].field, "io.backend");
}

TEST(ConfigFileTest, OverrideIntoANonObjectReplacesIt) {
  json document{{"io", 5}};
  ASSERT_TRUE(apply_override(document, "io.max_file_handles=8"));
  EXPECT_EQ(document["io"]["max_file_handles"], 8);
}

// Texts built from the pieces that broke the parser, mixed with random bytes.
rc::Gen<std::string> hostile_text() {
  const auto pieces = rc::gen::element<std::string>(
      "{", "}", "[", "]", ",", ":", "\"", "\\", "\\u0000", "1e400", "-1e400", "1e-400",
      "18446744073709551616", "-9223372036854775809", "0.5", "true", "null", "\"io\"",
      "\"project_root\"", "\"max_file_handles\"", "\"server\"", "\"http_listen\"", "\"logging\"",
      "\"unix:/\"", std::string(3000, '['), std::string(1, '\0'), "\xff", " ", "\n");
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(
                          rc::gen::oneOf(pieces, rc::gen::string<std::string>())),
                      [](const std::vector<std::string>& parts) {
                        std::string text;
                        for (const auto& part : parts) text += part;
                        return text;
                      });
}

// Feature: platform-native-io-hardening, Property 15: Configuration Validation Completeness
// (hostile input): any text is a document or an error; neither crashes nor grows unbounded.
RC_GTEST_PROP(ConfigFileProperty, Property15_AnyTextGivesADocumentOrABoundedError, ()) {
  const std::string text = *rc::gen::oneOf(
      hostile_text(),
      rc::gen::map(hostile_text(), [](std::string t) { return "{\"io\": {\"backend\": " + t; }));
  auto parsed = parse_config_text(text, "fuzz.json");
  if (!parsed) {
    RC_ASSERT(parsed.error().to_string().size() <= k_error_text_limit);
    return;
  }
  const auto issues = check_config(*parsed);
  for (const auto& issue : issues) {
    RC_ASSERT(issue.field.size() <= k_issue_text_limit);
    RC_ASSERT(issue.problem.size() <= k_issue_text_limit);
  }
  auto config = config_from_json(*parsed);
  RC_ASSERT(config.has_value() == issues.empty());
  if (!config) RC_ASSERT(config.error().to_string().size() <= k_error_text_limit);
  json document = json::object();
  if (apply_override(document, "io.max_file_handles=" + text)) {
    for (const auto& issue : check_config(document)) {
      RC_ASSERT(issue.problem.size() <= k_issue_text_limit);
    }
  }
}

}  // namespace
}  // namespace forge::support
