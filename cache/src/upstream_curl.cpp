#include "upstream_curl.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <mutex>
#include <optional>

#include <fmt/format.h>

#include "libcurl_loader.h"

namespace forge::cache {
namespace {

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool h2c_reuse_works() {
  static const bool works = curl_version_info(CURLVERSION_NOW)->version_num >= 0x080000;
  return works;
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// What the callbacks of one transfer share.
struct Transfer {
  CURL* curl = nullptr;
  const CurlRequest* request = nullptr;
  std::uint64_t read_offset = 0;
  std::optional<Error> failure;  // from the sink or the body's pread
  CurlResponse response;
};

std::size_t on_write(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  long status = 0;
  curl_easy_getinfo(transfer.curl, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300 && transfer.request->sink != nullptr) {
    auto taken = (*transfer.request->sink)(
        std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), bytes));
    if (!taken) {
      transfer.failure = std::move(taken).error();
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    return bytes;
  }
  auto& kept = transfer.response.error_body;
  kept.append(data,
              std::min(bytes, k_error_body_limit - std::min(kept.size(), k_error_body_limit)));
  return bytes;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  std::string_view line(data, bytes);
  const auto colon = line.find(':');
  auto& kept = transfer.response.headers;
  if (colon == std::string_view::npos || line.starts_with("HTTP/") ||
      kept.size() >= k_max_kept_headers) {
    return bytes;
  }
  std::string name(line.substr(0, colon));
  std::ranges::transform(name, name.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  kept.emplace_back(std::move(name), std::string(value.substr(0, k_error_body_limit)));
  return bytes;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto& transfer = *static_cast<Transfer*>(user);
  if (transfer.request->source != nullptr) {
    auto wrote = transfer.request->source->read(std::span(buffer, size * count));
    if (!wrote) {
      transfer.failure = std::move(wrote).error();
      return CURL_READFUNC_ABORT;
    }
    return *wrote;
  }
  const UploadBody& body = *transfer.request->body;
  const std::uint64_t left = body.size - std::min(body.size, transfer.read_offset);
  const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(size * count, left));
  if (want == 0) return 0;
  if (body.fd < 0) {
    std::copy_n(body.bytes.data() + transfer.read_offset, want, buffer);
    transfer.read_offset += want;
    return want;
  }
  ssize_t got = 0;
  do {
    got = ::pread(body.fd, buffer, want, static_cast<off_t>(transfer.read_offset));
  } while (got < 0 && errno == EINTR);
  if (got <= 0) {
    transfer.failure = Error::from_errno(got < 0 ? errno : EIO, "upload.pread")
                           .with_suggestion("run `forge cache verify` on the local store");
    return CURL_READFUNC_ABORT;
  }
  transfer.read_offset += static_cast<std::uint64_t>(got);
  return static_cast<std::size_t>(got);
}

int on_seek(void* user, curl_off_t offset, int origin) {
  auto& transfer = *static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  if (const BodySource* source = transfer.request->source; source != nullptr) {
    const bool rewound = offset == 0 && source->restart && source->restart();
    return rewound ? CURL_SEEKFUNC_OK : CURL_SEEKFUNC_CANTSEEK;
  }
  transfer.read_offset = static_cast<std::uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

Error transport_error(CURLcode code, const char* detail, std::string_view operation,
                      std::string_view where) {
  const std::string text = detail[0] != '\0' ? detail : curl_easy_strerror(code);
  ErrorCategory category = ErrorCategory::network;
  int number = ECONNRESET;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      category = ErrorCategory::timeout;
      number = ETIMEDOUT;
      break;
    case CURLE_COULDNT_CONNECT: number = ECONNREFUSED; break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: number = EHOSTUNREACH; break;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      category = ErrorCategory::configuration;
      number = EINVAL;
      break;
    default: break;
  }
  return Error(category, fmt::format("upstream {} of {} failed: {}", operation, where, text),
               number)
      .with_operation(fmt::format("upstream.{}", operation))
      .with_suggestion("check that the upstream is running and reachable from this machine");
}

}  // namespace

// One pooled connection slot: a share handle that holds its connection cache (and TLS
// sessions). Each request runs on a fresh easy handle attached to it, so a connection is
// reused across requests while no request state carries over: libcurl 7.88 answers an
// HTTP/2 request made on an easy handle after curl_easy_reset with "Empty reply from
// server" once the handle has made one or more h2 requests (seen with gRPC's trailers).
// A slot is leased to one thread at a time, so the share needs no lock callbacks.
struct CurlClient::Handle {
  Handle() : share(curl_share_init()) {
    if (share != nullptr) {
      curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
      curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
      curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    }
  }
  ~Handle() {
    if (share != nullptr) curl_share_cleanup(share);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  CURLSH* share;
};

namespace {

struct EasyDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};

}  // namespace

CurlClient::CurlClient(const UpstreamOptions& options)
    : m_options(options), m_pool(options.connections, []() -> Result<std::unique_ptr<Handle>> {
        global_init_once();
        if (auto why = libcurl_load_error()) {
          return fail(Error(ErrorCategory::dependency, *why).with_operation("upstream"));
        }
        auto handle = std::make_unique<Handle>();
        if (handle->share == nullptr) {
          return fail(Error(ErrorCategory::unknown, "curl_share_init failed")
                          .with_suggestion("the process may be out of memory"));
        }
        return handle;
      }) {}

CurlClient::~CurlClient() = default;

Result<CurlResponse> CurlClient::perform(const CurlRequest& request) {
  const std::string_view operation = request.method == CurlRequest::Method::get    ? "GET"
                                     : request.method == CurlRequest::Method::head ? "HEAD"
                                     : request.method == CurlRequest::Method::post ? "POST"
                                     : request.method == CurlRequest::Method::del  ? "DELETE"
                                                                                   : "PUT";
  FORGE_TRY(auto lease, m_pool.acquire(m_options.request_timeout));
  std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
  if (!easy) {
    return fail(Error(ErrorCategory::unknown, "curl_easy_init failed")
                    .with_suggestion("the process may be out of memory"));
  }
  CURL* curl = easy.get();
  curl_easy_setopt(curl, CURLOPT_SHARE, lease->share);  // the slot's connection
  Transfer transfer{.curl = curl, .request = &request};
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  for (const auto& header : request.headers) {
    headers.reset(curl_slist_append(headers.release(), header.c_str()));
  }
  char detail[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXCONNECTS, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(m_options.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(m_options.request_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   std::max(1L, static_cast<long>(m_options.stall_timeout.count() / 1000)));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  if (headers) curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  if (request.keep_headers) {
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  }
  switch (request.http) {
    case CurlRequest::Http::h2_prior_knowledge:
      curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
      // libcurl before 8.0 breaks a reused h2c connection ("Error in the HTTP2 framing
      // layer", curl issue #10634, fixed in 8.0.0): there, one connection per call.
      if (!h2c_reuse_works()) curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
      break;
    case CurlRequest::Http::h2_tls:
      curl_easy_setopt(curl, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
      break;
    case CurlRequest::Http::any:
    default: break;
  }
  if (!m_options.tls_ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, m_options.tls_ca_file.c_str());
  }
  if (!m_options.tls_cert_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, m_options.tls_cert_file.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, m_options.tls_key_file.c_str());
  }
  if (!request.userpwd.empty()) curl_easy_setopt(curl, CURLOPT_USERPWD, request.userpwd.c_str());
  if (!request.aws_sigv4.empty()) {
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, request.aws_sigv4.c_str());
  } else if (!request.userpwd.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  }
  switch (request.method) {
    case CurlRequest::Method::head: curl_easy_setopt(curl, CURLOPT_NOBODY, 1L); break;
    case CurlRequest::Method::del: curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "DELETE"); break;
    case CurlRequest::Method::put:
      curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body->size));
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
      curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
      curl_easy_setopt(curl, CURLOPT_SEEKDATA, &transfer);
      break;
    case CurlRequest::Method::post:
      curl_easy_setopt(curl, CURLOPT_POST, 1L);
      if (request.source == nullptr) {
        // A known body goes out with the request, before any answer can arrive.
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                         static_cast<curl_off_t>(request.post_body.size()));
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.post_body.data());
        break;
      }
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.source->length));
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
      curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
      curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, on_seek);
      curl_easy_setopt(curl, CURLOPT_SEEKDATA, &transfer);
      break;
    case CurlRequest::Method::get:
    default: break;
  }
  const CURLcode code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &transfer.response.status);
  if (transfer.failure) {
    easy.reset();  // detached from the share before the slot goes
    lease.discard();
    return fail(std::move(*transfer.failure));
  }
  if (code != CURLE_OK) {
    easy.reset();
    lease.discard();
    return fail(transport_error(code, detail, operation, request.url));
  }
  return std::move(transfer.response);
}

Error status_error(const CurlResponse& response, std::string_view operation,
                   std::string_view where) {
  const std::string message =
      fmt::format("upstream {} of {} answered {}{}{}", operation, where, response.status,
                  response.error_body.empty() ? "" : ": ", response.error_body.substr(0, 200));
  if (response.status >= 500 || response.status == 429 || response.status == 408) {
    return Error(ErrorCategory::network, message, EAGAIN)
        .with_operation(fmt::format("upstream.{}", operation))
        .with_suggestion("the upstream is failing or overloaded; it is retried with backoff");
  }
  if (response.status == 401 || response.status == 403) {
    return Error(ErrorCategory::configuration, message, EACCES)
        .with_operation(fmt::format("upstream.{}", operation))
        .with_suggestion(
            "check the upstream credentials (basic auth: FORGE_UPSTREAM_AUTH or user:password@ "
            "in the URL; S3: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or the credentials file)");
  }
  return Error(ErrorCategory::validation, message, EPROTO)
      .with_operation(fmt::format("upstream.{}", operation))
      .with_suggestion("check that the upstream URL points at a cache of this protocol");
}

std::string join_url(std::string_view base, std::string_view space, std::string_view key) {
  return fmt::format("{}/{}/{}", base, space, key);
}

Result<void> read_upload_body(const UploadBody& body, std::uint64_t offset, std::span<char> into) {
  if (body.fd < 0) {
    std::copy_n(body.bytes.data() + offset, into.size(), into.data());
    return ok();
  }
  std::size_t done = 0;
  while (done < into.size()) {
    const ssize_t got =
        ::pread(body.fd, into.data() + done, into.size() - done, static_cast<off_t>(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      return fail(Error::from_errno(got < 0 ? errno : EIO, "upload.pread")
                      .with_suggestion("run `forge cache verify` on the local store"));
    }
    done += static_cast<std::size_t>(got);
  }
  return ok();
}

}  // namespace forge::cache
