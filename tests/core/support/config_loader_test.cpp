#include "forge/core/support/config_loader.h"

#include <algorithm>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "forge/test/temp_dir.h"

namespace forge::support {
namespace {

using nlohmann::json;

json valid_config(const test::TempDir& dir) {
  return json{
      {"project_root", dir.path().string()},
      {"store_dir", (dir / "store").string()},
      {"io", {{"max_file_handles", 256}, {"io_uring_queue_depth", 128}, {"backend", "auto"}}},
      {"logging", {{"level", "debug"}, {"format", "json"}, {"max_files", 3}}},
      {"server", {{"http_listen", "[::1]:8081"}, {"grpc_listen", "127.0.0.1:0"}}},
      {"cache", {{"max_size", "10G"}, {"upstream", "http://127.0.0.1:9/cache"}}}};
}

bool reports(const std::vector<ConfigIssue>& issues, const std::string& field) {
  return std::any_of(issues.begin(), issues.end(),
                     [&](const ConfigIssue& issue) { return issue.field == field; });
}

TEST(ConfigLoaderTest, ValidConfigHasNoIssuesAndMapsOntoForgeConfig) {
  test::TempDir dir;
  const json document = valid_config(dir);
  EXPECT_TRUE(check_config(document).empty());
  auto config = config_from_json(document);
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->io.max_file_handles, 256u);
  EXPECT_EQ(config->io.io_uring_queue_depth, 128u);
  EXPECT_EQ(config->logging.format, LogFormat::json);
  EXPECT_EQ(config->server.http_listen, std::vector<std::string>{"[::1]:8081"});
  EXPECT_EQ(config->logging.max_file_size, LoggingConfig{}.max_file_size);  // absent: default
}

TEST(ConfigLoaderTest, ShowOutputIsItselfAValidConfig) {
  ForgeConfig config;
  config.project_root = "/";
  EXPECT_TRUE(check_config(config_to_json(config)).empty());
}

TEST(ConfigLoaderTest, ServeSettingsMapOntoServerAndCache) {
  test::TempDir dir;
  json document = valid_config(dir);
  document["server"]["raw_prefix"] = "/ccache/";
  document["server"]["instances"] = "isolated";
  document["server"]["read_only"] = true;
  document["cache"] = {{"max_size", "10G"},
                       {"max_blob_size", 4096},
                       {"upstream", "s3://bucket/prefix"},
                       {"upstream_write", "through"},
                       {"s3_endpoint", "http://127.0.0.1:7480"},
                       {"s3_region", "eu-west-1"}};
  ASSERT_TRUE(check_config(document).empty()) << to_string(check_config(document).front());
  auto config = config_from_json(document);
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->server.raw_prefix, "/ccache/");
  EXPECT_EQ(config->server.instances, "isolated");
  EXPECT_TRUE(config->server.read_only);
  EXPECT_EQ(config->cache.max_size, 10ull << 30);
  EXPECT_EQ(config->cache.max_blob_size, 4096u);
  EXPECT_EQ(config->cache.upstream, "s3://bucket/prefix");
  EXPECT_EQ(config->cache.upstream_write, "through");
  EXPECT_EQ(config->cache.s3_endpoint, "http://127.0.0.1:7480");
  EXPECT_EQ(config->cache.s3_region, "eu-west-1");
  // `forge config show` prints them, and what it prints loads back to the same settings.
  const json shown = config_to_json(*config);
  EXPECT_EQ(shown["cache"]["max_size"], 10ull << 30);
  EXPECT_EQ(shown["server"]["raw_prefix"], "/ccache/");
  auto again = config_from_json(shown);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(config_to_json(*again), shown);
}

TEST(ConfigLoaderTest, AbsentCacheSettingsKeepTheStoreDefaults) {
  ForgeConfig config;
  EXPECT_FALSE(config.cache.max_size);
  EXPECT_TRUE(config.cache.upstream.empty());
  const json shown = config_to_json(config);
  EXPECT_FALSE(shown["cache"].contains("max_size"));
  EXPECT_FALSE(shown["cache"].contains("upstream"));
  EXPECT_EQ(shown["server"]["raw_prefix"], "/");
}

TEST(ConfigLoaderTest, BadServeSettingsNameTheKeyAndTheFix) {
  test::TempDir dir;
  json document = valid_config(dir);
  document["cache"]["upstream"] = "grpc://127.0.0.1:9092";
  document["cache"]["max_size"] = "10 gigs";
  document["cache"]["s3_region"] = "eu-west-1";  // an http(s) upstream has no region
  const auto issues = check_config(document);
  ASSERT_EQ(issues.size(), 3u) << to_string(issues.front());
  EXPECT_EQ(issues[0].field, "cache.max_size");
  EXPECT_NE(issues[0].suggestion.find("10G"), std::string::npos);
  EXPECT_EQ(issues[1].field, "cache.s3_region");
  EXPECT_NE(issues[1].suggestion.find("s3://"), std::string::npos);
  EXPECT_EQ(issues[2].field, "cache.upstream");
  EXPECT_NE(issues[2].problem.find("grpc://"), std::string::npos);
  EXPECT_NE(issues[2].expected.find("s3://"), std::string::npos);
  auto config = config_from_json(document);
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message().find("cache.upstream"), std::string::npos);
}

TEST(ConfigLoaderTest, UnknownKeysGetADidYouMean) {
  test::TempDir dir;
  json document = valid_config(dir);
  document["io"]["max_file_handels"] = 10;
  const auto issues = check_config(document);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].field, "io.max_file_handels");
  EXPECT_NE(issues[0].suggestion.find("max_file_handles"), std::string::npos);
}

TEST(ConfigLoaderTest, OverridesAreAppliedAndValidatedLikeTheFile) {
  test::TempDir dir;
  json document = valid_config(dir);
  ASSERT_TRUE(apply_override(document, "io.max_file_handles=128"));
  ASSERT_TRUE(apply_override(document, "io.backend=fallback"));
  auto config = config_from_json(document);
  ASSERT_TRUE(config);
  EXPECT_EQ(config->io.max_file_handles, 128u);
  EXPECT_EQ(config->io.backend, "fallback");
  ASSERT_TRUE(apply_override(document, "io.max_file_handles=0"));
  EXPECT_TRUE(reports(check_config(document), "io.max_file_handles"));
  EXPECT_FALSE(apply_override(document, "no_equals_sign"));
}

TEST(ConfigLoaderTest, MissingFileAndMalformedJsonAreConfigurationErrors) {
  test::TempDir dir;
  auto missing = read_config_file(dir / "absent.json");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ENOENT);
  EXPECT_FALSE(missing.error().suggestions().empty());
  const auto bad = dir.write_file("bad.json", "{\n  \"io\": {,}\n}");
  auto malformed = read_config_file(bad);
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().category(), ErrorCategory::configuration);
  EXPECT_NE(malformed.error().message().find(":2:"), std::string::npos);  // line 2
}

TEST(ConfigLoaderTest, ListenAddressesParse) {
  auto v4 = parse_listen_address("127.0.0.1:0");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 0);
  auto v6 = parse_listen_address("[::1]:9092");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9092);
  for (const char* bad : {"nohost", ":80", "::1:80", "[::1]80", "host:65536", "host:x"}) {
    EXPECT_FALSE(parse_listen_address(bad)) << bad;
  }
}

TEST(ConfigLoaderTest, EditDistance) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("same", "same"), 0u);
}

// Each mutation makes exactly one field invalid; `field` is where it must be reported.
struct Mutation {
  const char* field;
  void (*apply)(json&);
};

const Mutation k_mutations[] = {
    {"io.max_file_handles", [](json& d) { d["io"]["max_file_handles"] = 0; }},
    {"io.io_uring_queue_depth", [](json& d) { d["io"]["io_uring_queue_depth"] = 100; }},
    {"logging.max_file_size", [](json& d) { d["logging"]["max_file_size"] = "30M"; }},
    {"io.backend", [](json& d) { d["io"]["backend"] = "kqueue"; }},
    {"logging.format", [](json& d) { d["logging"]["format"] = "xml"; }},
    {"logging.level", [](json& d) { d["logging"]["level"] = "verbose"; }},
    {"logging.max_files", [](json& d) { d["logging"]["max_files"] = 0; }},
    {"project_root", [](json& d) { d["project_root"] = "/nonexistent/forge/root"; }},
    {"logging.file",
     [](json& d) {
       d["logging"]["file"] = "/etc/hostname/forge.log"; /* a file as a directory */
     }},
    {"server.http_listen", [](json& d) { d["server"]["http_listen"] = "nohost"; }},
    {"server.grpc_listen", [](json& d) { d["server"]["grpc_listen"] = "::1:80"; }},
    {"server.grpc_listen", [](json& d) { d["server"]["grpc_listen"] = "1.2.3.4:65536"; }},
    {"store_dir", [](json& d) { d["store_dir"] = "/etc/hostname/store"; }},
    {"io.backnd", [](json& d) { d["io"]["backnd"] = "auto"; }},
    {"server.raw_prefix", [](json& d) { d["server"]["raw_prefix"] = "ccache"; }},
    {"server.raw_prefix", [](json& d) { d["server"]["raw_prefix"] = "/a b/"; }},
    {"server.instances", [](json& d) { d["server"]["instances"] = "separate"; }},
    {"server.read_only", [](json& d) { d["server"]["read_only"] = "yes"; }},
    {"cache.max_size", [](json& d) { d["cache"]["max_size"] = "10Q"; }},
    {"cache.max_size", [](json& d) { d["cache"]["max_size"] = -1; }},
    {"cache.max_blob_size", [](json& d) { d["cache"]["max_blob_size"] = "0"; }},
    {"cache.upstream", [](json& d) { d["cache"]["upstream"] = "ftp://host/cache"; }},
    {"cache.upstream", [](json& d) { d["cache"]["upstream"] = "http://"; }},
    {"cache.upstream_write", [](json& d) { d["cache"]["upstream_write"] = "later"; }},
    {"cache.s3_endpoint", [](json& d) { d["cache"]["s3_endpoint"] = "127.0.0.1:7480"; }},
    {"cache.s3_region", [](json& d) { d["cache"]["s3_region"] = "us-east-1"; }},
    {"cache.upstreem", [](json& d) { d["cache"]["upstreem"] = "http://x"; }},
};

// Feature: platform-native-io-hardening, Property 15: Configuration Validation Completeness
RC_GTEST_PROP(ConfigLoaderProperty, Property15_EveryInvalidFieldIsReportedWithItsConstraint, ()) {
  test::TempDir dir;
  json document = valid_config(dir);
  const auto chosen = *rc::gen::unique<std::vector<std::size_t>>(
      rc::gen::inRange<std::size_t>(0, std::size(k_mutations)));
  std::vector<std::string> fields;
  std::vector<std::string> keys;  // two mutations of one key overwrite each other: keep the first
  for (std::size_t index : chosen) {
    const std::string field = k_mutations[index].field;
    const std::string key = field.substr(0, field.find('['));
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    keys.push_back(key);
    k_mutations[index].apply(document);
    fields.push_back(field);
  }
  const auto issues = check_config(document);
  for (const auto& field : fields) RC_ASSERT(reports(issues, field));
  for (const auto& issue : issues) {
    RC_ASSERT(std::find(fields.begin(), fields.end(), issue.field) != fields.end());
    RC_ASSERT(!issue.problem.empty());
    RC_ASSERT(!issue.expected.empty());
    RC_ASSERT(!issue.suggestion.empty());
  }
  auto config = config_from_json(document);
  RC_ASSERT(config.has_value() == fields.empty());
  if (!config) RC_ASSERT(config.error().category() == ErrorCategory::validation);
}

}  // namespace
}  // namespace forge::support
