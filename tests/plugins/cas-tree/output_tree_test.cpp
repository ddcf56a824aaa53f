#include "forge/cas_tree/output_tree.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "forge/cache/reapi_fields.h"
#include "forge/cache/wire.h"
#include "forge/cas_tree/directory.h"
#include "forge/cas_tree/download.h"
#include "forge/test/process.h"
#include "forge/test/test_cache.h"
#include "tree_builder.h"

namespace forge::cas_tree {
namespace {

std::span<const std::byte> as_bytes(const std::string& bytes) {
  return std::as_bytes(std::span(bytes.data(), bytes.size()));
}

// The sample tree uploaded to a scratch store, then what a REAPI client sends for it as an
// output directory: every file blob and one Tree blob (root + children, children in an order
// of the client's choosing), put into the fixture's store, which has no Directory blob.
class OutputTreeTest : public test::StoreTest {
 protected:
  void SetUp() override {
    test::StoreTest::SetUp();
    testing::build_sample_tree(m_dir, "tree");
    cache::StoreOptions options;
    options.dir = m_dir / "scratch";
    options.fsync = false;
    auto scratch = cache::CasStore::open(options);
    ASSERT_TRUE(scratch) << scratch.error().to_string();
    auto uploaded = upload_tree(**scratch, m_dir / "tree");
    ASSERT_TRUE(uploaded) << uploaded.error().to_string();
    m_root = uploaded->root;
    std::vector<cache::BlobDigest> level{m_root};
    while (!level.empty()) {
      std::vector<cache::BlobDigest> next;
      for (const auto& digest : level) {
        auto bytes = (*scratch)->get(digest);
        ASSERT_TRUE(bytes && *bytes);
        (digest == m_root ? m_root_bytes : m_children.emplace_back()) = **bytes;
        auto directory = decode_directory(**bytes);
        ASSERT_TRUE(directory);
        for (const auto& file : directory->files) {
          auto content = (*scratch)->get(file.digest);
          ASSERT_TRUE(content && *content);
          ASSERT_TRUE(m_cas->put(as_bytes(**content)));
        }
        for (const auto& child : directory->directories) next.push_back(child.digest);
      }
      level = std::move(next);
    }
    std::reverse(m_children.begin(), m_children.end());  // any order is valid
  }

  cache::BlobDigest put_tree(bool with_root, std::size_t children) {
    cache::WireWriter tree;
    if (with_root) tree.bytes_field(cache::reapi::k_tree_root, m_root_bytes);
    for (std::size_t i = 0; i < children && i < m_children.size(); ++i) {
      tree.bytes_field(cache::reapi::k_tree_children, m_children[i]);
    }
    auto digest = m_cas->put(as_bytes(tree.bytes()));
    EXPECT_TRUE(digest);
    return *digest;
  }

  cache::BlobDigest m_root;
  std::string m_root_bytes;
  std::vector<std::string> m_children;
};

TEST_F(OutputTreeTest, ATreeBecomesDirectoriesThatDownloadByteForByte) {
  ASSERT_GE(m_children.size(), 5u);
  const auto tree = put_tree(true, m_children.size());
  ASSERT_FALSE(download_tree(*m_cas, m_root, m_dir / "before"))
      << "the store held the root Directory before the Tree was expanded";
  auto root = store_tree_directories(*m_cas, tree);
  ASSERT_TRUE(root) << root.error().to_string();
  EXPECT_EQ(*root, m_root);
  auto downloaded = download_tree(*m_cas, *root, m_dir / "out");
  ASSERT_TRUE(downloaded) << downloaded.error().to_string();
  const auto diff =
      test::run_shell("diff -r --no-dereference " + test::shell_quote((m_dir / "tree").string()) +
                      " " + test::shell_quote((m_dir / "out").string()));
  EXPECT_EQ(diff.exit_code, 0) << diff.out << diff.err;
}

TEST_F(OutputTreeTest, ATreeLackingAChildDownloadsNothing) {
  const auto tree = put_tree(true, m_children.size() - 1);
  auto root = store_tree_directories(*m_cas, tree);
  ASSERT_TRUE(root) << root.error().to_string();
  auto downloaded = download_tree(*m_cas, *root, m_dir / "out");
  ASSERT_FALSE(downloaded);
  EXPECT_NE(downloaded.error().message().find("is not in the store"), std::string::npos)
      << downloaded.error().to_string();
  EXPECT_FALSE(std::filesystem::exists(m_dir / "out"));
}

TEST_F(OutputTreeTest, BadTreesAreRefusedWithTheirDigest) {
  const auto no_root = put_tree(false, m_children.size());
  auto refused = store_tree_directories(*m_cas, no_root);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("no root Directory"), std::string::npos);
  EXPECT_NE(refused.error().message().find(no_root.to_string()), std::string::npos);

  // A root whose entries are not sorted is not a Directory REAPI allows.
  cache::WireWriter unsorted_root;
  for (const char* name : {"b", "a"}) {
    cache::WireWriter node;
    node.bytes_field(cache::reapi::k_node_name, name);
    node.bytes_field(cache::reapi::k_node_digest, encode_digest(cache::digest_of("x")));
    unsorted_root.bytes_field(cache::reapi::k_directory_files, node.bytes());
  }
  cache::WireWriter tree;
  tree.bytes_field(cache::reapi::k_tree_root, unsorted_root.bytes());
  auto digest = m_cas->put(as_bytes(tree.bytes()));
  ASSERT_TRUE(digest);
  refused = store_tree_directories(*m_cas, *digest);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message().find("root"), std::string::npos)
      << refused.error().to_string();

  const std::string garbage = "\xff\xff\xff";
  auto garbage_digest = m_cas->put(as_bytes(garbage));
  ASSERT_TRUE(garbage_digest);
  EXPECT_FALSE(store_tree_directories(*m_cas, *garbage_digest));

  auto missing = store_tree_directories(*m_cas, cache::digest_of("no such tree"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("is not in the store"), std::string::npos);
}

}  // namespace
}  // namespace forge::cas_tree
