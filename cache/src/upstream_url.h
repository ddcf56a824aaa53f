#pragma once
// Parsing of upstream URLs (upstream.h): SCHEME://[USERINFO@]HOST[:PORT][/PATH].
// Internal to forge_cache.

#include <memory>
#include <string>
#include <string_view>

#include "forge/cache/upstream.h"

namespace forge::cache {

struct ParsedUrl {
  std::string scheme;    // lower case: http, https, s3, grpc, grpcs
  std::string userinfo;  // "user:password" or empty
  std::string host;      // HOST[:PORT] (the bucket for s3)
  std::string path;      // without leading or trailing '/', possibly empty
  std::string base;      // SCHEME://HOST[:PORT][/PATH], no credentials, no trailing '/'
  std::string redacted;  // base, for logs (never holds the credentials)
};

// Configuration error naming the URL part that is wrong.
Result<ParsedUrl> parse_upstream_url(std::string_view url);

// One per kind (upstream_http.cpp, ...).
Result<std::unique_ptr<Upstream>> open_http_upstream(const UpstreamOptions& options);
Result<std::unique_ptr<Upstream>> open_s3_upstream(const UpstreamOptions& options);
Result<std::unique_ptr<Upstream>> open_grpc_upstream(const UpstreamOptions& options);

// The bearer token (upstream.h: bearer_token_file, FORGE_UPSTREAM_TOKEN_FILE,
// FORGE_UPSTREAM_TOKEN), surrounding whitespace removed; empty when none is set.
// Configuration error when the file cannot be read or the token is not one header value.
Result<std::string> upstream_bearer_token(const UpstreamOptions& options);

}  // namespace forge::cache
