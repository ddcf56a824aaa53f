#include "forge/cas_tree/capture.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "forge/cas_tree/download.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"
#include "tree_builder.h"

namespace forge::cas_tree {
namespace {

class CaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache::StoreOptions options;
    options.dir = m_dir / "store";
    options.fsync = false;
    options.background_eviction = false;
    m_store = cache::CasStore::open(options).value();
    m_ac = cache::ActionCache::open(m_store).value();
    // What an action left in its working directory.
    const auto tool = m_dir.write_file("work/bin/tool", "#!/bin/sh\necho built\n");
    ::chmod(tool.c_str(), 0755);
    m_dir.write_file("work/lib/libcore.a", "!<arch>\ncore\n");
    testing::build_sample_tree(m_dir, "work/gen");
    std::filesystem::create_symlink("lib/libcore.a", m_dir / "work/libcore-link.a");
    m_request.working_dir = m_dir / "work";
    m_request.output_files = {"lib/libcore.a", "bin/tool", "libcore-link.a", "never/made.o"};
    m_request.output_directories = {"gen"};
  }
  std::string protoc_decode(const std::string& message, const std::string& bytes) const {
    const std::string proto_root = FORGE_REAPI_PROTO_ROOT;
    const auto decoded =
        test::run_shell("protoc --decode=build.bazel.remote.execution.v2." + message + " -I " +
                            test::shell_quote(proto_root) + " -I /usr/include " +
                            "build/bazel/remote/execution/v2/remote_execution.proto",
                        bytes);
    EXPECT_EQ(decoded.exit_code, 0) << decoded.err;
    return decoded.out;
  }

  test::TempDir m_dir;
  std::shared_ptr<cache::CasStore> m_store;
  std::shared_ptr<cache::ActionCache> m_ac;
  CaptureRequest m_request;
  const cache::BlobDigest m_action{hash::sha256_of(std::string_view("the action")), 10};
};

TEST_F(CaptureTest, TheCapturedResultIsAnActionCacheHitThatValidatesEveryTreeFile) {
  auto captured = capture_action(*m_ac, m_action, m_request);
  ASSERT_TRUE(captured) << captured.error().to_string();
  EXPECT_EQ(captured->missing, std::vector<std::string>{"never/made.o"});
  ASSERT_EQ(captured->directories.size(), 1u);
  auto hit = m_ac->get(cache::Keyspace::ac, m_action.sha256.hex());
  ASSERT_TRUE(hit) << hit.error().to_string();
  ASSERT_TRUE(hit->has_value());
  EXPECT_EQ(**hit, captured->action_result);

  // protoc reads it as an ActionResult with the fields REAPI defines.
  const std::string text = protoc_decode("ActionResult", captured->action_result);
  EXPECT_NE(text.find("path: \"bin/tool\""), std::string::npos) << text;
  EXPECT_NE(text.find("is_executable: true"), std::string::npos) << text;
  EXPECT_NE(text.find("tree_digest"), std::string::npos) << text;
  EXPECT_NE(text.find("root_directory_digest"), std::string::npos) << text;
  EXPECT_NE(text.find("output_symlinks {\n  path: \"libcore-link.a\"\n  target: \"lib/libcore.a\""),
            std::string::npos)
      << text;
  const auto tree = m_store->get(captured->directories[0].tree).value();
  ASSERT_TRUE(tree);
  const auto tree_files = cache::tree_file_digests(*tree);
  ASSERT_TRUE(tree_files);
  EXPECT_EQ(tree_files->size(), 4u);  // readme, empty, tool, nested/file.c
  EXPECT_NE(protoc_decode("Tree", *tree).find("children"), std::string::npos);

  // A file inside the tree gone from the store: the action cache no longer serves the result.
  const auto gone = *std::find_if(tree_files->begin(), tree_files->end(),
                                  [](const auto& d) { return d.size > 0; });  // not the empty blob
  std::filesystem::remove(m_store->blob_path(gone));
  ASSERT_TRUE(m_store->verify());
  auto miss = m_ac->get(cache::Keyspace::ac, m_action.sha256.hex());
  ASSERT_TRUE(miss);
  EXPECT_FALSE(miss->has_value());
}

TEST_F(CaptureTest, DownloadingTheCapturedDirectoryGivesTheSameBytesAndModes) {
  auto captured = capture_outputs(*m_store, m_request);
  ASSERT_TRUE(captured) << captured.error().to_string();
  auto downloaded =
      download_tree(*m_store, captured->directories[0].root_directory, m_dir / "restored");
  ASSERT_TRUE(downloaded) << downloaded.error().to_string();
  EXPECT_EQ(testing::listing(m_dir / "restored"), testing::listing(m_dir / "work/gen"));
  const auto diff = test::run_shell("diff -r --no-dereference " +
                                    test::shell_quote((m_dir / "work/gen").string()) + " " +
                                    test::shell_quote((m_dir / "restored").string()));
  EXPECT_EQ(diff.exit_code, 0) << diff.out;
  // The same outputs give the same bytes.
  auto again = capture_outputs(*m_store, m_request);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->action_result, captured->action_result);
}

TEST_F(CaptureTest, BadDeclarationsAreValidationErrors) {
  std::filesystem::create_symlink(m_dir / "work/gen", m_dir / "work/escape");
  for (const auto& [files, directories] :
       std::vector<std::pair<std::vector<std::string>, std::vector<std::string>>>{
           {{"../store/x"}, {}},
           {{"/etc/passwd"}, {}},
           {{"lib//libcore.a"}, {}},
           {{"lib/./libcore.a"}, {}},
           {{"lib/"}, {}},
           {{""}, {}},
           {{"escape/readme.txt"}, {}},  // through a symlinked parent
           {{"gen"}, {}},                // a directory declared as a file
           {{}, {"bin/tool"}},           // a file declared as a directory
           {{"bin/tool"}, {"bin/tool"}},
       }) {
    CaptureRequest request = m_request;
    request.output_files = files;
    request.output_directories = directories;
    auto captured = capture_outputs(*m_store, request);
    ASSERT_FALSE(captured) << (files.empty() ? directories[0] : files[0]);
    EXPECT_EQ(captured.error().category(), ErrorCategory::validation);
  }
}

TEST_F(CaptureTest, ANonZeroExitCodeIsRecorded) {
  m_request.exit_code = -3;
  m_request.output_directories.clear();
  auto captured = capture_outputs(*m_store, m_request);
  ASSERT_TRUE(captured) << captured.error().to_string();
  EXPECT_NE(protoc_decode("ActionResult", captured->action_result).find("exit_code: -3"),
            std::string::npos);
}

}  // namespace
}  // namespace forge::cas_tree
