// The s3:// upstream's requests, seen by a canned server on 127.0.0.1 (the real S3 server,
// Ceph RGW, is in tests/integration/s3_upstream_test.cpp).
#include <cstdlib>
#include <mutex>

#include <gtest/gtest.h>

#include "canned_http_server.h"
#include "forge/cache/upstream.h"
#include "forge/core/hash/digest.h"
#include "forge/test/temp_dir.h"

namespace forge::cache {
namespace {

// Sets an environment variable for one test and restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : m_name(name) {
    if (const char* old = std::getenv(name)) m_old = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (m_old) {
      ::setenv(m_name, m_old->c_str(), 1);
    } else {
      ::unsetenv(m_name);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* m_name;
  std::optional<std::string> m_old;
};

class UpstreamS3Test : public ::testing::Test {
 protected:
  test::TempDir m_dir;
  ScopedEnv m_key{"AWS_ACCESS_KEY_ID", "AKIDFORGE"};
  ScopedEnv m_secret{"AWS_SECRET_ACCESS_KEY", "secretforge"};
  ScopedEnv m_token{"AWS_SESSION_TOKEN", nullptr};
  ScopedEnv m_file{"AWS_SHARED_CREDENTIALS_FILE", nullptr};
  ScopedEnv m_profile{"AWS_PROFILE", nullptr};
  ScopedEnv m_region{"AWS_REGION", nullptr};
  ScopedEnv m_default_region{"AWS_DEFAULT_REGION", nullptr};
};

TEST_F(UpstreamS3Test, RequestsArePathStyleSignedAndCarryThePayloadHash) {
  std::mutex mutex;
  std::vector<std::string> heads;
  test::CannedHttpServer canned([&](const std::string& head) -> std::optional<std::string> {
    std::lock_guard lock(mutex);
    heads.push_back(head);
    return test::canned_response(head.starts_with("HEAD") ? 404 : 200, "");
  });
  UpstreamOptions options;
  options.url = "s3://bucket/some/prefix";
  options.s3_endpoint = canned.url();
  options.s3_region = "eu-west-3";
  auto upstream = open_upstream(options).value();
  const std::string body = "blob bytes";
  const std::string sha = hash::sha256_of(body).hex();
  ASSERT_TRUE(upstream->put(UpstreamSpace::cas, sha,
                            UploadBody{.bytes = body, .size = body.size(), .sha256_hex = sha}));
  EXPECT_FALSE(upstream->contains(UpstreamSpace::ac, "key").value());
  std::lock_guard lock(mutex);
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_TRUE(heads[0].starts_with("PUT /bucket/some/prefix/cas/" + sha + " HTTP/1.1\r\n"));
  EXPECT_NE(heads[0].find("x-amz-content-sha256: " + sha + "\r\n"), std::string::npos);
  EXPECT_NE(heads[0].find("Authorization: AWS4-HMAC-SHA256 Credential=AKIDFORGE/"),
            std::string::npos);
  EXPECT_NE(heads[0].find("/eu-west-3/s3/aws4_request"), std::string::npos);
  // The payload hash is signed, not just sent.
  const auto signed_headers = heads[0].find("SignedHeaders=");
  ASSERT_NE(signed_headers, std::string::npos);
  EXPECT_NE(heads[0].find("x-amz-content-sha256", signed_headers), std::string::npos);
  EXPECT_TRUE(heads[1].starts_with("HEAD /bucket/some/prefix/ac/key HTTP/1.1\r\n"));
  EXPECT_NE(heads[1].find("x-amz-content-sha256: "
                          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            std::string::npos);
  EXPECT_EQ(upstream->describe().find("secretforge"), std::string::npos);
}

TEST_F(UpstreamS3Test, CredentialsComeFromTheSharedFileProfile) {
  ScopedEnv no_key("AWS_ACCESS_KEY_ID", nullptr);
  ScopedEnv no_secret("AWS_SECRET_ACCESS_KEY", nullptr);
  const auto file = m_dir.write_file("credentials",
                                     "[default]\naws_access_key_id = WRONG\n"
                                     "aws_secret_access_key = wrong\n\n[ci]\n"
                                     "aws_access_key_id = AKIDFILE\n"
                                     "aws_secret_access_key = fromfile\n"
                                     "aws_session_token = TOKEN123\n");
  ScopedEnv file_env("AWS_SHARED_CREDENTIALS_FILE", file.c_str());
  ScopedEnv profile("AWS_PROFILE", "ci");
  std::mutex mutex;
  std::string head;
  test::CannedHttpServer canned([&](const std::string& request) -> std::optional<std::string> {
    std::lock_guard lock(mutex);
    head = request;
    return test::canned_response(404, "");
  });
  UpstreamOptions options;
  options.url = "s3://bucket";
  options.s3_endpoint = canned.url();
  auto upstream = open_upstream(options).value();
  EXPECT_FALSE(upstream->contains(UpstreamSpace::cas, std::string(64, 'a')).value());
  std::lock_guard lock(mutex);
  EXPECT_TRUE(head.starts_with("HEAD /bucket/cas/"));
  EXPECT_NE(head.find("Credential=AKIDFILE/"), std::string::npos);
  EXPECT_NE(head.find("/us-east-1/s3/"), std::string::npos);  // no region set anywhere
  EXPECT_NE(head.find("x-amz-security-token: TOKEN123"), std::string::npos);
}

TEST_F(UpstreamS3Test, MissingCredentialsAreAConfigurationError) {
  ScopedEnv no_key("AWS_ACCESS_KEY_ID", nullptr);
  ScopedEnv no_secret("AWS_SECRET_ACCESS_KEY", nullptr);
  ScopedEnv file_env("AWS_SHARED_CREDENTIALS_FILE", (m_dir / "absent").c_str());
  UpstreamOptions options;
  options.url = "s3://bucket";
  auto opened = open_upstream(options);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().category(), ErrorCategory::configuration);
}

TEST_F(UpstreamS3Test, CredentialsInTheUrlOrABadEndpointAreRefused) {
  UpstreamOptions in_url;
  in_url.url = "s3://key:secret@bucket";
  EXPECT_FALSE(open_upstream(in_url));
  UpstreamOptions endpoint;
  endpoint.url = "s3://bucket";
  endpoint.s3_endpoint = "http://127.0.0.1:1/path";
  auto refused = open_upstream(endpoint);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().category(), ErrorCategory::configuration);
}

}  // namespace
}  // namespace forge::cache
