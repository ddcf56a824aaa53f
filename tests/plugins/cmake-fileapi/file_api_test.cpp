#include "forge/cmake/file_api.h"

#include <fstream>

#include <gtest/gtest.h>

#include "demo_project.h"
#include "forge/test/temp_dir.h"

namespace forge::cmake {
namespace {

namespace fs = std::filesystem;

class FileApiTest : public ::testing::Test {
 protected:
  // Configures the demo project (no build) into m_build.
  void configure_demo(bool with_query = true) {
    test::write_demo_project(m_source);
    std::string log;
    ASSERT_EQ(test::configure(m_source, m_build, &log, "Ninja", with_query), 0) << log;
  }
  fs::path index_file() {
    auto reply = read_reply(m_build);
    EXPECT_TRUE(reply) << reply.error().to_string();
    return reply ? reply->index_file : fs::path();
  }

  test::TempDir m_dir;
  fs::path m_source = m_dir / "src";
  fs::path m_build = m_dir / "build";
};

TEST_F(FileApiTest, WriteQueryAsksForTheFourObjectsOnlyOnce) {
  fs::create_directories(m_build);
  auto first = write_query(m_build);
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_TRUE(*first);
  auto again = write_query(m_build);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  auto json = read_json_file(query_file(m_build));
  ASSERT_TRUE(json);
  ASSERT_EQ((*json)["requests"].size(), 4u);
  EXPECT_EQ((*json)["requests"][0]["kind"], "codemodel");
  EXPECT_EQ((*json)["requests"][0]["version"], 2);
  EXPECT_EQ((*json)["requests"][3]["kind"], "toolchains");
}

TEST_F(FileApiTest, MissingBuildDirIsAFileSystemError) {
  auto reply = read_reply(m_dir / "nope");
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().category(), ErrorCategory::file_system);
  EXPECT_EQ(reply.error().context().file, (m_dir / "nope").string());
}

TEST_F(FileApiTest, DirectoryWithoutCMakeCacheIsAConfigurationError) {
  fs::create_directories(m_build);
  auto reply = read_reply(m_build);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().category(), ErrorCategory::configuration);
}

TEST_F(FileApiTest, ReplyWithoutOurQueryAsksToRunCmakeOnce) {
  configure_demo(/*with_query=*/false);
  auto reply = read_reply(m_build);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().category(), ErrorCategory::configuration);
  EXPECT_EQ(reply.error().context().file, (m_build / ".cmake/api/v1/reply").string());
}

TEST_F(FileApiTest, RealReplyHasEveryRequestedObject) {
  configure_demo();
  auto reply = read_reply(m_build);
  ASSERT_TRUE(reply) << reply.error().to_string();
  EXPECT_EQ(reply->generator, "Ninja");
  EXPECT_FALSE(reply->multi_config);
  for (const char* kind : {"codemodel", "cache", "cmakeFiles", "toolchains"}) {
    ASSERT_TRUE(reply->objects.contains(kind)) << kind;
    EXPECT_TRUE(fs::exists(reply->objects.at(kind).file)) << kind;
  }
  EXPECT_TRUE(reply->notes.empty());
}

TEST_F(FileApiTest, UnknownMajorVersionIsLeftOutWithANote) {
  configure_demo();
  const auto index = index_file();
  auto json = read_json_file(index);
  ASSERT_TRUE(json);
  for (auto& response : (*json)["reply"]["client-forge"]["query.json"]["responses"]) {
    if (response["kind"] == "cache") response["version"]["major"] = 3;
  }
  std::ofstream(index) << json->dump();
  auto reply = read_reply(m_build);
  ASSERT_TRUE(reply) << reply.error().to_string();
  EXPECT_FALSE(reply->objects.contains("cache"));
  EXPECT_TRUE(reply->objects.contains("codemodel"));
  ASSERT_EQ(reply->notes.size(), 1u);
  EXPECT_NE(reply->notes[0].find("cache v3"), std::string::npos);
}

TEST_F(FileApiTest, CodemodelOfAnUnknownMajorVersionIsAnError) {
  configure_demo();
  const auto index = index_file();
  auto json = read_json_file(index);
  ASSERT_TRUE(json);
  for (auto& response : (*json)["reply"]["client-forge"]["query.json"]["responses"]) {
    if (response["kind"] == "codemodel") response["version"]["major"] = 3;
  }
  std::ofstream(index) << json->dump();
  auto reply = read_reply(m_build);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().category(), ErrorCategory::configuration);
  EXPECT_EQ(reply.error().context().file, index.string());
}

TEST_F(FileApiTest, CorruptIndexIsAValidationErrorNamingTheFile) {
  configure_demo();
  const auto index = index_file();
  std::ofstream(index) << "{\"cmake\": {\"generator\": ";
  auto reply = read_reply(m_build);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().category(), ErrorCategory::validation);
  EXPECT_EQ(reply.error().context().file, index.string());
}

TEST_F(FileApiTest, ReplyOlderThanBuildNinjaIsNotedAsStale) {
  configure_demo();
  const auto index = index_file();
  fs::last_write_time(m_build / "build.ninja",
                      fs::last_write_time(index) + std::chrono::seconds(5));
  auto reply = read_reply(m_build);
  ASSERT_TRUE(reply) << reply.error().to_string();
  ASSERT_EQ(reply->notes.size(), 1u);
  EXPECT_NE(reply->notes[0].find("stale"), std::string::npos);
}

TEST_F(FileApiTest, NewestIndexWins) {
  configure_demo();
  const auto index = index_file();
  // cmake-file-api(7): names sort by time; a later name is the current reply.
  auto json = read_json_file(index);
  ASSERT_TRUE(json);
  (*json)["cmake"]["generator"]["name"] = "Later";
  std::ofstream(index.parent_path() / "index-9999-01-01T00-00-00-0000.json") << json->dump();
  auto reply = read_reply(m_build);
  ASSERT_TRUE(reply) << reply.error().to_string();
  EXPECT_EQ(reply->generator, "Later");
}

}  // namespace
}  // namespace forge::cmake
