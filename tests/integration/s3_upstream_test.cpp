// The s3:// upstream against a real S3 server: Ceph's RADOS Gateway, a one-node cluster on
// 127.0.0.1 started for this suite by scripts/s3-test-server.sh (~10 s; about 150 MB RSS).
#include <cstdlib>
#include <sstream>

#include <gtest/gtest.h>

#include "forge/cache/cas_store.h"
#include "forge/cache/upstream_tier.h"
#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge::cache {
namespace {

using namespace std::chrono_literals;

class S3UpstreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    s_dir = new test::TempDir();
    const auto started =
        test::run_shell(std::string(FORGE_SOURCE_DIR) + "/scripts/s3-test-server.sh start " +
                        test::shell_quote((*s_dir / "ceph").string()));
    s_started = started.exit_code == 0;
    if (!s_started) {
      s_failure = started.err;
      return;
    }
    std::istringstream lines(started.out);
    for (std::string line; std::getline(lines, line);) {
      const auto equals = line.find('=');
      if (equals == std::string::npos) continue;
      const std::string name = line.substr(0, equals), value = line.substr(equals + 1);
      if (name == "S3_ENDPOINT") {
        s_endpoint = value;
      } else {
        ::setenv(name.c_str(), value.c_str(), 1);
      }
    }
  }
  static void TearDownTestSuite() {
    (void)test::run_shell(std::string(FORGE_SOURCE_DIR) + "/scripts/s3-test-server.sh stop " +
                          test::shell_quote((*s_dir / "ceph").string()));
    delete s_dir;
  }

  void SetUp() override {
    ASSERT_TRUE(s_started) << "the S3 server did not start: " << s_failure;
    // One bucket per test, made with curl's own SigV4.
    m_bucket = "forge-" + std::to_string(++s_buckets);
    const auto made = test::run_shell(
        "curl -s -o /dev/null -w '%{http_code}' -X PUT --aws-sigv4 aws:amz:us-east-1:s3 --user " +
        test::shell_quote(std::string(std::getenv("AWS_ACCESS_KEY_ID")) + ":" +
                          std::getenv("AWS_SECRET_ACCESS_KEY")) +
        " -H 'x-amz-content-sha256: "
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' " +
        s_endpoint + "/" + m_bucket);
    ASSERT_EQ(made.out, "200");
  }

  UpstreamOptions options(const std::string& prefix = "ci") const {
    UpstreamOptions options;
    options.url = "s3://" + m_bucket + "/" + prefix;
    options.s3_endpoint = s_endpoint;
    options.request_timeout = 20s;
    return options;
  }

  std::shared_ptr<CasStore> store(const std::string& name) {
    StoreOptions options;
    options.dir = m_dir / name;
    options.fsync = false;
    return CasStore::open(options).value();
  }

  std::shared_ptr<UpstreamTier> tier(CasStore& store, const std::string& name) {
    TierOptions options;
    options.workers = 0;
    options.queue.dir = m_dir / (name + "-queue");
    options.queue.fsync = false;
    auto opened = UpstreamTier::open(options, open_upstream(this->options()).value()).value();
    opened->bind(store);
    return opened;
  }

  static inline test::TempDir* s_dir = nullptr;
  static inline bool s_started = false;
  static inline std::string s_failure;
  static inline std::string s_endpoint;
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

}  // namespace
}  // namespace forge::cache
