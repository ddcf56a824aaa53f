// Upstream URL parsing, option checks and the choice of kind by scheme (upstream.h).
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "upstream_url.h"

namespace forge::cache {
namespace {

Error bad_url(std::string_view url, std::string_view why) {
  return Error(ErrorCategory::configuration,
               fmt::format("upstream URL '{}' is not usable: {}", url, why))
      .with_suggestion(
          "use http://HOST:PORT[/PREFIX], https://..., or s3://BUCKET[/PREFIX] with "
          "--s3-endpoint");
}

}  // namespace

std::string_view upstream_space_name(UpstreamSpace space) {
  switch (space) {
    case UpstreamSpace::cas: return "cas";
    case UpstreamSpace::ac: return "ac";
    case UpstreamSpace::raw: return "raw";
    default: return "unknown";
  }
}

Result<ParsedUrl> parse_upstream_url(std::string_view url) {
  ParsedUrl parsed;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) {
    return fail(bad_url(url, "it has no scheme"));
  }
  parsed.scheme = std::string(url.substr(0, scheme_end));
  std::ranges::transform(parsed.scheme, parsed.scheme.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (parsed.scheme != "http" && parsed.scheme != "https" && parsed.scheme != "s3") {
    return fail(bad_url(url, fmt::format("the scheme '{}' is not supported", parsed.scheme)));
  }
  std::string_view rest = url.substr(scheme_end + 3);
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    parsed.userinfo = std::string(authority.substr(0, at));
    authority = authority.substr(at + 1);
  }
  if (authority.empty()) return fail(bad_url(url, "it has no host"));
  if (authority.find_first_of(" ?#") != std::string_view::npos ||
      path.find_first_of(" ?#") != std::string_view::npos) {
    return fail(bad_url(url, "it holds a space, query or fragment"));
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  parsed.host = std::string(authority);
  parsed.path = std::string(path);
  parsed.base =
      fmt::format("{}://{}{}{}", parsed.scheme, parsed.host, path.empty() ? "" : "/", parsed.path);
  // curl takes the credentials separately, so the base URL never carries them.
  parsed.redacted = parsed.base;
  return parsed;
}

Result<void> validate(const UpstreamOptions& options) {
  FORGE_TRY(auto url, parse_upstream_url(options.url));
  if (options.connections == 0 || options.connections > 1024) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("upstream connections {} is out of range", options.connections))
                    .with_suggestion("use 1 to 1024 connections (8 is usual)"));
  }
  if (options.request_timeout.count() <= 0 || options.connect_timeout.count() <= 0 ||
      options.stall_timeout.count() <= 0) {
    return fail(Error(ErrorCategory::configuration, "upstream timeouts must be positive")
                    .with_suggestion("give every upstream timeout a positive duration"));
  }
  if (url.scheme == "s3" && !options.s3_endpoint.empty()) {
    FORGE_TRY(auto endpoint, parse_upstream_url(options.s3_endpoint));
    if (endpoint.scheme == "s3" || !endpoint.userinfo.empty() || !endpoint.path.empty()) {
      return fail(bad_url(options.s3_endpoint, "--s3-endpoint must be http(s)://HOST[:PORT]"));
    }
  }
  return ok();
}

Result<std::unique_ptr<Upstream>> open_upstream(const UpstreamOptions& options) {
  FORGE_TRY_VOID(validate(options));
  FORGE_TRY(auto url, parse_upstream_url(options.url));
  if (url.scheme == "s3") return open_s3_upstream(options);
  return open_http_upstream(options);
}

}  // namespace forge::cache
