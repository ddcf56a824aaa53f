#include "forge/cas_tree/download.h"

#include <sys/stat.h>

#include <fstream>

#include <gtest/gtest.h>

#include "forge/test/process.h"
#include "forge/test/test_cache.h"
#include "tree_builder.h"

namespace forge::cas_tree {
namespace {

class DownloadTest : public test::StoreTest {
 protected:
  cache::BlobDigest upload_sample() {
    testing::build_sample_tree(m_dir, "tree");
    auto uploaded = upload_tree(*m_cas, m_dir / "tree");
    EXPECT_TRUE(uploaded) << uploaded.error().to_string();
    return uploaded ? uploaded->root : cache::BlobDigest{};
  }
  cache::BlobDigest put_directory(const Directory& directory) {
    const std::string bytes = encode_directory(directory);
    auto digest = m_cas->put(std::as_bytes(std::span(bytes.data(), bytes.size())));
    EXPECT_TRUE(digest);
    return *digest;
  }
  // `find` listing of names, types and modes: what diff -r does not compare.
  std::string modes(const std::string& relative) {
    return test::run_shell("cd " + test::shell_quote((m_dir / relative).string()) +
                           " && find . -printf '%p %y %m %l\\n' | sort")
        .out;
  }
};

TEST_F(DownloadTest, RoundTripsBytesModesSymlinksAndEmptyDirectories) {
  const auto root = upload_sample();
  auto downloaded = download_tree(*m_cas, root, m_dir / "out");
  ASSERT_TRUE(downloaded) << downloaded.error().to_string();
  EXPECT_EQ(downloaded->stats.files, 4u);
  EXPECT_EQ(downloaded->stats.symlinks, 2u);
  EXPECT_EQ(downloaded->stats.directories, 7u);
  const auto diff =
      test::run_shell("diff -r --no-dereference " + test::shell_quote((m_dir / "tree").string()) +
                      " " + test::shell_quote((m_dir / "out").string()));
  EXPECT_EQ(diff.exit_code, 0) << diff.out << diff.err;
  EXPECT_EQ(modes("out"), modes("tree"));
}

TEST_F(DownloadTest, CopiesAreIndependentOfTheStore) {
  const auto root = upload_sample();
  ASSERT_TRUE(download_tree(*m_cas, root, m_dir / "out"));
  { std::ofstream(m_dir / "out/readme.txt", std::ios::app) << "changed"; }
  auto stored = m_cas->get(cache::digest_of("hello\n"));
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ(**stored, "hello\n");
}

TEST_F(DownloadTest, HardlinksAreReadOnlyAndExecutablesAreCopied) {
  const auto root = upload_sample();
  DownloadOptions options;
  options.link = Link::hardlink;
  auto downloaded = download_tree(*m_cas, root, m_dir / "out", options);
  ASSERT_TRUE(downloaded) << downloaded.error().to_string();
  EXPECT_GE(downloaded->hardlinked, 2u);  // readme.txt, file.c (and the empty blob)
  struct stat linked {
  }, blob{}, tool{};
  ASSERT_EQ(::stat((m_dir / "out/readme.txt").c_str(), &linked), 0);
  ASSERT_EQ(::stat(m_cas->blob_path(cache::digest_of("hello\n")).c_str(), &blob), 0);
  EXPECT_EQ(linked.st_ino, blob.st_ino);
  EXPECT_EQ(linked.st_mode & 0222, 0u);
  ASSERT_EQ(::stat((m_dir / "out/bin/tool").c_str(), &tool), 0);
  EXPECT_EQ(tool.st_nlink, 1u);
  EXPECT_NE(tool.st_mode & 0100, 0u);
  const auto diff =
      test::run_shell("diff -r --no-dereference " + test::shell_quote((m_dir / "tree").string()) +
                      " " + test::shell_quote((m_dir / "out").string()));
  EXPECT_EQ(diff.exit_code, 0) << diff.out;
}

// The empty blob's reader holds /dev/null: linking it once made /dev/null read-only for the
// whole machine (a root process may chmod it), which broke apt and every shell redirect.
TEST_F(DownloadTest, AnEmptyFileIsLinkedWithoutTouchingDevNull) {
  struct stat before {};
  ASSERT_EQ(::stat("/dev/null", &before), 0);
  m_dir.write_file("empty-tree/empty", "");
  auto uploaded = upload_tree(*m_cas, m_dir / "empty-tree");
  ASSERT_TRUE(uploaded) << uploaded.error().to_string();
  DownloadOptions options;
  options.link = Link::hardlink;
  auto downloaded = download_tree(*m_cas, uploaded->root, m_dir / "out", options);
  ASSERT_TRUE(downloaded) << downloaded.error().to_string();
  struct stat after {
  }, empty{};
  ASSERT_EQ(::stat("/dev/null", &after), 0);
  if (after.st_mode != before.st_mode) ::chmod("/dev/null", before.st_mode & 07777);  // mend
  EXPECT_EQ(after.st_mode, before.st_mode);
  ASSERT_EQ(::lstat((m_dir / "out/empty").c_str(), &empty), 0);
  EXPECT_TRUE(S_ISREG(empty.st_mode));
  EXPECT_EQ(empty.st_size, 0);
}

TEST_F(DownloadTest, MissingBlobFailsAndLeavesNoPartialTree) {
  Directory directory;
  directory.files = {{"a", cache::digest_of("present"), false},
                     {"b", cache::digest_of("never stored"), false}};
  ASSERT_TRUE(m_cas->put(std::as_bytes(std::span("present", 7))));
  const auto root = put_directory(directory);
  auto downloaded = download_tree(*m_cas, root, m_dir / "out");
  ASSERT_FALSE(downloaded);
  EXPECT_EQ(downloaded.error().category(), ErrorCategory::validation);
  EXPECT_FALSE(std::filesystem::exists(m_dir / "out"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(m_dir.path()), {}), 1);  // store/
  auto absent_root = download_tree(*m_cas, cache::digest_of("no such directory"), m_dir / "out");
  ASSERT_FALSE(absent_root);
  EXPECT_EQ(absent_root.error().category(), ErrorCategory::validation);
}

TEST_F(DownloadTest, CorruptBlobIsNeverMaterialized) {
  const auto root = upload_sample();
  const auto blob = m_cas->blob_path(cache::digest_of("hello\n"));
  ::chmod(blob.c_str(), 0644);
  { std::ofstream(blob, std::ios::trunc) << "HELLO\n"; }  // same size, other bytes
  auto downloaded = download_tree(*m_cas, root, m_dir / "out");
  ASSERT_FALSE(downloaded);
  EXPECT_TRUE(cache::is_corrupt_blob(downloaded.error())) << downloaded.error().to_string();
  EXPECT_FALSE(std::filesystem::exists(m_dir / "out"));
}

TEST_F(DownloadTest, EscapingSymlinksAreRefused) {
  for (const std::string& target :
       std::vector<std::string>{"/etc/passwd", "../outside", "a/../../x"}) {
    Directory child;
    child.symlinks = {{"link", target}};
    Directory top;
    top.directories = {{"sub", put_directory(child)}};
    // "../outside" is fine one level down but not at the top: test it in the root.
    const auto root = target == "../outside" ? put_directory(child) : put_directory(top);
    auto downloaded = download_tree(*m_cas, root, m_dir / "out");
    ASSERT_FALSE(downloaded) << target;
    EXPECT_EQ(downloaded.error().category(), ErrorCategory::validation);
    EXPECT_FALSE(std::filesystem::exists(m_dir / "out"));
  }
}

TEST_F(DownloadTest, CraftedDirectoryWithDotDotNameIsRefused) {
  // Hand-encoded: files { name: ".." digest { hash: <empty> } } (decode refuses, so the
  // encoder is not asked to write it).
  const std::string hex = cache::empty_blob().sha256.hex();
  std::string digest = "\x0a\x40" + hex;
  std::string node = std::string("\x0a\x02..\x12") + static_cast<char>(digest.size()) + digest;
  std::string message = std::string("\x0a") + static_cast<char>(node.size()) + node;
  auto stored = m_cas->put(std::as_bytes(std::span(message.data(), message.size())));
  ASSERT_TRUE(stored);
  auto downloaded = download_tree(*m_cas, *stored, m_dir / "out");
  ASSERT_FALSE(downloaded);
  EXPECT_EQ(downloaded.error().category(), ErrorCategory::validation);
  EXPECT_FALSE(std::filesystem::exists(m_dir / "out"));
}

TEST_F(DownloadTest, ADirectoryReusedExponentiallyIsBoundedNotExpanded) {
  auto level = put_directory(Directory{});
  for (int i = 0; i < 40; ++i) {  // 2^40 leaves if expanded
    Directory twice;
    twice.directories = {{"a", level}, {"b", level}};
    level = put_directory(twice);
  }
  DownloadOptions options;
  options.max_entries = 100;
  auto downloaded = download_tree(*m_cas, level, m_dir / "out", options);
  ASSERT_FALSE(downloaded);
  EXPECT_EQ(downloaded.error().category(), ErrorCategory::validation);
  EXPECT_FALSE(std::filesystem::exists(m_dir / "out"));
}

TEST_F(DownloadTest, DestinationMustBeNewOrEmpty) {
  const auto root = upload_sample();
  m_dir.write_file("full/x", "x");
  auto refused = download_tree(*m_cas, root, m_dir / "full");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), ErrorCategory::validation);
  std::filesystem::create_directories(m_dir / "empty");
  auto into_empty = download_tree(*m_cas, root, m_dir / "empty");
  ASSERT_TRUE(into_empty) << into_empty.error().to_string();
  EXPECT_TRUE(std::filesystem::exists(m_dir / "empty/readme.txt"));
}

}  // namespace
}  // namespace forge::cas_tree
