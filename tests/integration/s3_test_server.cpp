#include "s3_test_server.h"

#include <cstdlib>
#include <sstream>

#include <gtest/gtest.h>

namespace forge::test {
namespace {

constexpr const char* k_empty_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string script() {
  return shell_quote(std::string(FORGE_SOURCE_DIR) + "/scripts/s3-test-server.sh");
}

}  // namespace

S3TestServer::S3TestServer() {
  const auto started = run_shell(script() + " start " + shell_quote((m_dir / "ceph").string()));
  if (started.exit_code != 0) {
    m_failure =
        started.err.empty() ? "exit code " + std::to_string(started.exit_code) : started.err;
    return;
  }
  std::istringstream lines(started.out);
  std::string endpoint;
  for (std::string line; std::getline(lines, line);) {
    const auto equals = line.find('=');
    if (equals == std::string::npos) continue;
    const std::string name = line.substr(0, equals), value = line.substr(equals + 1);
    if (name == "S3_ENDPOINT") {
      endpoint = value;
    } else {
      ::setenv(name.c_str(), value.c_str(), 1);
    }
  }
  if (endpoint.empty()) m_failure = "the script printed no S3_ENDPOINT: " + started.out;
  m_endpoint = endpoint;
}

S3TestServer::~S3TestServer() {
  (void)run_shell(script() + " stop " + shell_quote((m_dir / "ceph").string()));
}

ProcessResult S3TestServer::curl(const std::string& method, const std::string& path_and_query,
                                 const std::string& curl_args) const {
  const char* access = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  return run_shell("curl -s " + (method == "HEAD" ? std::string("-I") : "-X " + method) +
                   " --aws-sigv4 aws:amz:us-east-1:s3 --user " +
                   shell_quote(std::string(access ? access : "") + ":" + (secret ? secret : "")) +
                   " -H 'x-amz-content-sha256: " + k_empty_sha256 + "' " + curl_args + " " +
                   shell_quote(m_endpoint + path_and_query));
}

bool S3TestServer::make_bucket(const std::string& bucket) const {
  const auto made = curl("PUT", "/" + bucket, "-o /dev/null -w '%{http_code}'");
  EXPECT_EQ(made.out, "200") << "creating bucket " << bucket << ": " << made.err;
  return made.out == "200";
}

std::vector<std::string> S3TestServer::list_keys(const std::string& bucket,
                                                 const std::string& prefix) const {
  // Percent-encoded as SigV4's canonical query wants it (curl signs the query as written).
  std::string encoded;
  for (const char c : prefix) encoded += c == '/' ? std::string("%2F") : std::string(1, c);
  const std::string listing = curl("GET", "/" + bucket + "?list-type=2&prefix=" + encoded).out;
  EXPECT_NE(listing.find("ListBucketResult"), std::string::npos) << listing;
  std::vector<std::string> keys;
  for (auto at = listing.find("<Key>"); at != std::string::npos;
       at = listing.find("<Key>", at + 1)) {
    const auto end = listing.find("</Key>", at);
    if (end == std::string::npos) break;
    keys.push_back(listing.substr(at + 5, end - at - 5));
  }
  return keys;
}

std::vector<std::string> S3TestServer::upstream_flags(const std::string& bucket,
                                                      const std::string& prefix) const {
  return {"--upstream", "s3://" + bucket + "/" + prefix, "--s3-endpoint", m_endpoint, "--s3-region",
          "us-east-1"};
}

}  // namespace forge::test
