#include "forge/cache/store_tier.h"

#include <gtest/gtest.h>

#include "forge/test/temp_dir.h"

namespace forge::cache {
namespace {

TEST(StoreTierTest, TheTierKeepsItsQueueInTheStoreAndTakesTheWriteMode) {
  test::TempDir dir;
  // Nothing listens on port 9: opening contacts no one (the breaker and queue decide later).
  auto tier = open_store_tier({.url = "http://127.0.0.1:9/cache", .write = "through"},
                              dir / "store", false);
  ASSERT_TRUE(tier) << tier.error().to_string();
  ASSERT_NE(*tier, nullptr);
  EXPECT_TRUE(std::filesystem::is_directory(dir / "store" / "upstream-queue"));
  (*tier)->stop();
}

TEST(StoreTierTest, AnEmptyWriteModeIsTheDefault) {
  test::TempDir dir;
  auto tier = open_store_tier({.url = "http://127.0.0.1:9"}, dir / "store", false);
  ASSERT_TRUE(tier) << tier.error().to_string();
  (*tier)->stop();
}

TEST(StoreTierTest, ABadWriteModeOrURLIsAConfigurationErrorThatSaysWhatToUse) {
  test::TempDir dir;
  auto write =
      open_store_tier({.url = "http://127.0.0.1:9", .write = "sideways"}, dir / "store", false);
  ASSERT_FALSE(write);
  EXPECT_NE(write.error().to_string().find("sideways"), std::string::npos);
  EXPECT_NE(write.error().to_string().find("through"), std::string::npos);
  auto url = open_store_tier({.url = "ftp://example.com/cache"}, dir / "store", false);
  ASSERT_FALSE(url);
  EXPECT_NE(url.error().to_string().find("ftp"), std::string::npos) << url.error().to_string();
}

}  // namespace
}  // namespace forge::cache
