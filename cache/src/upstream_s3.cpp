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
// A blob up to UpstreamOptions::s3_multipart_threshold (64 MiB) is one PUT; a larger one
// is a multipart upload (CreateMultipartUpload, UploadPart per s3_part_size piece, each
// signed with its own SHA-256, CompleteMultipartUpload). S3 shows the object only once
// Complete succeeds, so a failed part leaves nothing a reader can see; the upload is then
// aborted (AbortMultipartUpload) so its parts do not linger in the bucket.
// Query strings are written already in SigV4's canonical form (sorted, `name=value`, even
// `uploads=`): libcurl before 8.x signs the query exactly as written.
#include <unistd.h>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "forge/core/hash/digest.h"
#include "forge/core/support/log.h"
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
        m_credentials(std::move(credentials)),
        m_threshold(options.s3_multipart_threshold),
        m_part_size(options.s3_part_size) {}

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
    if (body.size > m_threshold) return put_multipart(space, key, body);
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
  Result<void> put_multipart(UpstreamSpace space, std::string_view key, const UploadBody& body) {
    const std::string object = where(space, key);
    // CreateMultipartUpload: POST ?uploads= answers <UploadId>.
    std::string answer;
    FORGE_TRY(auto response,
              perform_collecting(CurlRequest::Method::post, space, key, "uploads=", {}, answer));
    if (response.status != 200) return fail(status_error(response, "POST ?uploads", object));
    const std::string upload_id = xml_element(answer, "UploadId");
    if (upload_id.empty()) {
      return fail(Error(ErrorCategory::network,
                        fmt::format("S3 CreateMultipartUpload for {} answered no UploadId", object))
                      .with_suggestion("check that --s3-endpoint is an S3 server"));
    }
    auto completed = upload_parts(space, key, body, upload_id);
    if (!completed) {
      // Nothing is visible (the object exists only after Complete); free the parts.
      std::string ignored;
      auto aborted = perform_collecting(CurlRequest::Method::del, space, key,
                                        "uploadId=" + query_escape(upload_id), {}, ignored);
      if (!aborted || (aborted->status != 204 && aborted->status != 200)) {
        support::log(spdlog::level::warn,
                     "s3: AbortMultipartUpload failed; the bucket's "
                     "lifecycle rule for incomplete uploads must remove the parts",
                     {{"object", object}, {"upload_id", upload_id}});
      }
    }
    return completed;
  }

  // UploadPart for each piece, then CompleteMultipartUpload.
  Result<void> upload_parts(UpstreamSpace space, std::string_view key, const UploadBody& body,
                            const std::string& upload_id) {
    const std::string object = where(space, key);
    std::string complete = "<CompleteMultipartUpload>";
    std::string part(static_cast<std::size_t>(std::min(m_part_size, body.size)), '\0');
    std::uint64_t offset = 0;
    for (int number = 1; offset < body.size; ++number) {
      const auto length = static_cast<std::size_t>(std::min(m_part_size, body.size - offset));
      FORGE_TRY_VOID(read_upload_body(body, offset, std::span(part.data(), length)));
      const std::string_view bytes(part.data(), length);
      const UploadBody piece{
          .bytes = bytes, .size = length, .sha256_hex = hash::sha256_of(bytes).hex()};
      auto request =
          make(CurlRequest::Method::put, space, key, piece.sha256_hex,
               fmt::format("partNumber={}&uploadId={}", number, query_escape(upload_id)));
      request.body = &piece;
      request.keep_headers = true;
      FORGE_TRY(auto response, m_client.perform(request));
      if (response.status != 200) {
        return fail(status_error(response, fmt::format("PUT part {}", number), object));
      }
      std::string etag;
      for (const auto& [name, value] : response.headers) {
        if (name == "etag") etag = value;
      }
      if (etag.empty()) {
        return fail(Error(ErrorCategory::network,
                          fmt::format("S3 UploadPart {} of {} answered no ETag", number, object))
                        .with_suggestion("check that --s3-endpoint is an S3 server"));
      }
      complete += fmt::format("<Part><PartNumber>{}</PartNumber><ETag>{}</ETag></Part>", number,
                              xml_escape(etag));
      offset += length;
    }
    complete += "</CompleteMultipartUpload>";
    std::string answer;
    FORGE_TRY(auto response,
              perform_collecting(CurlRequest::Method::post, space, key,
                                 "uploadId=" + query_escape(upload_id), complete, answer));
    // S3 may answer 200 and still fail the Complete, with an <Error> body.
    if (response.status != 200 || answer.find("<Error>") != std::string::npos) {
      if (response.error_body.empty()) response.error_body = answer.substr(0, k_error_body_limit);
      if (response.status == 200) response.status = 500;
      return fail(status_error(response, "POST ?uploadId (complete)", object));
    }
    return ok();
  }

  // A request whose 2xx body (at most 64 KiB) is collected into `answer`.
  Result<CurlResponse> perform_collecting(CurlRequest::Method method, UpstreamSpace space,
                                          std::string_view key, const std::string& query,
                                          std::string_view post_body, std::string& answer) {
    auto request =
        make(method, space, key,
             post_body.empty() ? k_empty_sha256 : hash::sha256_of(post_body).hex(), query);
    // Never a null pointer: libcurl would read a null POSTFIELDS body from stdin.
    request.post_body = post_body.empty() ? std::string_view("") : post_body;
    const BodySink sink = [&](std::span<const std::byte> data) -> Result<void> {
      if (answer.size() + data.size() > k_max_answer) {
        return fail(Error(ErrorCategory::network, "S3 answer over 64 KiB")
                        .with_suggestion("check that --s3-endpoint is an S3 server"));
      }
      answer.append(reinterpret_cast<const char*>(data.data()), data.size());
      return ok();
    };
    request.sink = &sink;
    return m_client.perform(request);
  }

  // The text of the first <name>...</name> in xml; empty when there is none.
  static std::string xml_element(std::string_view xml, std::string_view name) {
    const std::string open = fmt::format("<{}>", name);
    const std::string close = fmt::format("</{}>", name);
    const auto start = xml.find(open);
    if (start == std::string_view::npos) return {};
    const auto end = xml.find(close, start + open.size());
    if (end == std::string_view::npos) return {};
    return std::string(xml.substr(start + open.size(), end - start - open.size()));
  }
  static std::string xml_escape(std::string_view text) {
    std::string out;
    for (const char c : text) {
      if (c == '&')
        out += "&amp;";
      else if (c == '<')
        out += "&lt;";
      else if (c == '>')
        out += "&gt;";
      else if (c == '"')
        out += "&quot;";
      else
        out += c;
    }
    return out;
  }
  // SigV4's URI encoding of a query value: everything but A-Z a-z 0-9 - _ . ~ as %XX.
  static std::string query_escape(std::string_view text) {
    std::string out;
    for (const char c : text) {
      const auto u = static_cast<unsigned char>(c);
      if (std::isalnum(u) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
        out += c;
      } else {
        out += fmt::format("%{:02X}", u);
      }
    }
    return out;
  }

  // The most of an S3 XML answer kept (CreateMultipartUpload, CompleteMultipartUpload).
  static constexpr std::size_t k_max_answer = std::size_t{64} * 1024;
  // SHA-256 of the empty body of GET and HEAD.
  static constexpr std::string_view k_empty_sha256 =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  CurlRequest make(CurlRequest::Method method, UpstreamSpace space, std::string_view key,
                   std::string_view payload_sha256, std::string_view query = {}) const {
    CurlRequest request{.method = method,
                        .url = join_url(m_objects, upstream_space_name(space), key)};
    if (!query.empty()) request.url += fmt::format("?{}", query);
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
  std::uint64_t m_threshold;  // larger blobs go up in parts
  std::uint64_t m_part_size;
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
