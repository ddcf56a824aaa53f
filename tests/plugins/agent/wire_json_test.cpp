#include "forge/agent/wire_json.h"

#include <gtest/gtest.h>

namespace forge::agent {
namespace {

TEST(WireJsonTest, ChangesRoundTrip) {
  scan::Change file;
  file.path = "src/a.c";
  file.kind = scan::ChangeKind::modified;
  file.xxh3 = hash::xxh3_of(std::string_view("a"));
  file.sha256 = hash::sha256_of(std::string_view("a"));
  scan::Change link;
  link.path = "l";
  link.kind = scan::ChangeKind::type_changed;
  link.type = scan::EntryType::symlink;
  link.symlink_target = "../x";
  for (const auto& change : {file, link}) {
    auto back = change_from_json(change_to_json(change));
    ASSERT_TRUE(back) << back.error().to_string();
    EXPECT_EQ(back->path, change.path);
    EXPECT_EQ(back->kind, change.kind);
    EXPECT_EQ(back->type, change.type);
    EXPECT_EQ(back->xxh3, change.xxh3);
    EXPECT_EQ(back->sha256, change.sha256);
    EXPECT_EQ(back->symlink_target, change.symlink_target);
  }
  EXPECT_FALSE(change_from_json({{"path", "x"}, {"change", "exploded"}, {"type", "file"}}));
  EXPECT_FALSE(
      change_from_json({{"path", "x"}, {"change", "added"}, {"type", "file"}, {"xxh3", "zz"}}));
  EXPECT_FALSE(change_from_json(nlohmann::json::array()));
}

TEST(WireJsonTest, ErrorsKeepCategoryCodeAndMessage) {
  const Error error = Error::from_errno(ENOENT, "open", "/x");
  const Error back = error_from_json(error_to_json(error));
  EXPECT_EQ(back.category(), error.category());
  EXPECT_EQ(back.code(), ENOENT);
  EXPECT_EQ(back.message(), error.message());
  EXPECT_EQ(error_from_json({{"category", "Nonsense"}}).category(), ErrorCategory::unknown);
}

}  // namespace
}  // namespace forge::agent
