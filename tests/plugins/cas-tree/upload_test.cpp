#include "forge/cas_tree/upload.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "forge/test/test_cache.h"
#include "tree_builder.h"

namespace forge::cas_tree {
namespace {

class UploadTest : public test::StoreTest {};

TEST_F(UploadTest, EmptyDirectoryIsTheEmptyBlob) {
  std::filesystem::create_directories(m_dir / "tree");
  auto uploaded = upload_tree(*m_cas, m_dir / "tree");
  ASSERT_TRUE(uploaded) << uploaded.error().to_string();
  EXPECT_EQ(uploaded->root, cache::empty_blob());
  EXPECT_EQ(uploaded->stats.directories, 1u);
}

TEST_F(UploadTest, StoresEveryDirectoryAndFileWithExecutableBitsAndSymlinks) {
  testing::build_sample_tree(m_dir, "tree");
  auto uploaded = upload_tree(*m_cas, m_dir / "tree");
  ASSERT_TRUE(uploaded) << uploaded.error().to_string();
  EXPECT_EQ(uploaded->stats.files, 4u);
  EXPECT_EQ(uploaded->stats.symlinks, 2u);
  EXPECT_EQ(uploaded->stats.directories, 7u);

  auto root_bytes = m_cas->get(uploaded->root);
  ASSERT_TRUE(root_bytes && *root_bytes);
  auto root = decode_directory(**root_bytes);
  ASSERT_TRUE(root) << root.error().to_string();
  ASSERT_EQ(root->files.size(), 2u);
  EXPECT_EQ(root->files[0].name, "empty.txt");
  EXPECT_EQ(root->files[1].name, "readme.txt");
  EXPECT_EQ(root->files[1].digest, cache::digest_of("hello\n"));
  ASSERT_EQ(root->directories.size(), 3u);
  EXPECT_EQ(root->directories[0].name, "bin");

  auto bin_bytes = m_cas->get(root->directories[0].digest);
  ASSERT_TRUE(bin_bytes && *bin_bytes);
  auto bin = decode_directory(**bin_bytes);
  ASSERT_TRUE(bin);
  ASSERT_EQ(bin->files.size(), 1u);
  EXPECT_TRUE(bin->files[0].is_executable);
  ASSERT_EQ(bin->symlinks.size(), 1u);
  EXPECT_EQ(bin->symlinks[0].target, "../readme.txt");
  auto contains = m_cas->contains(bin->files[0].digest);
  ASSERT_TRUE(contains);
  EXPECT_TRUE(*contains);
}

TEST_F(UploadTest, SameTreeCreatedInAnotherOrderHasTheSameRootDigest) {
  m_dir.write_file("one/b", "2");
  m_dir.write_file("one/a", "1");
  m_dir.write_file("one/d/c", "3");
  m_dir.write_file("two/d/c", "3");
  m_dir.write_file("two/a", "1");
  m_dir.write_file("two/b", "2");
  auto one = upload_tree(*m_cas, m_dir / "one");
  auto two = upload_tree(*m_cas, m_dir / "two");
  ASSERT_TRUE(one && two);
  EXPECT_EQ(one->root, two->root);
  ::chmod((m_dir / "two/a").c_str(), 0755);
  auto changed = upload_tree(*m_cas, m_dir / "two");
  ASSERT_TRUE(changed);
  EXPECT_NE(changed->root, one->root);  // the executable bit is part of the tree
}

TEST_F(UploadTest, ReuploadOfAnUnchangedTreeRewritesNoBlob) {
  testing::build_sample_tree(m_dir, "tree");
  auto first = upload_tree(*m_cas, m_dir / "tree");
  ASSERT_TRUE(first);
  struct stat before {
  }, after{};
  const auto blob = m_cas->blob_path(cache::digest_of("hello\n"));
  ASSERT_EQ(::stat(blob.c_str(), &before), 0);
  auto second = upload_tree(*m_cas, m_dir / "tree");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->root, first->root);
  ASSERT_EQ(::stat(blob.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);  // not replaced by a new temp file
  m_dir.write_file("tree/readme.txt", "changed\n");
  auto third = upload_tree(*m_cas, m_dir / "tree");
  ASSERT_TRUE(third);
  EXPECT_NE(third->root, first->root);
  auto stored = m_cas->contains(cache::digest_of("changed\n"));
  ASSERT_TRUE(stored);
  EXPECT_TRUE(*stored);
}

TEST_F(UploadTest, SpecialFilesAndNonDirectoriesAreRefusedByName) {
  m_dir.write_file("tree/ok", "x");
  ASSERT_EQ(::mkfifo((m_dir / "tree/pipe").c_str(), 0644), 0);
  auto uploaded = upload_tree(*m_cas, m_dir / "tree");
  ASSERT_FALSE(uploaded);
  EXPECT_EQ(uploaded.error().category(), ErrorCategory::validation);
  EXPECT_EQ(uploaded.error().context().file, (m_dir / "tree/pipe").string());
  auto file = upload_tree(*m_cas, m_dir / "tree/ok");
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().category(), ErrorCategory::validation);
  auto absent = upload_tree(*m_cas, m_dir / "absent");
  ASSERT_FALSE(absent);
  EXPECT_EQ(absent.error().code(), ENOENT);
}

}  // namespace
}  // namespace forge::cas_tree
