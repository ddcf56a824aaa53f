#include "forge/cas_tree/directory.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge::cas_tree {
namespace {

Directory sample() {
  Directory directory;
  directory.files = {{"a.txt", cache::digest_of("hello"), false},
                     {"run.sh", cache::digest_of("#!/bin/sh\n"), true},
                     {"zero", cache::empty_blob(), false}};
  directory.directories = {{"sub", cache::digest_of("child")}};
  directory.symlinks = {{"link", "a.txt"}};
  return directory;
}

// The reference encoder: protoc itself, on the REAPI proto vendored in the repo.
TEST(DirectoryTest, EncodingIsByteForByteProtocsDeterministicEncoding) {
  const Directory directory = sample();
  std::string text;
  for (const auto& file : directory.files) {
    text += "files { name: \"" + file.name + "\" digest { hash: \"" + file.digest.sha256.hex() +
            "\" size_bytes: " + std::to_string(file.digest.size) +
            " } is_executable: " + (file.is_executable ? "true" : "false") + " }\n";
  }
  for (const auto& child : directory.directories) {
    text += "directories { name: \"" + child.name + "\" digest { hash: \"" +
            child.digest.sha256.hex() + "\" size_bytes: " + std::to_string(child.digest.size) +
            " } }\n";
  }
  for (const auto& link : directory.symlinks) {
    text += "symlinks { name: \"" + link.name + "\" target: \"" + link.target + "\" }\n";
  }
  test::TempDir dir;
  const std::string proto_root = FORGE_REAPI_PROTO_ROOT;
  const auto encoded =
      test::run_shell("protoc --encode=build.bazel.remote.execution.v2.Directory -I " +
                          test::shell_quote(proto_root) + " -I /usr/include " +
                          "build/bazel/remote/execution/v2/remote_execution.proto",
                      text);
  ASSERT_EQ(encoded.exit_code, 0) << encoded.err;
  EXPECT_EQ(encode_directory(directory), encoded.out);
}

TEST(DirectoryTest, DecodeReturnsWhatWasEncoded) {
  const Directory directory = sample();
  auto decoded = decode_directory(encode_directory(directory));
  ASSERT_TRUE(decoded) << decoded.error().to_string();
  EXPECT_EQ(*decoded, directory);
  auto empty = decode_directory("");
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, Directory{});
}

TEST(DirectoryTest, DecodeRefusesNamesAndOrdersREAPIForbids) {
  const auto refused = [](Directory directory) {
    auto decoded = decode_directory(encode_directory(directory));
    return !decoded && decoded.error().category() == ErrorCategory::validation;
  };
  for (const std::string& bad :
       std::vector<std::string>{"..", ".", "", "a/b", std::string("a\0b", 3)}) {
    Directory directory;
    directory.files = {{bad, cache::empty_blob(), false}};
    EXPECT_TRUE(refused(directory)) << testing::PrintToString(bad);
  }
  Directory unsorted;
  unsorted.files = {{"b", cache::empty_blob(), false}, {"a", cache::empty_blob(), false}};
  EXPECT_TRUE(refused(unsorted));
  Directory duplicate;
  duplicate.files = {{"a", cache::empty_blob(), false}};
  duplicate.symlinks = {{"a", "x"}};
  EXPECT_TRUE(refused(duplicate));
  Directory empty_target;
  empty_target.symlinks = {{"a", ""}};
  EXPECT_TRUE(refused(empty_target));
  EXPECT_FALSE(decode_directory("\x0a\x02\x0a"));       // truncated FileNode
  EXPECT_FALSE(decode_directory("\x0a\x03\x0a\x01x"));  // FileNode without a digest
}

TEST(DirectoryTest, SymlinkTargetsMustStayInsideTheTree) {
  EXPECT_TRUE(check_symlink_target("a.txt", 0));
  EXPECT_TRUE(check_symlink_target("./sub/a", 0));
  EXPECT_TRUE(check_symlink_target("../x", 1));
  EXPECT_TRUE(check_symlink_target("../../x/y", 2));
  EXPECT_FALSE(check_symlink_target("../x", 0));
  EXPECT_FALSE(check_symlink_target("../../x", 1));
  EXPECT_FALSE(check_symlink_target("/etc/passwd", 3));
  // A '..' after a name could climb out through another symlink: sub -> ../c, then sub/../..
  EXPECT_FALSE(check_symlink_target("sub/../../x", 1));
  EXPECT_FALSE(check_symlink_target("", 0));
  auto refused = check_symlink_target("/abs", 0);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), ErrorCategory::validation);
}

rc::Gen<std::string> gen_name() {
  return rc::gen::suchThat(
      rc::gen::container<std::string>(rc::gen::inRange<char>(1, 127)), [](const std::string& name) {
        return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
      });
}

RC_GTEST_PROP(DirectoryTest, AnyValidDirectoryRoundTripsAndEncodesDeterministically, ()) {
  const auto names = *rc::gen::unique<std::vector<std::string>>(gen_name());
  Directory directory;
  for (const auto& name : names) {
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        directory.files.push_back({name, cache::digest_of(name), *rc::gen::arbitrary<bool>()});
        break;
      case 1: directory.directories.push_back({name, cache::digest_of(name + "/")}); break;
      default: directory.symlinks.push_back({name, name + "-target"}); break;
    }
  }
  Directory shuffled = directory;
  sort_entries(directory);
  std::reverse(shuffled.files.begin(), shuffled.files.end());
  sort_entries(shuffled);
  RC_ASSERT(encode_directory(directory) == encode_directory(shuffled));
  auto decoded = decode_directory(encode_directory(directory));
  RC_ASSERT(decoded.has_value());
  RC_ASSERT(*decoded == directory);
}

}  // namespace
}  // namespace forge::cas_tree
