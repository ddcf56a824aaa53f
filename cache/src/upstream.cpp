// Upstream URL parsing, option checks and the choice of kind by scheme (upstream.h).
#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include <unistd.h>

#include <fmt/format.h>

#include "upstream_url.h"

namespace forge::cache {
namespace {

Error bad_url(std::string_view url, std::string_view why) {
  return Error(ErrorCategory::configuration,
               fmt::format("upstream URL '{}' is not usable: {}", url, why))
      .with_suggestion(
          "use http://HOST:PORT[/PREFIX], https://..., grpc://HOST:PORT[/INSTANCE], "
          "grpcs://..., or s3://BUCKET[/PREFIX] with --s3-endpoint");
}

// A bearer token is a header value, not a document.
constexpr std::size_t k_max_token = 16 << 10;

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
  if (parsed.scheme != "http" && parsed.scheme != "https" && parsed.scheme != "s3" &&
      parsed.scheme != "grpc" && parsed.scheme != "grpcs") {
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
  for (const auto& [file, what] : {std::pair{&options.tls_ca_file, "TLS CA file"},
                                   std::pair{&options.tls_cert_file, "TLS client certificate"},
                                   std::pair{&options.tls_key_file, "TLS client key"}}) {
    if (!file->empty() && ::access(file->c_str(), R_OK) != 0) {
      return fail(Error(ErrorCategory::configuration,
                        fmt::format("upstream {} '{}' cannot be read", what, *file))
                      .with_suggestion("name a readable PEM file (FORGE_UPSTREAM_CA, "
                                       "FORGE_UPSTREAM_CERT, FORGE_UPSTREAM_KEY)"));
    }
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return fail(
        Error(ErrorCategory::configuration,
              "an upstream TLS client certificate needs its key, and a key its certificate")
            .with_suggestion("set both FORGE_UPSTREAM_CERT and FORGE_UPSTREAM_KEY, or neither"));
  }
  if (url.scheme == "s3" && !options.s3_endpoint.empty()) {
    FORGE_TRY(auto endpoint, parse_upstream_url(options.s3_endpoint));
    if (endpoint.scheme == "s3" || !endpoint.userinfo.empty() || !endpoint.path.empty()) {
      return fail(bad_url(options.s3_endpoint, "--s3-endpoint must be http(s)://HOST[:PORT]"));
    }
  }
  constexpr std::uint64_t k_min_part = std::uint64_t{5} << 20;  // S3's smallest part
  if (options.s3_part_size < k_min_part || options.s3_part_size > (std::uint64_t{5} << 30) ||
      options.s3_multipart_threshold < options.s3_part_size) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("S3 part size {} with multipart threshold {} is not usable",
                                  options.s3_part_size, options.s3_multipart_threshold))
                    .with_suggestion("use a part size from 5 MiB to 5 GiB and a threshold of at "
                                     "least one part (the defaults: 16 MiB parts above 64 MiB)"));
  }
  return ok();
}

Result<std::string> upstream_bearer_token(const UpstreamOptions& options) {
  std::string file = options.bearer_token_file;
  std::string_view source = "the bearer token file";
  if (file.empty()) {
    if (const char* env = std::getenv("FORGE_UPSTREAM_TOKEN_FILE"); env != nullptr) {
      file = env;
      source = "FORGE_UPSTREAM_TOKEN_FILE";
    }
  }
  std::string token;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in.is_open() || text.str().size() > k_max_token) {
      return fail(Error(ErrorCategory::configuration,
                        fmt::format("{} '{}' cannot be read (or is over {} bytes)", source, file,
                                    k_max_token))
                      .with_suggestion("name a readable file that holds only the token"));
    }
    token = text.str();
  } else if (const char* env = std::getenv("FORGE_UPSTREAM_TOKEN"); env != nullptr) {
    token = env;
    source = "FORGE_UPSTREAM_TOKEN";
  }
  const auto first = token.find_first_not_of(" \t\r\n");
  const auto last = token.find_last_not_of(" \t\r\n");
  token = first == std::string::npos ? std::string() : token.substr(first, last - first + 1);
  if (std::ranges::any_of(token, [](char c) { return c < 0x21 || c > 0x7e; })) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("{} holds a character that cannot be sent in a header", source))
                    .with_suggestion("the token must be printable ASCII without spaces"));
  }
  return token;
}

Result<std::vector<bool>> Upstream::contains_many(std::span<const BlobDigest> digests) {
  std::vector<char> found(digests.size(), 0);  // not vector<bool>: threads write apart
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::optional<Error> failure;  // guarded by mutex
  const auto work = [&] {
    for (std::size_t i = next.fetch_add(1); i < digests.size(); i = next.fetch_add(1)) {
      auto got = contains(UpstreamSpace::cas, digests[i].sha256.hex(), digests[i].size);
      if (!got) {
        std::lock_guard lock(mutex);
        if (!failure) failure = std::move(got).error();
        next = digests.size();  // the others stop too
        return;
      }
      found[i] = *got ? 1 : 0;
    }
  };
  {
    std::vector<std::jthread> helpers;
    for (std::size_t t = 1; t < std::min(digests.size(), k_parallel_checks); ++t) {
      helpers.emplace_back(work);
    }
    work();
  }
  if (failure) return fail(std::move(*failure));
  return std::vector<bool>(found.begin(), found.end());
}

Result<std::unique_ptr<Upstream>> open_upstream(const UpstreamOptions& given) {
  UpstreamOptions options = given;
  // TLS files from the environment when the options name none.
  for (auto [field, name] : {std::pair{&options.tls_ca_file, "FORGE_UPSTREAM_CA"},
                             std::pair{&options.tls_cert_file, "FORGE_UPSTREAM_CERT"},
                             std::pair{&options.tls_key_file, "FORGE_UPSTREAM_KEY"}}) {
    if (const char* env = std::getenv(name); field->empty() && env != nullptr) *field = env;
  }
  FORGE_TRY_VOID(validate(options));
  FORGE_TRY(auto url, parse_upstream_url(options.url));
  if (url.scheme == "s3") return open_s3_upstream(options);
  if (url.scheme == "grpc" || url.scheme == "grpcs") return open_grpc_upstream(options);
  return open_http_upstream(options);
}

}  // namespace forge::cache
