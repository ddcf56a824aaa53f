#include "forge/cache/action_cache.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "forge/core/support/metrics.h"
#include "forge/test/temp_dir.h"

namespace forge::cache {
namespace {

// A hand-rolled protobuf encoder for the few ActionResult fields the tests need
// (REAPI v2 numbering), so the test does not share code with the decoder under test.
void varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void length_delimited(std::string& out, std::uint32_t field, std::string_view payload) {
  varint(out, (field << 3) | 2);
  varint(out, payload.size());
  out.append(payload);
}

std::string digest_message(const BlobDigest& digest) {
  std::string out;
  length_delimited(out, 1, digest.sha256.hex());
  varint(out, (2 << 3) | 0);
  varint(out, digest.size);
  return out;
}

struct Outputs {
  std::vector<BlobDigest> files;
  std::vector<BlobDigest> trees;
  std::optional<BlobDigest> stdout_digest, stderr_digest;
  int exit_code = 0;
};

std::string action_result(const Outputs& outputs) {
  std::string out;
  int n = 0;
  for (const auto& file : outputs.files) {
    std::string output_file;
    length_delimited(output_file, 1, "out/file" + std::to_string(n++));
    length_delimited(output_file, 2, digest_message(file));
    varint(output_file, (4 << 3) | 0);  // is_executable
    varint(output_file, 1);
    length_delimited(out, 2, output_file);
  }
  for (const auto& tree : outputs.trees) {
    std::string output_directory;
    length_delimited(output_directory, 1, "out/dir" + std::to_string(n++));
    length_delimited(output_directory, 3, digest_message(tree));
    length_delimited(out, 3, output_directory);
  }
  varint(out, (4 << 3) | 0);
  varint(out, static_cast<std::uint64_t>(outputs.exit_code));
  if (outputs.stdout_digest) length_delimited(out, 6, digest_message(*outputs.stdout_digest));
  if (outputs.stderr_digest) length_delimited(out, 8, digest_message(*outputs.stderr_digest));
  length_delimited(out, 9, std::string("\x0a\x06worker", 8));  // execution_metadata: skipped
  return out;
}

struct Fixture {
  test::TempDir dir;
  std::shared_ptr<CasStore> cas;
  std::shared_ptr<ActionCache> cache;

  explicit Fixture(ActionCacheOptions options = {}) {
    StoreOptions store_options;
    store_options.dir = dir / "store";
    store_options.fsync = false;
    cas = CasStore::open(store_options).value();
    cache = ActionCache::open(cas, options).value();
  }
  BlobDigest blob(const std::string& content) {
    return cas->put(std::as_bytes(std::span(content))).value();
  }
};

const std::string k_key(64, 'a');

TEST(ReferencedDigestsTest, FindsEveryOutputKind) {
  Outputs outputs;
  outputs.files = {digest_of("a.o"), digest_of("b.o")};
  outputs.trees = {digest_of("tree")};
  outputs.stdout_digest = digest_of("warning: x");
  outputs.stderr_digest = digest_of("");
  auto digests = referenced_digests(action_result(outputs));
  ASSERT_TRUE(digests) << digests.error().to_string();
  EXPECT_EQ(*digests,
            (std::vector<BlobDigest>{digest_of("a.o"), digest_of("b.o"), digest_of("tree"),
                                     digest_of("warning: x"), digest_of("")}));
  EXPECT_TRUE(referenced_digests("").value().empty());  // an empty ActionResult is valid
}

TEST(ReferencedDigestsTest, MalformedInputIsAValidationErrorWithTheReason) {
  for (const std::string& bad : {std::string("\x12\x05"
                                             "ab",
                                             4),                             // truncated field
                                 std::string("\x12", 1),                     // truncated length
                                 std::string("\x0b", 1),                     // group (wire type 3)
                                 std::string("\x12\x03\x12\x01\x00", 5)}) {  // bad nested digest
    auto digests = referenced_digests(bad);
    ASSERT_FALSE(digests);
    EXPECT_EQ(digests.error().category(), ErrorCategory::validation);
  }
  auto truncated =
      referenced_digests(std::string("\x12\x05"
                                     "ab",
                                     4));
  EXPECT_NE(truncated.error().message().find("truncated"), std::string::npos);
}

TEST(ActionCacheTest, AcHitOnlyWhenEveryReferencedBlobIsPresent) {
  Fixture f;
  Outputs outputs;
  outputs.files = {f.blob("object code")};
  outputs.stdout_digest = digest_of("compiler chatter");  // not uploaded yet
  const std::string value = action_result(outputs);
  ASSERT_TRUE(f.cache->put(Keyspace::ac, k_key, value));
  EXPECT_EQ(f.cache->get(Keyspace::ac, k_key).value(), std::nullopt)
      << "a missing stdout blob must make the entry a miss, not a broken hit";
  f.blob("compiler chatter");
  EXPECT_EQ(f.cache->get(Keyspace::ac, k_key).value(), value);
}

TEST(ActionCacheTest, MissingTreeDigestIsAMissAndValidationCanBeSwitchedOff) {
  Outputs outputs;
  outputs.trees = {digest_of("a tree that was never uploaded")};
  {
    Fixture f;
    ASSERT_TRUE(f.cache->put(Keyspace::ac, k_key, action_result(outputs)));
    EXPECT_FALSE(f.cache->lookup(Keyspace::ac, k_key).value());
  }
  Fixture unvalidated(ActionCacheOptions{.validate_ac = false});
  ASSERT_TRUE(unvalidated.cache->put(Keyspace::ac, k_key, action_result(outputs)));
  EXPECT_TRUE(unvalidated.cache->lookup(Keyspace::ac, k_key).value());
}

// REAPI v2 Tree { root = 1; children = 2 } of Directory { files = 1 } of FileNode
// { name = 1; digest = 2 }.
std::string directory_message(const std::vector<BlobDigest>& files) {
  std::string out;
  int n = 0;
  for (const auto& file : files) {
    std::string node;
    length_delimited(node, 1, "f" + std::to_string(n++));
    length_delimited(node, 2, digest_message(file));
    length_delimited(out, 1, node);
  }
  return out;
}

std::string tree_message(const std::vector<BlobDigest>& root,
                         const std::vector<std::vector<BlobDigest>>& children) {
  std::string out;
  length_delimited(out, 1, directory_message(root));
  for (const auto& child : children) length_delimited(out, 2, directory_message(child));
  return out;
}

TEST(TreeFileDigestsTest, FindsTheFilesOfTheRootAndEveryChild) {
  const std::string tree =
      tree_message({digest_of("a")}, {{digest_of("b"), digest_of("c")}, {}, {digest_of("d")}});
  EXPECT_EQ(
      tree_file_digests(tree).value(),
      (std::vector<BlobDigest>{digest_of("a"), digest_of("b"), digest_of("c"), digest_of("d")}));
  EXPECT_TRUE(tree_file_digests("").value().empty());
  auto bad = tree_file_digests(std::string("\x0a\x02\x0a\x00", 4));  // FileNode, no digest
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().category(), ErrorCategory::validation);
}

// Issue 16 item 1 (regression: the tree blob was checked, the files inside it never were).
TEST(ActionCacheTest, AcHitIsAMissWhenAFileInsideAnOutputDirectoryWasEvicted) {
  Fixture f;
  const auto inner = f.blob("a file inside the output directory");  // the oldest blob
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const auto kept = f.blob("another file inside it");
  const auto tree = f.blob(tree_message({kept}, {{inner}}));
  ASSERT_TRUE(f.cache->put(Keyspace::ac, k_key, action_result({.trees = {tree}})));
  // Real LRU eviction of exactly the oldest blob.
  const auto stats = f.cas->stats().value();
  ASSERT_EQ(f.cas->evict_now(stats.bytes - inner.size).value().evicted, 1u);
  ASSERT_FALSE(f.cas->contains(inner).value());
  ASSERT_TRUE(f.cas->contains(tree).value());
  EXPECT_FALSE(f.cache->lookup(Keyspace::ac, k_key).value());
}

// Issue 16 item 1: a hit is a use of everything it references, tree files included, so
// eviction takes something else instead of a piece of a result that was just served.
TEST(ActionCacheTest, AcHitKeepsTheFilesInsideItsTreesAliveInTheLru) {
  Fixture f;
  const auto inner = f.blob("file inside an output directory");
  const auto tree = f.blob(tree_message({}, {{inner}}));
  ASSERT_TRUE(f.cache->put(Keyspace::ac, k_key, action_result({.trees = {tree}})));
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const auto filler = f.blob("put after the result, used never again");
  f.cas->flush_access_times().value();
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ASSERT_TRUE(f.cache->lookup(Keyspace::ac, k_key).value());  // the hit
  const auto stats = f.cas->stats().value();
  ASSERT_TRUE(f.cas->evict_now(stats.bytes - filler.size));
  EXPECT_FALSE(f.cas->contains(filler).value());
  EXPECT_TRUE(f.cas->contains(inner).value());
  EXPECT_TRUE(f.cache->lookup(Keyspace::ac, k_key).value());
}

TEST(ActionCacheTest, AcRefusesValuesThatAreNotActionResultsButRawTakesAnything) {
  Fixture f;
  const std::string junk("\x0b\xff\xff", 3);
  auto refused = f.cache->put(Keyspace::ac, k_key, junk);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), ErrorCategory::validation);
  EXPECT_NE(refused.error().suggestions().at(0).find("raw"), std::string::npos);
  ASSERT_TRUE(f.cache->put(Keyspace::raw, k_key, junk));
  EXPECT_EQ(f.cache->get(Keyspace::raw, k_key).value(), junk);
  EXPECT_EQ(f.cache->get(Keyspace::ac, k_key).value(), std::nullopt) << "keyspaces are separate";
}

TEST(ActionCacheTest, KeysAreValidated) {
  Fixture f;
  for (const std::string& bad : {std::string(), std::string(257, 'a'), std::string("../etc"),
                                 std::string("a b"), std::string("k\n")}) {
    auto put = f.cache->put(Keyspace::raw, bad, "v");
    ASSERT_FALSE(put) << bad;
    EXPECT_EQ(put.error().category(), ErrorCategory::validation);
    EXPECT_FALSE(f.cache->lookup(Keyspace::raw, bad));
  }
  EXPECT_TRUE(f.cache->put(Keyspace::raw, "ccache-key_1.v2", "v"));
}

TEST(ActionCacheTest, OverwriteReplacesTheValueAndEntriesSurviveReopen) {
  test::TempDir dir;
  StoreOptions options;
  options.dir = dir / "store";
  options.fsync = false;
  {
    auto cas = CasStore::open(options).value();
    auto cache = ActionCache::open(cas).value();
    ASSERT_TRUE(cache->put(Keyspace::raw, k_key, "first"));
    ASSERT_TRUE(cache->put(Keyspace::raw, k_key, "second"));
  }
  auto cas = CasStore::open(options).value();
  auto cache = ActionCache::open(cas).value();
  EXPECT_EQ(cache->get(Keyspace::raw, k_key).value(), "second");
}

TEST(ActionCacheTest, EvictedValueIsAMiss) {
  Fixture f;
  ASSERT_TRUE(f.cache->put(Keyspace::raw, k_key, "value that will be evicted"));
  ASSERT_TRUE(f.cas->evict_now(0));
  EXPECT_EQ(f.cache->get(Keyspace::raw, k_key).value(), std::nullopt);
}

TEST(ActionCacheTest, CountsHitsAndMissesPerKeyspace) {
  Fixture f;
  auto& metrics = support::Metrics::global();
  auto& raw_hits = metrics.counter("cache_keyspace_hits_total{keyspace=\"raw\"}");
  auto& ac_misses = metrics.counter("cache_keyspace_misses_total{keyspace=\"ac\"}");
  const auto hits_before = raw_hits.value();
  const auto misses_before = ac_misses.value();
  ASSERT_TRUE(f.cache->put(Keyspace::raw, k_key, "v"));
  ASSERT_TRUE(f.cache->get(Keyspace::raw, k_key).value());
  ASSERT_FALSE(f.cache->get(Keyspace::ac, k_key).value());
  EXPECT_EQ(raw_hits.value(), hits_before + 1);
  EXPECT_EQ(ac_misses.value(), misses_before + 1);
}

// An ActionResult is served iff all its outputs are in the CAS, whichever subset was uploaded.
RC_GTEST_PROP(ActionCacheProperty, AcServedIffAllReferencedBlobsPresent,
              (const std::vector<std::string>& contents, const std::vector<bool>& uploaded)) {
  RC_PRE(contents.size() <= 8);
  Fixture f;
  Outputs outputs;
  bool all_present = true;
  for (std::size_t i = 0; i < contents.size(); ++i) {
    const std::string content = contents[i] + "#" + std::to_string(i);
    outputs.files.push_back(digest_of(content));
    const bool upload = i < uploaded.size() && uploaded[i];
    if (upload) f.blob(content);
    all_present = all_present && upload;
  }
  RC_ASSERT(f.cache->put(Keyspace::ac, k_key, action_result(outputs)).has_value());
  RC_ASSERT(f.cache->lookup(Keyspace::ac, k_key).value().has_value() == all_present);
}

}  // namespace
}  // namespace forge::cache
