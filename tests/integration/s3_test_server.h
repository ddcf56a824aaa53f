#pragma once
// A real S3 server for the s3:// upstream tests: Ceph's RADOS Gateway, a one-node cluster on
// 127.0.0.1 in a temp dir, started by scripts/s3-test-server.sh (~10 s; about 150 MB RSS)
// and stopped (rgw, then the OSD, then the mon) by the destructor.
//
// The constructor puts AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of the server's user into
// this process's environment, so the s3 upstream and every `forge` child find them there
// (never on a command line). Not thread-safe; one per test suite.

#include <string>
#include <vector>

#include "forge/test/process.h"
#include "forge/test/temp_dir.h"

namespace forge::test {

class S3TestServer {
 public:
  S3TestServer();  // blocks until S3 answers or the script gives up
  ~S3TestServer();
  S3TestServer(const S3TestServer&) = delete;
  S3TestServer& operator=(const S3TestServer&) = delete;

  bool started() const { return !m_endpoint.empty(); }
  const std::string& failure() const { return m_failure; }    // the script's stderr
  const std::string& endpoint() const { return m_endpoint; }  // http://127.0.0.1:PORT

  // curl with its own SigV4 (a signed empty-body x-amz-content-sha256, as RGW requires) on
  // ENDPOINT + path_and_query; `method` HEAD prints the headers, anything else the body.
  // `curl_args` (shell words) go before the URL.
  ProcessResult curl(const std::string& method, const std::string& path_and_query,
                     const std::string& curl_args = {}) const;
  // Creates a bucket; false (and a test failure) unless S3 answers 200.
  bool make_bucket(const std::string& bucket) const;
  // The keys in `bucket` under `prefix` (ListObjectsV2; up to 1000).
  std::vector<std::string> list_keys(const std::string& bucket, const std::string& prefix) const;
  // `forge serve` flags for an upstream at s3://BUCKET/PREFIX of this server.
  std::vector<std::string> upstream_flags(const std::string& bucket,
                                          const std::string& prefix) const;

 private:
  TempDir m_dir;
  std::string m_endpoint;
  std::string m_failure;
};

}  // namespace forge::test
