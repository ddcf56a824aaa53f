// The s3:// upstream against a real S3 server: Ceph's RADOS Gateway, a one-node cluster on
// 127.0.0.1 started for this suite (s3_test_server.h).
#include <fcntl.h>

#include <cstdlib>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "forge/cache/cas_store.h"
#include "forge/cache/upstream_tier.h"
#include "forge/core/support/unique_fd.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"
#include "s3_test_server.h"

namespace forge::cache {
namespace {

using namespace std::chrono_literals;

class S3UpstreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { s_server = new test::S3TestServer(); }
  static void TearDownTestSuite() { delete s_server; }

  void SetUp() override {
    ASSERT_TRUE(s_server->started()) << "the S3 server did not start: " << s_server->failure();
    m_bucket = "forge-" + std::to_string(++s_buckets);  // one bucket per test
    ASSERT_TRUE(s_server->make_bucket(m_bucket));
  }

  UpstreamOptions options(const std::string& prefix = "ci") const {
    UpstreamOptions options;
    options.url = "s3://" + m_bucket + "/" + prefix;
    options.s3_endpoint = s_server->endpoint();
    options.request_timeout = 20s;
    return options;
  }

  std::shared_ptr<CasStore> store(const std::string& name) {
    StoreOptions options;
    options.dir = m_dir / name;
    options.fsync = false;
    return CasStore::open(options).value();
  }

  std::shared_ptr<UpstreamTier> tier(CasStore& store, const std::string& name,
                                     std::optional<UpstreamOptions> upstream = {}) {
    TierOptions options;
    options.workers = 0;
    options.queue.dir = m_dir / (name + "-queue");
    options.queue.fsync = false;
    auto opened =
        UpstreamTier::open(options, open_upstream(upstream.value_or(this->options())).value())
            .value();
    opened->bind(store);
    return opened;
  }

  // curl with its own SigV4 against the test bucket: PATH_AND_QUERY after the bucket name.
  std::string s3_curl(const std::string& method, const std::string& path_and_query) const {
    return s_server->curl(method, "/" + m_bucket + path_and_query).out;
  }
  // Multipart uploads begun in the bucket and neither completed nor aborted.
  int pending_uploads() const {
    const std::string listing = s3_curl("GET", "?uploads=");
    EXPECT_NE(listing.find("ListMultipartUploadsResult"), std::string::npos) << listing;
    int count = 0;
    for (auto at = listing.find("<Upload>"); at != std::string::npos;
         at = listing.find("<Upload>", at + 1)) {
      ++count;
    }
    return count;
  }
  // Small parts, so a test's blob of ~12 MiB is a multipart upload of three (S3's
  // smallest part is 5 MiB).
  UpstreamOptions multipart_options() const {
    auto options = this->options();
    options.s3_multipart_threshold = 8 << 20;
    options.s3_part_size = 5 << 20;
    return options;
  }
  static std::string pattern(std::size_t size) {
    std::string bytes(size, '\0');
    std::uint32_t x = 12345;
    for (auto& c : bytes) {
      x = x * 1103515245 + 12345;
      c = static_cast<char>(x >> 24);
    }
    return bytes;
  }
  std::string read_back(Upstream& upstream, const std::string& sha) {
    std::string back;
    auto got = upstream.get(UpstreamSpace::cas, sha, [&](std::span<const std::byte> data) {
      back.append(reinterpret_cast<const char*>(data.data()), data.size());
      return ok();
    });
    EXPECT_TRUE(got && *got);
    return back;
  }

  static inline test::S3TestServer* s_server = nullptr;
  static inline int s_buckets = 0;
  test::TempDir m_dir;
  std::string m_bucket;
};

TEST_F(S3UpstreamTest, PutHeadGetOfBlobsAndActionEntries) {
  auto upstream = open_upstream(options()).value();
  const std::string blob(1 << 20, 'b');
  const std::string sha = hash::sha256_of(blob).hex();
  EXPECT_FALSE(upstream->contains(UpstreamSpace::cas, sha).value());
  auto put = upstream->put(UpstreamSpace::cas, sha,
                           UploadBody{.bytes = blob, .size = blob.size(), .sha256_hex = sha});
  ASSERT_TRUE(put) << put.error().to_string();
  EXPECT_TRUE(upstream->contains(UpstreamSpace::cas, sha).value());
  std::string back;
  ASSERT_TRUE(upstream
                  ->get(UpstreamSpace::cas, sha,
                        [&](std::span<const std::byte> data) {
                          back.append(reinterpret_cast<const char*>(data.data()), data.size());
                          return ok();
                        })
                  .value());
  EXPECT_EQ(back, blob);
  const std::string value = "action result bytes";
  ASSERT_TRUE(upstream->put(
      UpstreamSpace::ac, std::string(64, 'a'),
      UploadBody{
          .bytes = value, .size = value.size(), .sha256_hex = hash::sha256_of(value).hex()}));
  EXPECT_TRUE(upstream->contains(UpstreamSpace::ac, std::string(64, 'a')).value());
  EXPECT_FALSE(upstream->contains(UpstreamSpace::ac, std::string(64, 'c')).value());
}

TEST_F(S3UpstreamTest, TwoStoresShareOneBucket) {
  auto a = store("a");
  auto b = store("b");
  auto tier_a = tier(*a, "a");
  auto tier_b = tier(*b, "b");
  std::vector<BlobDigest> digests;
  for (int i = 0; i < 20; ++i) {
    const std::string content = "output " + std::to_string(i) + std::string(i * 1000, 'x');
    digests.push_back(a->put(std::as_bytes(std::span(content))).value());
    ASSERT_TRUE(tier_a->stored(UpstreamSpace::cas, digests.back().sha256.hex(), digests.back()));
  }
  EXPECT_EQ(tier_a->drain_once().value(), 20u);
  for (const auto& digest : digests) {
    EXPECT_FALSE(b->contains(digest).value());
    ASSERT_TRUE(tier_b->fetch_blob(digest.sha256, digest.size).value());
    EXPECT_EQ(b->get(digest).value(), a->get(digest).value());
  }
  EXPECT_EQ(tier_b->stats().fetch_hits, 20u);
  tier_a->stop();
  tier_b->stop();
}

TEST_F(S3UpstreamTest, WrongCredentialsAreAConfigurationError) {
  const std::string saved = std::getenv("AWS_SECRET_ACCESS_KEY");
  ::setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret", 1);
  auto upstream = open_upstream(options());
  ::setenv("AWS_SECRET_ACCESS_KEY", saved.c_str(), 1);
  ASSERT_TRUE(upstream);
  auto refused = (*upstream)->contains(UpstreamSpace::cas, std::string(64, '0'));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), ErrorCategory::configuration);
}

TEST_F(S3UpstreamTest, ALargeBlobGoesUpInPartsAndReadsBackWhole) {
  auto upstream = open_upstream(multipart_options()).value();
  const std::string blob = pattern((12 << 20) + 4321);  // parts of 5, 5 and 2 MiB
  const std::string sha = hash::sha256_of(blob).hex();
  // From a file descriptor, as the upload queue sends local blobs.
  const auto file = m_dir.write_file("blob", blob);
  const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  auto put = upstream->put(UpstreamSpace::cas, sha,
                           UploadBody{.fd = fd.get(), .size = blob.size(), .sha256_hex = sha});
  ASSERT_TRUE(put) << put.error().to_string();
  EXPECT_TRUE(upstream->contains(UpstreamSpace::cas, sha).value());
  EXPECT_EQ(read_back(*upstream, sha), blob);
  // S3's ETag of a multipart object ends in -<parts>.
  EXPECT_NE(s3_curl("HEAD", "/ci/cas/" + sha).find("-3\""), std::string::npos);
  EXPECT_EQ(pending_uploads(), 0);
  // Through a tier: stored in A, drained, read through B.
  auto a = store("a");
  auto b = store("b");
  auto tier_a = tier(*a, "a", multipart_options());
  const std::string other = pattern((9 << 20) + 7) + "x";
  const auto digest = a->put(std::as_bytes(std::span(other))).value();
  ASSERT_TRUE(tier_a->stored(UpstreamSpace::cas, digest.sha256.hex(), digest));
  EXPECT_EQ(tier_a->drain_once().value(), 1u);
  auto tier_b = tier(*b, "b");
  ASSERT_TRUE(tier_b->fetch_blob(digest.sha256, digest.size).value());
  EXPECT_EQ(b->get(digest).value(), other);
  tier_a->stop();
  tier_b->stop();
}

// The local blob turns out shorter than its size (truncated on disk) in the second part:
// the upload fails, is aborted, and no object, whole or partial, appears under the key.
TEST_F(S3UpstreamTest, AFailedPartAbortsTheUploadAndNothingBecomesVisible) {
  auto upstream = open_upstream(multipart_options()).value();
  const std::string blob = pattern(12 << 20);
  const std::string sha = hash::sha256_of(blob).hex();
  const auto file = m_dir.write_file("truncated", blob.substr(0, 7 << 20));
  const UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd.valid());
  auto put = upstream->put(UpstreamSpace::cas, sha,
                           UploadBody{.fd = fd.get(), .size = blob.size(), .sha256_hex = sha});
  ASSERT_FALSE(put);
  EXPECT_NE(put.error().to_string().find("pread"), std::string::npos) << put.error().to_string();
  EXPECT_FALSE(upstream->contains(UpstreamSpace::cas, sha).value());
  EXPECT_EQ(pending_uploads(), 0);
  // The same key uploads fine afterwards.
  ASSERT_TRUE(upstream->put(UpstreamSpace::cas, sha,
                            UploadBody{.bytes = blob, .size = blob.size(), .sha256_hex = sha}));
  EXPECT_EQ(read_back(*upstream, sha), blob);
  EXPECT_EQ(pending_uploads(), 0);
}

TEST_F(S3UpstreamTest, TooSmallAPartSizeIsAConfigurationError) {
  auto options = this->options();
  options.s3_part_size = 1 << 20;
  auto opened = open_upstream(options);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().category(), ErrorCategory::configuration);
  EXPECT_NE(opened.error().to_string().find("5 MiB"), std::string::npos);
}

// `forge cache push` from one store into the bucket, `forge cache pull` into an empty one.
TEST_F(S3UpstreamTest, CachePushAndPullMoveBlobsThroughTheBucket) {
  const std::vector<std::string> blobs = {"first output", std::string(100'000, 'z')};
  {
    auto local = store("pushed");
    for (const auto& blob : blobs) ASSERT_TRUE(local->put(std::as_bytes(std::span(blob))));
  }
  const std::string upstream = " --upstream s3://" + m_bucket + "/ci --s3-endpoint " +
                               s_server->endpoint() + " --s3-region us-east-1";
  const std::string forge = test::shell_quote(test::forge_binary().string());
  const auto pushed = test::run_shell(forge + " cache push" + upstream + " --dir " +
                                      test::shell_quote((m_dir / "pushed").string()));
  ASSERT_EQ(pushed.exit_code, 0) << pushed.err;
  const auto report = nlohmann::json::parse(pushed.out, nullptr, false);
  EXPECT_EQ(report["blobs"]["copied"], 2) << pushed.out;
  std::string wanted;
  for (const auto& blob : blobs) {
    wanted += " " + hash::sha256_of(blob).hex() + "/" + std::to_string(blob.size());
  }
  const auto pulled = test::run_shell(forge + " cache pull" + wanted + upstream + " --dir " +
                                      test::shell_quote((m_dir / "pulled").string()));
  ASSERT_EQ(pulled.exit_code, 0) << pulled.err;
  EXPECT_EQ(nlohmann::json::parse(pulled.out, nullptr, false)["blobs"]["copied"], 2) << pulled.out;
  auto back = store("pulled");
  for (const auto& blob : blobs) {
    const auto digest = BlobDigest{hash::sha256_of(blob), blob.size()};
    EXPECT_EQ(back->get(digest).value(), blob);
  }
}

}  // namespace
}  // namespace forge::cache
