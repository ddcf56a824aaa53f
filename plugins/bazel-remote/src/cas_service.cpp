// ContentAddressableStorage service: batch calls and GetTree over the CasStore.
#include <charconv>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <fmt/format.h>

#include "services.h"
#include "zstd_stream.h"

namespace forge::bazel_remote {
namespace {

// GetTree responses are split before they pass this many bytes, well under gRPC's default
// 4 MiB message limit on the client side.
constexpr std::size_t k_tree_response_bytes = 2u << 20;

grpc::Status check_batch_size(std::uint64_t total, std::uint64_t limit) {
  if (total <= limit) return grpc::Status::OK;
  return invalid_argument(fmt::format(
      "the batch holds {} bytes, more than max_batch_total_size_bytes ({}): use ByteStream", total,
      limit));
}

}  // namespace

grpc::Status CasService::FindMissingBlobs(grpc::ServerContext* context,
                                          const reapi::FindMissingBlobsRequest* request,
                                          reapi::FindMissingBlobsResponse* response) {
  CallScope call(m_find_missing, *context, *request);
  return call.finish(
      m_context.guarded(*context, Access::read, [&] { return find_missing(*request, *response); }),
      *response);
}

grpc::Status CasService::BatchUpdateBlobs(grpc::ServerContext* context,
                                          const reapi::BatchUpdateBlobsRequest* request,
                                          reapi::BatchUpdateBlobsResponse* response) {
  CallScope call(m_batch_update, *context, *request);
  return call.finish(
      m_context.guarded(*context, Access::write, [&] { return batch_update(*request, *response); }),
      *response);
}

grpc::Status CasService::BatchReadBlobs(grpc::ServerContext* context,
                                        const reapi::BatchReadBlobsRequest* request,
                                        reapi::BatchReadBlobsResponse* response) {
  CallScope call(m_batch_read, *context, *request);
  return call.finish(
      m_context.guarded(*context, Access::read, [&] { return batch_read(*request, *response); }),
      *response);
}

grpc::Status CasService::GetTree(grpc::ServerContext* context, const reapi::GetTreeRequest* request,
                                 grpc::ServerWriter<reapi::GetTreeResponse>* writer) {
  CallScope call(m_get_tree, *context, *request);
  return call.finish(m_context.guarded(
      *context, Access::read, [&] { return get_tree(*context, *request, *writer, call); }));
}

grpc::Status CasService::find_missing(const reapi::FindMissingBlobsRequest& request,
                                      reapi::FindMissingBlobsResponse& response) {
  if (auto status = check_digest_function(request.digest_function()); !status.ok()) return status;
  std::vector<cache::BlobDigest> digests;
  digests.reserve(static_cast<std::size_t>(request.blob_digests_size()));
  for (const auto& proto : request.blob_digests()) {
    auto digest = from_proto(proto);
    if (!digest) return to_grpc_status(digest.error());
    digests.push_back(*digest);
  }
  auto missing = m_context.cas().find_missing(digests);
  if (!missing) return to_grpc_status(missing.error());
  for (const auto& digest : *missing) *response.add_missing_blob_digests() = to_proto(digest);
  return grpc::Status::OK;
}

grpc::Status CasService::batch_update(const reapi::BatchUpdateBlobsRequest& request,
                                      reapi::BatchUpdateBlobsResponse& response) {
  if (auto status = m_context.check_writable(); !status.ok()) return status;
  if (auto status = check_digest_function(request.digest_function()); !status.ok()) return status;
  std::uint64_t total = 0;
  for (const auto& blob : request.requests()) total += blob.data().size();
  if (auto status = check_batch_size(total, m_context.options.max_batch_total_size_bytes);
      !status.ok()) {
    return status;
  }
  for (const auto& blob : request.requests()) {
    auto& entry = *response.add_responses();
    *entry.mutable_digest() = blob.digest();
    auto status = [&]() -> grpc::Status {
      auto digest = from_proto(blob.digest());
      if (!digest) return to_grpc_status(digest.error());
      std::string decompressed;
      std::string_view data = blob.data();
      switch (blob.compressor()) {
        case reapi::Compressor::IDENTITY: break;
        case reapi::Compressor::ZSTD: {
          auto decoded = zstd_decompress(data, digest->size);
          if (!decoded) return to_grpc_status(decoded.error());
          decompressed = std::move(*decoded);
          data = decompressed;
          break;
        }
        default:
          return invalid_argument(fmt::format("compressor {} is not served: only zstd",
                                              reapi::Compressor::Value_Name(blob.compressor())));
      }
      if (digest->size != data.size()) {
        return invalid_argument(
            fmt::format("blob {} carries {} bytes", digest->to_string(), data.size()));
      }
      auto stored = m_context.cas().put(std::as_bytes(std::span(data)), *digest);
      if (!stored) return to_grpc_status(stored.error());
      return grpc::Status::OK;
    }();
    to_proto(status, entry.mutable_status());
  }
  return grpc::Status::OK;
}

grpc::Status CasService::batch_read(const reapi::BatchReadBlobsRequest& request,
                                    reapi::BatchReadBlobsResponse& response) {
  if (auto status = check_digest_function(request.digest_function()); !status.ok()) return status;
  std::uint64_t total = 0;
  for (const auto& digest : request.digests()) {
    total += static_cast<std::uint64_t>(std::max<std::int64_t>(digest.size_bytes(), 0));
  }
  if (auto status = check_batch_size(total, m_context.options.max_batch_total_size_bytes);
      !status.ok()) {
    return status;
  }
  for (const auto& proto : request.digests()) {
    auto& entry = *response.add_responses();
    *entry.mutable_digest() = proto;
    auto status = [&]() -> grpc::Status {
      auto digest = from_proto(proto);
      if (!digest) return to_grpc_status(digest.error());
      auto content = m_context.cas().get(*digest);
      if (!content) return to_grpc_status(content.error());
      if (!*content || (*content)->size() != digest->size) {
        return not_found(fmt::format("blob {} is not in the CAS", digest->to_string()));
      }
      entry.set_data(std::move(**content));
      return grpc::Status::OK;
    }();
    to_proto(status, entry.mutable_status());
  }
  return grpc::Status::OK;
}

// Breadth-first from the root, each directory once. A page token is the number of
// directories already returned: the walk is deterministic, so a later page replays it and
// skips that many. Subtrees whose Directory blob is missing are omitted (REAPI allows it).
grpc::Status CasService::get_tree(grpc::ServerContext& context,
                                  const reapi::GetTreeRequest& request,
                                  grpc::ServerWriter<reapi::GetTreeResponse>& writer,
                                  CallScope& call) {
  if (auto status = check_digest_function(request.digest_function()); !status.ok()) return status;
  auto root = from_proto(request.root_digest());
  if (!root) return to_grpc_status(root.error());
  if (request.page_size() < 0) return invalid_argument("page_size must not be negative");
  std::uint64_t skip = 0;
  if (!request.page_token().empty()) {
    const auto& token = request.page_token();
    const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), skip);
    if (ec != std::errc() || end != token.data() + token.size()) {
      return invalid_argument(
          fmt::format("page_token '{}' was not issued by this server", token.substr(0, 64)));
    }
  }
  const auto page_size = static_cast<std::uint64_t>(request.page_size());

  std::deque<cache::BlobDigest> queue{*root};
  std::unordered_set<hash::Digest> seen{root->sha256};
  std::uint64_t index = 0;  // directories walked so far
  std::uint64_t sent = 0;   // ... of which in this page
  reapi::GetTreeResponse response;
  const auto send = [&] {
    const auto size = response.ByteSizeLong();
    if (!writer.Write(response)) return false;
    call.add_out(size);
    return true;
  };
  bool root_seen = false;
  while (!queue.empty()) {
    if (context.IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    const auto digest = queue.front();
    queue.pop_front();
    auto content = m_context.cas().get(digest);
    if (!content) return to_grpc_status(content.error());
    if (!*content || (*content)->size() != digest.size) {
      if (!root_seen)
        return not_found(fmt::format("root directory {} is missing", digest.to_string()));
      continue;
    }
    root_seen = true;
    reapi::Directory directory;
    if (!directory.ParseFromString(**content)) {
      return invalid_argument(fmt::format("blob {} is not a Directory", digest.to_string()));
    }
    for (const auto& child : directory.directories()) {
      auto child_digest = from_proto(child.digest());
      if (!child_digest) return to_grpc_status(child_digest.error());
      if (seen.insert(child_digest->sha256).second) queue.push_back(*child_digest);
    }
    if (index++ < skip) continue;
    *response.add_directories() = std::move(directory);
    ++sent;
    if (page_size > 0 && sent == page_size && !queue.empty()) {
      response.set_next_page_token(std::to_string(index));
      break;
    }
    if (response.ByteSizeLong() >= k_tree_response_bytes) {
      if (!send()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
      response.Clear();
    }
  }
  if (response.directories_size() > 0 || !response.next_page_token().empty() || sent == 0) {
    if (!send()) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
  }
  return grpc::Status::OK;
}

}  // namespace forge::bazel_remote
