// Trees against a real remote: a `forge serve` started by the test, through cache::Upstream
// as an http:// (Bazel HTTP cache protocol) and as a grpc:// (REAPI v2) remote, with
// separate local stores on each side.
#include "forge/cas_tree/remote.h"

#include <fstream>

#include <gtest/gtest.h>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"
#include "serve_fixture.h"
#include "tree_builder.h"

namespace forge::cas_tree {
namespace {

class RemoteTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(m_server.started()) << m_server.log();
    cache::UpstreamOptions options;
    options.url = remote_url();
    m_remote = cache::open_upstream(options).value();
    m_uploader = open_store("uploader");
    m_downloader = open_store("downloader");
    m_downloader_ac = cache::ActionCache::open(m_downloader).value();
    testing::make_wide_tree(m_dir, "tree", 60);
    testing::build_sample_tree(m_dir, "tree/sample");
  }
  // The server's HTTP or gRPC port, as the test's parameter says.
  std::string remote_url() const {
    return GetParam() == "grpc" ? "grpc://127.0.0.1:" + std::to_string(m_server.grpc_port())
                                : m_server.url();
  }
  std::shared_ptr<cache::CasStore> open_store(const std::string& name) {
    cache::StoreOptions options;
    options.dir = m_dir / name;
    options.fsync = false;
    options.background_eviction = false;
    return cache::CasStore::open(options).value();
  }
  std::string diff(const std::string& restored) const {
    const auto result =
        test::run_shell("diff -r --no-dereference " + test::shell_quote((m_dir / "tree").string()) +
                        " " + test::shell_quote((m_dir / restored).string()));
    return result.exit_code == 0 ? "" : result.out + result.err;
  }

  test::ServeFixture m_server{{"--no-fsync"}};
  test::TempDir m_dir;
  std::unique_ptr<cache::Upstream> m_remote;
  std::shared_ptr<cache::CasStore> m_uploader, m_downloader;
  std::shared_ptr<cache::ActionCache> m_downloader_ac;
};

TEST_P(RemoteTest, UploadThenDownloadThroughARemoteRoundTripsAndTheSecondIsLocal) {
  auto uploaded = upload_tree_to_remote(*m_uploader, *m_remote, m_dir / "tree");
  ASSERT_TRUE(uploaded) << uploaded.error().to_string();
  EXPECT_GT(uploaded->remote.blobs, 50u);
  EXPECT_EQ(uploaded->remote.moved + uploaded->remote.present, uploaded->remote.blobs);
  EXPECT_EQ(
      test::curl("-o /dev/null " + m_server.url() + "/cas/" + uploaded->upload.root.sha256.hex())
          .out,
      "200");
  auto again = upload_tree_to_remote(*m_uploader, *m_remote, m_dir / "tree");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->remote.moved, 0u);  // the remote has everything: only checked

  auto first = download_tree_from_remote(*m_downloader_ac, *m_remote, uploaded->upload.root,
                                         m_dir / "first");
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->remote.moved, uploaded->remote.blobs - 1);  // less the one empty blob
  EXPECT_EQ(diff("first"), "");
  EXPECT_EQ(testing::listing(m_dir / "first"), testing::listing(m_dir / "tree"));

  // Everything is local now: nothing is fetched, and files can be linked from the store.
  DownloadOptions link;
  link.link = Link::hardlink;
  auto second = download_tree_from_remote(*m_downloader_ac, *m_remote, uploaded->upload.root,
                                          m_dir / "second", link);
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_EQ(second->remote.moved, 0u);
  EXPECT_GT(second->download.hardlinked, 0u);
  EXPECT_EQ(diff("second"), "");
}

TEST_P(RemoteTest, ACorruptOrMissingRemoteBlobMaterializesNothing) {
  auto uploaded = upload_tree_to_remote(*m_uploader, *m_remote, m_dir / "tree");
  ASSERT_TRUE(uploaded) << uploaded.error().to_string();
  // Same size, other bytes, in the remote's own store file.
  const auto readme = hash::sha256_of(std::string_view("hello\n")).hex();
  const auto blob = m_server.store() / "cas" / readme.substr(0, 2) / readme;
  ASSERT_TRUE(std::filesystem::exists(blob));
  std::filesystem::permissions(blob, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  { std::ofstream(blob, std::ios::trunc) << "HELLO\n"; }
  auto corrupt =
      download_tree_from_remote(*m_downloader_ac, *m_remote, uploaded->upload.root, m_dir / "out");
  EXPECT_FALSE(corrupt);
  EXPECT_FALSE(std::filesystem::exists(m_dir / "out"));
  EXPECT_FALSE(
      *m_downloader->contains(cache::BlobDigest{hash::sha256_of(std::string_view("hello\n")), 6}));

  const cache::BlobDigest never{hash::sha256_of(std::string_view("never uploaded")), 14};
  auto missing = download_tree_from_remote(*m_downloader_ac, *m_remote, never, m_dir / "out");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().category(), ErrorCategory::validation);
  EXPECT_FALSE(std::filesystem::exists(m_dir / "out"));
}

TEST_P(RemoteTest, TheCliTakesRemote) {
  const std::string forge = test::shell_quote(test::forge_binary().string());
  const auto uploaded =
      test::run_shell(forge + " cas upload " + test::shell_quote((m_dir / "tree").string()) +
                      " --no-fsync --remote " + remote_url() + " --dir " +
                      test::shell_quote((m_dir / "cli-up").string()));
  ASSERT_EQ(uploaded.exit_code, 0) << uploaded.err;
  const std::string root = uploaded.out.substr(0, uploaded.out.find('\n'));
  const auto downloaded = test::run_shell(
      forge + " cas download " + root + " " + test::shell_quote((m_dir / "cli").string()) +
      " --remote " + remote_url() + " --dir " + test::shell_quote((m_dir / "cli-down").string()));
  ASSERT_EQ(downloaded.exit_code, 0) << downloaded.err;
  EXPECT_NE(downloaded.out.find("\"fetched\""), std::string::npos) << downloaded.out;
  EXPECT_EQ(diff("cli"), "");
  EXPECT_EQ(
      test::run_shell(forge + " cas download " + root + " x --remote ftp://nowhere").exit_code, 2);
}

INSTANTIATE_TEST_SUITE_P(Remotes, RemoteTest, ::testing::Values("http", "grpc"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace forge::cas_tree
