// HttpUpstream: the Bazel HTTP cache protocol (upstream.h).
#include <cstdlib>

#include <fmt/format.h>

#include "upstream_curl.h"
#include "upstream_url.h"

namespace forge::cache {
namespace {

class HttpUpstream final : public Upstream {
 public:
  HttpUpstream(const UpstreamOptions& options, ParsedUrl url, const std::string& token)
      : m_client(options), m_url(std::move(url)) {
    m_userpwd = !options.basic_auth.empty() ? options.basic_auth : m_url.userinfo;
    if (m_userpwd.empty()) {
      if (const char* env = std::getenv("FORGE_UPSTREAM_AUTH"); env != nullptr) m_userpwd = env;
    }
    // Basic auth wins: a server takes one Authorization header.
    if (m_userpwd.empty() && !token.empty()) m_bearer = "Authorization: Bearer " + token;
  }

  Result<bool> get(UpstreamSpace space, std::string_view key, const BodySink& sink,
                   std::optional<std::uint64_t> /*size*/) override {
    CurlRequest request{.method = CurlRequest::Method::get, .url = url(space, key)};
    request.sink = &sink;
    request.userpwd = m_userpwd;
    if (!m_bearer.empty()) request.headers.push_back(m_bearer);
    FORGE_TRY(auto response, m_client.perform(request));
    if (response.status == 404) return false;
    if (response.status != 200) return fail(status_error(response, "GET", describe(space, key)));
    return true;
  }

  Result<bool> contains(UpstreamSpace space, std::string_view key,
                        std::optional<std::uint64_t> /*size*/) override {
    CurlRequest request{.method = CurlRequest::Method::head, .url = url(space, key)};
    request.userpwd = m_userpwd;
    if (!m_bearer.empty()) request.headers.push_back(m_bearer);
    FORGE_TRY(auto response, m_client.perform(request));
    if (response.status == 404) return false;
    if (response.status != 200) return fail(status_error(response, "HEAD", describe(space, key)));
    return true;
  }

  Result<void> put(UpstreamSpace space, std::string_view key, const UploadBody& body) override {
    CurlRequest request{.method = CurlRequest::Method::put, .url = url(space, key)};
    request.body = &body;
    request.userpwd = m_userpwd;
    if (!m_bearer.empty()) request.headers.push_back(m_bearer);
    // A server that answers 100-continue slowly (or never: nginx without it) would add a
    // second's wait to every large upload.
    request.headers.push_back("Expect:");
    FORGE_TRY(auto response, m_client.perform(request));
    // 200 (Forge, bazel-remote), 201 / 204 (WebDAV: created / replaced).
    if (response.status < 200 || response.status >= 300) {
      return fail(status_error(response, "PUT", describe(space, key)));
    }
    return ok();
  }

  std::string describe() const override { return m_url.redacted; }
  std::size_t live_connections() const override { return m_client.live_connections(); }

 private:
  std::string url(UpstreamSpace space, std::string_view key) const {
    return join_url(m_url.base, upstream_space_name(space), key);
  }
  std::string describe(UpstreamSpace space, std::string_view key) const {
    return join_url(m_url.redacted, upstream_space_name(space), key);
  }

  CurlClient m_client;
  ParsedUrl m_url;
  std::string m_userpwd;
  std::string m_bearer;  // the Authorization header, when a bearer token is set
};

}  // namespace

Result<std::unique_ptr<Upstream>> open_http_upstream(const UpstreamOptions& options) {
  FORGE_TRY(auto url, parse_upstream_url(options.url));
  FORGE_TRY(auto token, upstream_bearer_token(options));
  return std::make_unique<HttpUpstream>(options, std::move(url), token);
}

}  // namespace forge::cache
