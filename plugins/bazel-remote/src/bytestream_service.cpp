// ByteStream service: blob reads and resumable uploads (see grpc_server.h).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "forge/bazel_remote/resource_name.h"
#include "services.h"
#include "zstd_stream.h"

namespace forge::bazel_remote {
namespace {

namespace bytestream = google::bytestream;

// Read chunk: big enough that a multi-MiB blob is a handful of messages, a quarter of gRPC's
// default 4 MiB message limit so any client accepts it.
constexpr std::size_t k_read_chunk = 1u << 20;

// A blob whose bytes no longer match what was stored has been quarantined by the check: before
// any byte went out that is a miss (NOT_FOUND, the client uploads it again); mid-stream the
// transfer fails with DATA_LOSS so the client never completes a corrupt download.
grpc::Status refuse(const Error& error, bool started) {
  if (!cache::is_corrupt_blob(error)) return to_grpc_status(error);
  return grpc::Status(started ? grpc::StatusCode::DATA_LOSS : grpc::StatusCode::NOT_FOUND,
                      error.message());
}

grpc::Status cancelled() {
  return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
}

}  // namespace

ByteStreamService::~ByteStreamService() = default;

grpc::Status ByteStreamService::Read(grpc::ServerContext* context,
                                     const bytestream::ReadRequest* request,
                                     grpc::ServerWriter<bytestream::ReadResponse>* writer) {
  CallScope call(m_read, *context);  // bytes: the blob data sent
  return call.finish(m_context.guarded(*context, Access::read,
                                       [&] { return read(*context, *request, *writer, call); }));
}

grpc::Status ByteStreamService::Write(grpc::ServerContext* context,
                                      grpc::ServerReader<bytestream::WriteRequest>* reader,
                                      bytestream::WriteResponse* response) {
  CallScope call(m_write, *context);  // bytes: the blob data received
  return call.finish(m_context.guarded(*context, Access::write,
                                       [&] { return write(*context, *reader, *response, call); }));
}

grpc::Status ByteStreamService::QueryWriteStatus(grpc::ServerContext* context,
                                                 const bytestream::QueryWriteStatusRequest* request,
                                                 bytestream::QueryWriteStatusResponse* response) {
  CallScope call(m_query, *context, *request);
  return call.finish(
      m_context.guarded(*context, Access::write, [&] { return query(*request, *response, call); }),
      *response);
}

grpc::Status ByteStreamService::read(grpc::ServerContext& context,
                                     const bytestream::ReadRequest& request,
                                     grpc::ServerWriter<bytestream::ReadResponse>& writer,
                                     CallScope& call) {
  auto resource = parse_read_resource(request.resource_name());
  if (!resource) return to_grpc_status(resource.error());
  call.set_instance(resource->instance_name);
  const auto& digest = resource->digest;
  if (request.read_offset() < 0) {
    return grpc::Status(grpc::StatusCode::OUT_OF_RANGE, "read_offset must not be negative");
  }
  if (request.read_limit() < 0) return invalid_argument("read_limit must not be negative");
  auto blob = m_context.cas().open_blob(digest);
  if (!blob) return to_grpc_status(blob.error());
  if (!*blob || (*blob)->size() != digest.size) {
    return not_found(fmt::format("blob {} is not in the CAS", digest.to_string()));
  }
  const auto offset = static_cast<std::uint64_t>(request.read_offset());
  if (offset > digest.size) {
    return grpc::Status(
        grpc::StatusCode::OUT_OF_RANGE,
        fmt::format("read_offset {} is past the end of blob {}", offset, digest.to_string()));
  }
  if (resource->compression == Compression::zstd) {
    if (request.read_limit() != 0) {
      return invalid_argument("read_limit must be 0 when reading compressed-blobs");
    }
    if (offset != 0) {
      if (auto checked = (*blob)->verify_all(); !checked)
        return refuse(checked.error(), /*started=*/false);
    }
    return read_compressed(context, **blob, offset, writer, call);
  }
  const auto limit = static_cast<std::uint64_t>(request.read_limit());
  const std::uint64_t end =
      limit == 0 ? digest.size : offset + std::min(limit, digest.size - offset);
  // Corrupt bytes are never served: a whole read is checked as it streams (the last chunk
  // goes out only after the check passed); a partial read checks the whole blob first.
  const bool whole = offset == 0 && end == digest.size;
  if (!whole) {
    if (auto checked = (*blob)->verify_all(); !checked)
      return refuse(checked.error(), /*started=*/false);
  }
  auto check = (*blob)->verifier();

  std::vector<std::byte> buffer(static_cast<std::size_t>(
      std::min<std::uint64_t>(k_read_chunk, std::max<std::uint64_t>(end - offset, 1))));
  bytestream::ReadResponse response;
  for (std::uint64_t at = offset; at < end;) {
    if (context.IsCancelled()) return cancelled();
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), end - at));
    auto got = (*blob)->read(at, std::span(buffer).first(want));
    if (!got) return to_grpc_status(got.error());
    if (*got == 0) {
      return grpc::Status(grpc::StatusCode::DATA_LOSS,
                          fmt::format("blob {} ended early at {}", digest.to_string(), at));
    }
    if (whole) {
      check.update(std::span(buffer).first(*got));
      if (at + *got == end) {
        if (auto checked = check.finish(); !checked) return refuse(checked.error(), at > offset);
      }
    }
    response.set_data(reinterpret_cast<const char*>(buffer.data()), *got);
    if (!writer.Write(response)) return cancelled();
    call.add_out(*got);
    at += *got;
  }
  if (whole && digest.size == 0) {
    if (auto checked = check.finish(); !checked) return refuse(checked.error(), false);
  }
  return grpc::Status::OK;
}

// The blob from `offset` (uncompressed) as one zstd frame, in messages of at most
// k_read_chunk bytes.
grpc::Status ByteStreamService::read_compressed(
    grpc::ServerContext& context, const cache::BlobReader& blob, std::uint64_t offset,
    grpc::ServerWriter<bytestream::ReadResponse>& writer, CallScope& call) {
  ZstdCompressor compressor;
  auto check = blob.verifier();  // a read from offset 0 is checked before its end is sent
  std::vector<std::byte> buffer(static_cast<std::size_t>(
      std::min<std::uint64_t>(k_read_chunk, std::max<std::uint64_t>(blob.size() - offset, 1))));
  std::string compressed;
  bytestream::ReadResponse response;
  const auto send = [&](bool all) {
    std::size_t sent = 0;
    while (compressed.size() - sent >= (all ? 1 : k_read_chunk)) {
      const auto n = std::min(k_read_chunk, compressed.size() - sent);
      response.set_data(compressed.data() + sent, n);
      if (!writer.Write(response)) return false;
      call.add_out(n);
      sent += n;
    }
    compressed.erase(0, sent);
    return true;
  };
  std::uint64_t at = offset;
  do {
    if (context.IsCancelled()) return cancelled();
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), blob.size() - at));
    auto got = blob.read(at, std::span(buffer).first(want));
    if (!got) return to_grpc_status(got.error());
    if (*got == 0 && want > 0) {
      return grpc::Status(grpc::StatusCode::DATA_LOSS, fmt::format("blob ended early at {}", at));
    }
    if (offset == 0) check.update(std::span(buffer).first(*got));
    at += *got;
    const bool end = at == blob.size();
    if (end && offset == 0) {
      if (auto checked = check.finish(); !checked) return refuse(checked.error(), at > *got);
    }
    auto done = compressor.compress(std::span(buffer).first(*got), end, compressed);
    if (!done) return to_grpc_status(done.error());
    if (!send(end)) return cancelled();
    if (end) break;
  } while (true);
  return grpc::Status::OK;
}

// Offsets: the first request's write_offset is where the client resumes in the (uncompressed)
// blob; later ones are that plus the bytes the client sent since (compressed bytes for a
// compressed upload, as REAPI specifies). A resume may start before committed_size: the bytes
// the server already has are skipped (a client that raced with its own cancelled stream
// re-sends them), and the final hash check catches a client that sends different ones.
grpc::Status ByteStreamService::write(grpc::ServerContext& context,
                                      grpc::ServerReader<bytestream::WriteRequest>& reader,
                                      bytestream::WriteResponse& response, CallScope& call) {
  bytestream::WriteRequest request;
  const auto next = [&] {
    if (!reader.Read(&request)) return false;
    call.add_in(request.data().size());
    return true;
  };
  if (!next()) return invalid_argument("empty Write stream");
  if (auto status = m_context.check_writable(); !status.ok()) return status;
  auto resource = parse_write_resource(request.resource_name());
  if (!resource) return to_grpc_status(resource.error());
  call.set_instance(resource->instance_name);
  const auto digest = resource->digest;
  const bool compressed = resource->compression == Compression::zstd;
  const std::string key = request.resource_name();

  // Already stored (by anyone): REAPI lets the server end the upload early, reporting the
  // full size, or -1 for a compressed upload.
  auto present = m_context.cas().contains(digest);
  if (!present) return to_grpc_status(present.error());
  if (*present) {
    std::lock_guard lock(m_mutex);
    m_pending.erase(key);
    response.set_committed_size(compressed ? -1 : static_cast<std::int64_t>(digest.size));
    return grpc::Status::OK;
  }

  // Claim the resource: one stream per upload at a time.
  std::unique_ptr<PendingUpload> upload;
  std::shared_ptr<ActiveUpload> active;
  {
    std::vector<std::unique_ptr<PendingUpload>> expired;  // destroyed after the unlock
    std::lock_guard lock(m_mutex);
    drop_expired(std::chrono::steady_clock::now(), expired);
    if (m_active.contains(key)) {
      return grpc::Status(grpc::StatusCode::ABORTED,
                          fmt::format("another Write stream is uploading '{}'", key));
    }
    if (auto found = m_pending.find(key); found != m_pending.end()) {
      upload = std::move(found->second);
      m_pending.erase(found);
    }
    active = std::make_shared<ActiveUpload>();
    if (upload) active->committed = upload->writer.bytes_written();
    m_active.emplace(key, active);
  }
  struct Release {
    ByteStreamService& service;
    const std::string& key;
    ~Release() { service.release(key); }
  } release_on_exit{*this, key};

  if (request.write_offset() < 0) return invalid_argument("write_offset must not be negative");
  const auto first_offset = static_cast<std::uint64_t>(request.write_offset());
  if (upload && first_offset == 0) upload.reset();  // the client starts over
  if (!upload) {
    if (first_offset != 0) {
      return invalid_argument(
          fmt::format("write_offset {} for '{}', but nothing of it is committed: start at 0",
                      first_offset, key));
    }
    auto writer = m_context.cas().begin_put(digest);
    if (!writer) return to_grpc_status(writer.error());
    upload.reset(new PendingUpload{std::move(*writer), std::chrono::steady_clock::now()});
    active->committed = 0;
  } else if (first_offset > upload->writer.bytes_written()) {
    const auto committed = upload->writer.bytes_written();
    park(key, std::move(upload));
    return invalid_argument(fmt::format("write_offset {} for '{}', but committed_size is {}",
                                        first_offset, key, committed));
  }

  // Uncompressed bytes at blob offset `position` onwards, in order.
  std::uint64_t position = first_offset;
  const auto consume = [&](std::span<const std::byte> bytes) -> Result<void> {
    auto& writer = upload->writer;
    // position <= bytes_written() always: a stream starts at or before committed_size.
    const auto overlap = std::min<std::uint64_t>(bytes.size(), writer.bytes_written() - position);
    position += bytes.size();
    bytes = bytes.subspan(static_cast<std::size_t>(overlap));
    if (bytes.empty()) return ok();
    if (writer.bytes_written() + bytes.size() > digest.size) {
      return fail(Error(ErrorCategory::validation,
                        fmt::format("more than the {} bytes of '{}' were sent: nothing stored",
                                    digest.size, key)));
    }
    FORGE_TRY_VOID(writer.write(bytes));
    active->committed = writer.bytes_written();
    upload->touched = std::chrono::steady_clock::now();
    return ok();
  };
  std::optional<ZstdDecompressor> decompressor;
  if (compressed) decompressor.emplace();

  std::uint64_t stream_offset = first_offset;  // what the next write_offset must be
  bool first = true;
  do {
    if (!first && !request.resource_name().empty() && request.resource_name() != key) {
      return invalid_argument("resource_name changed within one Write stream");
    }
    if (!first && request.write_offset() != static_cast<std::int64_t>(stream_offset)) {
      return invalid_argument(fmt::format("write_offset {} where {} was expected",
                                          request.write_offset(), stream_offset));
    }
    first = false;
    const auto data = std::as_bytes(std::span(request.data()));
    stream_offset += data.size();
    auto fed = decompressor ? decompressor->feed(data, consume) : consume(data);
    if (!fed) return to_grpc_status(fed.error());  // nothing stored: the temp goes
    if (request.finish_write()) {
      if (decompressor && !decompressor->at_frame_end()) {
        return invalid_argument(fmt::format("the zstd stream of '{}' is truncated", key));
      }
      auto committed = upload->writer.commit();
      if (!committed) return to_grpc_status(committed.error());  // mismatch: nothing stored
      response.set_committed_size(
          static_cast<std::int64_t>(compressed ? stream_offset : digest.size));
      return grpc::Status::OK;
    }
  } while (next());

  // The stream ended without finish_write: keep what arrived for a resumed Write (a
  // compressed one restarts with a new frame at the uncompressed committed_size).
  const auto committed = upload->writer.bytes_written();
  park(key, std::move(upload));
  response.set_committed_size(static_cast<std::int64_t>(committed));
  if (context.IsCancelled()) return cancelled();
  return grpc::Status::OK;
}

grpc::Status ByteStreamService::query(const bytestream::QueryWriteStatusRequest& request,
                                      bytestream::QueryWriteStatusResponse& response,
                                      CallScope& call) {
  auto resource = parse_write_resource(request.resource_name());
  if (!resource) return to_grpc_status(resource.error());
  call.set_instance(resource->instance_name);
  auto present = m_context.cas().contains(resource->digest);
  if (!present) return to_grpc_status(present.error());
  if (*present) {
    response.set_committed_size(static_cast<std::int64_t>(resource->digest.size));
    response.set_complete(true);
    return grpc::Status::OK;
  }
  std::lock_guard lock(m_mutex);
  if (auto found = m_pending.find(request.resource_name()); found != m_pending.end()) {
    response.set_committed_size(static_cast<std::int64_t>(found->second->writer.bytes_written()));
    return grpc::Status::OK;
  }
  if (auto found = m_active.find(request.resource_name()); found != m_active.end()) {
    response.set_committed_size(static_cast<std::int64_t>(found->second->committed.load()));
    return grpc::Status::OK;
  }
  return not_found(fmt::format("no upload '{}' in progress", request.resource_name()));
}

void ByteStreamService::park(const std::string& key, std::unique_ptr<PendingUpload> upload) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<PendingUpload>> dropped;  // destroyed (temp removed) unlocked
  std::lock_guard lock(m_mutex);
  drop_expired(now, dropped);
  while (!m_pending.empty() && m_pending.size() >= m_context.options.max_pending_uploads) {
    auto oldest = std::min_element(
        m_pending.begin(), m_pending.end(),
        [](const auto& a, const auto& b) { return a.second->touched < b.second->touched; });
    dropped.push_back(std::move(oldest->second));
    m_pending.erase(oldest);
  }
  if (m_context.options.max_pending_uploads > 0) m_pending[key] = std::move(upload);
}

void ByteStreamService::drop_expired(std::chrono::steady_clock::time_point now,
                                     std::vector<std::unique_ptr<PendingUpload>>& dropped) {
  for (auto it = m_pending.begin(); it != m_pending.end();) {
    if (now - it->second->touched < m_context.options.pending_upload_ttl) {
      ++it;
      continue;
    }
    dropped.push_back(std::move(it->second));
    it = m_pending.erase(it);
  }
}

void ByteStreamService::release(const std::string& key) {
  std::lock_guard lock(m_mutex);
  m_active.erase(key);
}

}  // namespace forge::bazel_remote
