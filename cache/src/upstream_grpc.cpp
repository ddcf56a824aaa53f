// GrpcUpstream: any REAPI v2 cache (another Forge, bazel-remote, BuildBuddy, NativeLink,
// Buildbarn) over gRPC (grpc_call.h): grpc://HOST:PORT[/INSTANCE] (h2c) or grpcs://...
// (TLS); the URL's path is the instance name.
//   cas  contains: FindMissingBlobs. Blobs up to k_batch_blob_limit: BatchReadBlobs /
//        BatchUpdateBlobs; larger ones: ByteStream Read / Write in k_write_chunk pieces.
//        The REAPI names a blob by hash and size: without the size a get or contains is a
//        miss (upstream.h).
//   ac   GetActionResult / UpdateActionResult. A 64-hex key is the action digest's hash
//        (size 0: the action cache keeps no size); any other key (Forge's isolated-instance
//        "i.<sha256>") is hashed to one: sha256("forge ac key\n" + key).
//   raw  The REAPI has no opaque keyspace: the value is a CAS blob, and action digest
//        sha256("forge raw key\n" + key) holds an ActionResult with one output file
//        "forge-raw-value" naming it, so any REAPI cache keeps it (and validates it).
// Auth: `authorization: Bearer TOKEN` (UpstreamOptions::bearer_token_file); TLS with the
// options' CA bundle and optional client certificate.
#include <unistd.h>

#include <random>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "forge/cache/action_cache.h"
#include "forge/cache/wire.h"
#include "forge/core/hash/digest.h"
#include "grpc_call.h"
#include "upstream_url.h"

namespace forge::cache {
namespace {

constexpr std::string_view k_cas = "build.bazel.remote.execution.v2.ContentAddressableStorage/";
constexpr std::string_view k_ac = "build.bazel.remote.execution.v2.ActionCache/";
constexpr std::string_view k_bytestream = "google.bytestream.ByteStream/";
// Blobs up to this size travel in one BatchRead/BatchUpdate message: well under the 4 MiB
// gRPC servers accept by default (and Forge's advertised max_batch_total_size_bytes).
constexpr std::uint64_t k_batch_blob_limit = 1u << 20;
// ByteStream.Write pieces: large enough to keep a link busy, small next to 4 MiB messages.
constexpr std::size_t k_write_chunk = 256u << 10;
// Action results are read into memory (as UpstreamTier does).
constexpr std::uint64_t k_max_action_result = 16u << 20;
constexpr std::string_view k_raw_output = "forge-raw-value";
// Digests per FindMissingBlobs: ~80 bytes each, well under a 4 MiB message.
constexpr std::size_t k_find_batch = 4096;

std::string digest_message(std::string_view hash, std::uint64_t size) {
  WireWriter digest;
  digest.bytes_field(1, hash);
  if (size != 0) digest.varint_field(2, size);
  return digest.take();
}

// The encoded size of a varint, and of a length-delimited field numbered under 16.
std::size_t varint_size(std::uint64_t value) {
  std::size_t size = 1;
  for (; value >= 0x80; value >>= 7) ++size;
  return size;
}
std::size_t bytes_field_size(std::size_t length) {
  return 1 + varint_size(length) + length;
}

// The WriteRequests that upload `size` bytes to `resource` in k_write_chunk pieces: their
// count and total encoded size, known before the first is made (GrpcMessageSource).
std::pair<std::int64_t, std::size_t> write_stream_size(std::size_t resource, std::uint64_t size) {
  std::uint64_t total = 0;
  std::size_t count = 0;
  for (std::uint64_t offset = 0; offset < size; ++count) {
    const std::uint64_t n = std::min<std::uint64_t>(k_write_chunk, size - offset);
    if (offset == 0) total += bytes_field_size(resource);
    if (offset != 0) total += 1 + varint_size(offset);
    offset += n;
    if (offset >= size) total += 2;  // finish_write = true
    total += bytes_field_size(static_cast<std::size_t>(n));
  }
  return {static_cast<std::int64_t>(total), count};
}

// The whole upload body in memory (small blobs and action results only).
Result<std::string> read_body(const UploadBody& body) {
  if (body.fd < 0) return std::string(body.bytes.substr(0, body.size));
  std::string out(body.size, '\0');
  FORGE_TRY_VOID(read_upload_body(body, 0, std::span(out.data(), out.size())));
  return out;
}

std::string random_uuid() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  const std::uint64_t a = random(), b = random();
  return fmt::format("{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}", a >> 32, (a >> 16) & 0xffff, a & 0xfff,
                     0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffULL);
}

class GrpcUpstream final : public Upstream {
 public:
  GrpcUpstream(const UpstreamOptions& options, const ParsedUrl& url,
               std::vector<std::string> metadata)
      : m_channel(options,
                  fmt::format("{}://{}", url.scheme == "grpcs" ? "https" : "http", url.host),
                  url.scheme == "grpcs", std::move(metadata)),
        m_instance(url.path),
        m_described(url.redacted) {}

  Result<bool> get(UpstreamSpace space, std::string_view key, const BodySink& sink,
                   std::optional<std::uint64_t> size) override {
    switch (space) {
      case UpstreamSpace::cas: return get_blob(key, size, sink);
      case UpstreamSpace::ac: {
        FORGE_TRY(auto result, get_action(action_hash(space, key), where(space, key)));
        if (!result) return false;
        FORGE_TRY_VOID(sink(std::as_bytes(std::span(result->data(), result->size()))));
        return true;
      }
      case UpstreamSpace::raw:
      default: {
        FORGE_TRY(auto result, get_action(action_hash(space, key), where(space, key)));
        if (!result) return false;
        FORGE_TRY(auto value, raw_value(*result, key));
        return get_blob(value.sha256.hex(), value.size, sink);
      }
    }
  }

  Result<bool> contains(UpstreamSpace space, std::string_view key,
                        std::optional<std::uint64_t> size) override {
    if (space != UpstreamSpace::cas) {
      FORGE_TRY(auto result, get_action(action_hash(space, key), where(space, key)));
      return result.has_value();
    }
    if (!size) return false;  // the REAPI cannot ask without the size
    WireWriter request;
    request.bytes_field(1, m_instance);
    request.bytes_field(2, digest_message(key, *size));
    FORGE_TRY(auto reply,
              m_channel.unary(fmt::format("{}FindMissingBlobs", k_cas), request.bytes()));
    if (!reply.status.ok())
      return fail(grpc_error(reply.status, "FindMissingBlobs", where(space, key)));
    WireReader response(reply.message, "FindMissingBlobsResponse");
    while (!response.done()) {
      FORGE_TRY(auto field, response.next());
      if (field.number == 2) return false;  // the one digest asked about is missing
    }
    return true;
  }

  // One FindMissingBlobs per k_find_batch digests.
  Result<std::vector<bool>> contains_many(std::span<const BlobDigest> digests) override {
    std::vector<bool> present(digests.size(), true);
    for (std::size_t start = 0; start < digests.size(); start += k_find_batch) {
      const auto batch = digests.subspan(start, std::min(k_find_batch, digests.size() - start));
      WireWriter request;
      request.bytes_field(1, m_instance);
      for (const auto& digest : batch) {
        request.bytes_field(2, digest_message(digest.sha256.hex(), digest.size));
      }
      FORGE_TRY(auto reply,
                m_channel.unary(fmt::format("{}FindMissingBlobs", k_cas), request.bytes()));
      if (!reply.status.ok()) {
        return fail(grpc_error(reply.status, "FindMissingBlobs", m_described));
      }
      std::unordered_set<std::string> missing;
      WireReader response(reply.message, "FindMissingBlobsResponse");
      while (!response.done()) {
        FORGE_TRY(auto field, response.next());
        if (field.number != 2) continue;
        WireReader digest(field.bytes, "Digest");
        while (!digest.done()) {
          FORGE_TRY(auto part, digest.next());
          if (part.number == 1) missing.emplace(part.bytes);
        }
      }
      for (std::size_t i = 0; i < batch.size(); ++i) {
        present[start + i] = !missing.contains(batch[i].sha256.hex());
      }
    }
    return present;
  }

  Result<void> put(UpstreamSpace space, std::string_view key, const UploadBody& body) override {
    switch (space) {
      case UpstreamSpace::cas: return put_blob(key, body);
      case UpstreamSpace::ac: {
        if (body.size > k_max_action_result) {
          return fail(Error(ErrorCategory::validation,
                            fmt::format("action result {} has {} bytes (at most {})", key,
                                        body.size, k_max_action_result))
                          .with_suggestion("the local entry is not an action result"));
        }
        FORGE_TRY(auto result, read_body(body));
        return update_action(action_hash(space, key), result, where(space, key));
      }
      case UpstreamSpace::raw:
      default: {
        FORGE_TRY_VOID(put_blob(body.sha256_hex, body));
        WireWriter file;
        file.bytes_field(1, k_raw_output);
        file.bytes_field(2, digest_message(body.sha256_hex, body.size));
        WireWriter result;
        result.bytes_field(2, file.bytes());
        return update_action(action_hash(space, key), result.bytes(), where(space, key));
      }
    }
  }

  std::string describe() const override { return m_described; }
  std::size_t live_connections() const override { return m_channel.live_connections(); }

 private:
  std::string where(UpstreamSpace space, std::string_view key) const {
    return fmt::format("{} {}/{}", m_described, upstream_space_name(space), key);
  }

  std::string resource_prefix() const {
    return m_instance.empty() ? std::string() : m_instance + "/";
  }

  // The action digest's hash for an ac or raw key (see the top of the file).
  static std::string action_hash(UpstreamSpace space, std::string_view key) {
    if (space == UpstreamSpace::ac && hash::is_hex64(key)) return std::string(key);
    const std::string_view tag = space == UpstreamSpace::ac ? "forge ac key\n" : "forge raw key\n";
    return hash::sha256_of(std::string(tag) + std::string(key)).hex();
  }

  // The serialized ActionResult, or nullopt on NOT_FOUND.
  Result<std::optional<std::string>> get_action(const std::string& hash, const std::string& what) {
    WireWriter request;
    request.bytes_field(1, m_instance);
    request.bytes_field(2, digest_message(hash, 0));
    FORGE_TRY(auto reply, m_channel.unary(fmt::format("{}GetActionResult", k_ac), request.bytes()));
    if (reply.status.is(GrpcCode::not_found)) return std::optional<std::string>();
    if (!reply.status.ok()) return fail(grpc_error(reply.status, "GetActionResult", what));
    return std::optional<std::string>(std::move(reply.message));
  }

  Result<void> update_action(const std::string& hash, std::string_view result,
                             const std::string& what) {
    WireWriter request;
    request.bytes_field(1, m_instance);
    request.bytes_field(2, digest_message(hash, 0));
    request.bytes_field(3, result);
    FORGE_TRY(auto reply,
              m_channel.unary(fmt::format("{}UpdateActionResult", k_ac), request.bytes()));
    if (!reply.status.ok()) return fail(grpc_error(reply.status, "UpdateActionResult", what));
    return ok();
  }

  // The value blob a raw entry's ActionResult names.
  Result<BlobDigest> raw_value(const std::string& result, std::string_view key) const {
    auto referenced = referenced_digests(result);
    if (!referenced || referenced->size() != 1) {
      return fail(Error(ErrorCategory::validation,
                        fmt::format("gRPC upstream {} holds no raw value for {}", m_described, key))
                      .with_suggestion("another program wrote that action digest"));
    }
    return referenced->front();
  }

  Result<bool> get_blob(std::string_view hash, std::optional<std::uint64_t> size,
                        const BodySink& sink) {
    if (!size) return false;  // the REAPI cannot name a blob without its size
    if (*size == 0) return true;
    if (*size <= k_batch_blob_limit) {
      WireWriter request;
      request.bytes_field(1, m_instance);
      request.bytes_field(2, digest_message(hash, *size));
      FORGE_TRY(auto reply,
                m_channel.unary(fmt::format("{}BatchReadBlobs", k_cas), request.bytes()));
      if (!reply.status.ok()) {
        return fail(grpc_error(reply.status, "BatchReadBlobs", where(UpstreamSpace::cas, hash)));
      }
      FORGE_TRY(auto status, batch_status(reply.message, 3, hash, &sink));
      if (status.is(GrpcCode::not_found)) return false;
      if (!status.ok()) {
        return fail(grpc_error(status, "BatchReadBlobs", where(UpstreamSpace::cas, hash)));
      }
      return true;
    }
    WireWriter request;
    request.bytes_field(1, fmt::format("{}blobs/{}/{}", resource_prefix(), hash, *size));
    const GrpcMessageSink on_message = [&](std::string_view message) -> Result<void> {
      WireReader response(message, "ReadResponse");
      while (!response.done()) {
        FORGE_TRY(auto field, response.next());
        if (field.number == 10) FORGE_TRY_VOID(sink(std::as_bytes(std::span(field.bytes))));
      }
      return ok();
    };
    FORGE_TRY(auto status, m_channel.server_stream(fmt::format("{}Read", k_bytestream),
                                                   request.bytes(), on_message));
    if (status.is(GrpcCode::not_found)) return false;
    if (!status.ok()) return fail(grpc_error(status, "Read", where(UpstreamSpace::cas, hash)));
    return true;
  }

  // The status of the one response in a Batch{Read,Update}BlobsResponse (field 1), and its
  // data (field 2) to sink when given. status_field: 3 in BatchRead, 2 in BatchUpdate.
  Result<GrpcStatus> batch_status(std::string_view message, std::uint32_t status_field,
                                  std::string_view hash, const BodySink* sink) const {
    WireReader outer(message, "BatchBlobsResponse");
    while (!outer.done()) {
      FORGE_TRY(auto response, outer.next());
      if (response.number != 1) continue;
      WireReader fields(response.bytes, "BatchBlobsResponse.Response");
      GrpcStatus status;
      std::string_view data;
      while (!fields.done()) {
        FORGE_TRY(auto field, fields.next());
        if (field.number == 2 && status_field == 3) data = field.bytes;
        if (field.number != status_field) continue;
        WireReader rpc_status(field.bytes, "google.rpc.Status");
        while (!rpc_status.done()) {
          FORGE_TRY(auto part, rpc_status.next());
          if (part.number == 1) status.code = static_cast<int>(part.varint);
          if (part.number == 2) status.message = std::string(part.bytes);
        }
      }
      if (status.ok() && sink != nullptr) FORGE_TRY_VOID((*sink)(std::as_bytes(std::span(data))));
      return status;
    }
    return fail(
        Error(ErrorCategory::network,
              fmt::format("gRPC upstream {} answered no response for blob {}", m_described, hash),
              EPROTO)
            .with_suggestion("check that the upstream is a REAPI v2 cache"));
  }

  Result<void> put_blob(std::string_view hash, const UploadBody& body) {
    const std::string what = where(UpstreamSpace::cas, hash);
    if (body.size <= k_batch_blob_limit) {
      FORGE_TRY(auto data, read_body(body));
      WireWriter entry;
      entry.bytes_field(1, digest_message(hash, body.size));
      entry.bytes_field(2, data);
      WireWriter request;
      request.bytes_field(1, m_instance);
      request.bytes_field(2, entry.bytes());
      FORGE_TRY(auto reply,
                m_channel.unary(fmt::format("{}BatchUpdateBlobs", k_cas), request.bytes()));
      if (!reply.status.ok()) return fail(grpc_error(reply.status, "BatchUpdateBlobs", what));
      FORGE_TRY(auto status, batch_status(reply.message, 2, hash, nullptr));
      if (!status.ok()) return fail(grpc_error(status, "BatchUpdateBlobs", what));
      return ok();
    }
    // A server may answer a Write of a blob it has before the client finished sending,
    // which libcurl reports as a broken stream: ask first (Bazel does the same).
    FORGE_TRY(const bool present, contains(UpstreamSpace::cas, hash, body.size));
    if (present) return ok();
    // ByteStream.Write: the resource name in the first message, finish_write in the last.
    const std::string resource =
        fmt::format("{}uploads/{}/blobs/{}/{}", resource_prefix(), random_uuid(), hash, body.size);
    std::uint64_t offset = 0;
    bool started = false;
    std::string chunk;
    const auto [message_bytes, message_count] = write_stream_size(resource.size(), body.size);
    const GrpcMessageSource source{
        .next = [&]() -> Result<std::optional<std::string>> {
          if (started && offset >= body.size) return std::optional<std::string>();
          const std::size_t n =
              static_cast<std::size_t>(std::min<std::uint64_t>(k_write_chunk, body.size - offset));
          chunk.resize(n);
          FORGE_TRY_VOID(read_upload_body(body, offset, std::span(chunk.data(), n)));
          WireWriter request;
          if (!started) request.bytes_field(1, resource);
          if (offset != 0) request.varint_field(2, offset);
          offset += n;
          if (offset >= body.size) request.varint_field(3, 1);
          request.bytes_field(10, chunk);
          started = true;
          return std::optional<std::string>(request.take());
        },
        .restart =
            [&] {
              offset = 0;
              started = false;
              return true;
            },
        .message_bytes = message_bytes,
        .message_count = message_count};
    auto streamed = m_channel.client_stream(fmt::format("{}Write", k_bytestream), source);
    if (!streamed) {
      // The stream broke after the server may have committed the blob (it may answer on the
      // finish_write message and close the stream): if it has the blob now, the put is done.
      auto present_now = contains(UpstreamSpace::cas, hash, body.size);
      if (present_now && *present_now) return ok();
      return fail(std::move(streamed).error());
    }
    auto& reply = *streamed;
    if (!reply.status.ok() && !reply.status.is(GrpcCode::already_exists)) {
      return fail(grpc_error(reply.status, "Write", what));
    }
    std::uint64_t committed = body.size;  // ALREADY_EXISTS: nothing to commit
    if (reply.status.ok()) {
      committed = 0;
      WireReader response(reply.message, "WriteResponse");
      while (!response.done()) {
        FORGE_TRY(auto field, response.next());
        if (field.number == 1) committed = field.varint;
      }
    }
    if (committed != body.size) {
      return fail(Error(ErrorCategory::network,
                        fmt::format("gRPC upstream {} committed {} of {} bytes", what, committed,
                                    body.size),
                        EAGAIN)
                      .with_suggestion("the upload is retried"));
    }
    return ok();
  }

  GrpcChannel m_channel;
  std::string m_instance;
  std::string m_described;
};

}  // namespace

Result<std::unique_ptr<Upstream>> open_grpc_upstream(const UpstreamOptions& options) {
  FORGE_TRY(auto url, parse_upstream_url(options.url));
  if (!url.userinfo.empty()) {
    return fail(
        Error(ErrorCategory::configuration, "credentials do not belong in a grpc:// upstream URL")
            .with_suggestion("remove them; put a bearer token in a file named by "
                             "FORGE_UPSTREAM_TOKEN_FILE (or in FORGE_UPSTREAM_TOKEN)"));
  }
  std::vector<std::string> metadata;
  FORGE_TRY(auto token, upstream_bearer_token(options));
  if (!token.empty()) metadata.push_back("authorization: Bearer " + token);
  return std::make_unique<GrpcUpstream>(options, url, std::move(metadata));
}

}  // namespace forge::cache
