// S3Upstream: objects PREFIX/cas/<sha256> and PREFIX/ac/<key> in one bucket, path-style
// (ENDPOINT/BUCKET/KEY, which every S3-compatible server accepts), signed with AWS
// Signature V4 by libcurl (CURLOPT_AWS_SIGV4). libcurl does not add the
// x-amz-content-sha256 header S3 servers require (Ceph RGW refuses requests without it),
// so every request sends it — the body's SHA-256, which for a CAS blob is its name — and
// libcurl signs it with the other headers.
//
// Credentials never come from the command line: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
// and AWS_SESSION_TOKEN, else the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
// ~/.aws/credentials), profile AWS_PROFILE or "default".
// One PUT per object: S3 takes up to 5 GiB in one PUT, above the store's 4 GiB blob limit.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "upstream_curl.h"
#include "upstream_url.h"

namespace forge::cache {
namespace {

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;
};

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::string(value) : std::string();
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return std::string(text.substr(first, last - first + 1));
}

// The profile's keys from an INI-style credentials file; empty fields when absent.
Credentials read_credentials_file(const std::filesystem::path& path, const std::string& profile) {
  Credentials found;
  std::ifstream in(path);
  std::string line;
  bool in_profile = false;
  while (std::getline(in, line)) {
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (text.front() == '[' && text.back() == ']') {
      in_profile = trim(std::string_view(text).substr(1, text.size() - 2)) == profile;
      continue;
    }
    const auto equals = text.find('=');
    if (!in_profile || equals == std::string::npos) continue;
    const std::string key = trim(std::string_view(text).substr(0, equals));
    const std::string value = trim(std::string_view(text).substr(equals + 1));
    if (key == "aws_access_key_id") found.access_key = value;
    if (key == "aws_secret_access_key") found.secret_key = value;
    if (key == "aws_session_token") found.session_token = value;
  }
  return found;
}

Result<Credentials> load_credentials() {
  Credentials credentials{env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"),
                          env("AWS_SESSION_TOKEN")};
  if (!credentials.access_key.empty() && !credentials.secret_key.empty()) return credentials;
  std::filesystem::path file = env("AWS_SHARED_CREDENTIALS_FILE");
  if (file.empty() && !env("HOME").empty())
    file = std::filesystem::path(env("HOME")) / ".aws/credentials";
  const std::string profile = env("AWS_PROFILE").empty() ? "default" : env("AWS_PROFILE");
  if (!file.empty()) credentials = read_credentials_file(file, profile);
  if (credentials.access_key.empty() || credentials.secret_key.empty()) {
    return fail(Error(ErrorCategory::configuration, "no S3 credentials were found")
                    .with_suggestion(
                        fmt::format("set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add "
                                    "aws_access_key_id/aws_secret_access_key to profile [{}] of {}",
                                    profile, file.empty() ? "~/.aws/credentials" : file.string())));
  }
  return credentials;
}

std::string region_of(const UpstreamOptions& options) {
  if (!options.s3_region.empty()) return options.s3_region;
  for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (auto value = env(name); !value.empty()) return value;
  }
  return "us-east-1";
}

class S3Upstream final : public Upstream {
 public:
  S3Upstream(const UpstreamOptions& options, const ParsedUrl& url, Credentials credentials,
             std::string endpoint, std::string region)
      : m_client(options),
        m_objects(url.path.empty() ? fmt::format("{}/{}", endpoint, url.host)
                                   : fmt::format("{}/{}/{}", endpoint, url.host, url.path)),
        m_described(fmt::format("{} (endpoint {}, region {})", url.base, endpoint, region)),
        m_sigv4(fmt::format("aws:amz:{}:s3", region)),
        m_credentials(std::move(credentials)) {}

  Result<bool> get(UpstreamSpace space, std::string_view key, const BodySink& sink,
                   std::optional<std::uint64_t> /*size*/) override {
    auto request = make(CurlRequest::Method::get, space, key, k_empty_sha256);
    request.sink = &sink;
    FORGE_TRY(auto response, m_client.perform(request));
    if (response.status == 404) return false;
    if (response.status != 200) return fail(status_error(response, "GET", where(space, key)));
    return true;
  }

  Result<bool> contains(UpstreamSpace space, std::string_view key,
                        std::optional<std::uint64_t> /*size*/) override {
    auto request = make(CurlRequest::Method::head, space, key, k_empty_sha256);
    FORGE_TRY(auto response, m_client.perform(request));
    if (response.status == 404) return false;
    if (response.status != 200) return fail(status_error(response, "HEAD", where(space, key)));
    return true;
  }

  Result<void> put(UpstreamSpace space, std::string_view key, const UploadBody& body) override {
    auto request = make(CurlRequest::Method::put, space, key, body.sha256_hex);
    request.body = &body;
    // No "Expect:" override here: libcurl would sign the empty header, and the server,
    // which never sees it, computes another signature (RGW: SignatureDoesNotMatch).
    FORGE_TRY(auto response, m_client.perform(request));
    if (response.status != 200) return fail(status_error(response, "PUT", where(space, key)));
    return ok();
  }

  std::string describe() const override { return m_described; }
  std::size_t live_connections() const override { return m_client.live_connections(); }

 private:
  // SHA-256 of the empty body of GET and HEAD.
  static constexpr std::string_view k_empty_sha256 =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  CurlRequest make(CurlRequest::Method method, UpstreamSpace space, std::string_view key,
                   std::string_view payload_sha256) const {
    CurlRequest request{.method = method,
                        .url = join_url(m_objects, upstream_space_name(space), key)};
    request.userpwd = m_credentials.access_key + ":" + m_credentials.secret_key;
    request.aws_sigv4 = m_sigv4;
    request.headers.push_back(fmt::format("x-amz-content-sha256: {}", payload_sha256));
    if (!m_credentials.session_token.empty()) {
      request.headers.push_back("x-amz-security-token: " + m_credentials.session_token);
    }
    return request;
  }
  std::string where(UpstreamSpace space, std::string_view key) const {
    return fmt::format("{}/{}/{}", m_described.substr(0, m_described.find(' ')),
                       upstream_space_name(space), key);
  }

  CurlClient m_client;
  std::string m_objects;    // ENDPOINT/BUCKET[/PREFIX]
  std::string m_described;  // s3://BUCKET/PREFIX (endpoint ..., region ...)
  std::string m_sigv4;
  Credentials m_credentials;
};

}  // namespace

Result<std::unique_ptr<Upstream>> open_s3_upstream(const UpstreamOptions& options) {
  FORGE_TRY(auto url, parse_upstream_url(options.url));
  if (!url.userinfo.empty()) {
    return fail(
        Error(ErrorCategory::configuration, "S3 credentials do not belong in the upstream URL")
            .with_suggestion("remove them from the URL; set AWS_ACCESS_KEY_ID and "
                             "AWS_SECRET_ACCESS_KEY or use ~/.aws/credentials"));
  }
  FORGE_TRY(auto credentials, load_credentials());
  const std::string region = region_of(options);
  std::string endpoint = options.s3_endpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  if (endpoint.empty()) endpoint = fmt::format("https://s3.{}.amazonaws.com", region);
  return std::make_unique<S3Upstream>(options, url, std::move(credentials), endpoint, region);
}

}  // namespace forge::cache
