#pragma once
// The gRPC service implementations behind GrpcServer (see grpc_server.h for the contract).
// Internal to forge_bazel_remote. Each service borrows the ServiceContext, which outlives
// the grpc::Server that calls it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "call_metrics.h"
#include "forge/bazel_remote/grpc_server.h"
#include "forge/cache/action_cache.h"
#include "google/bytestream/bytestream.grpc.pb.h"
#include "reapi_convert.h"

namespace forge::bazel_remote {

enum class Access : std::uint8_t { read, write };

struct ServiceContext {
  GrpcServerOptions options;
  std::shared_ptr<cache::ActionCache> cache;
  cache::CasStore& cas() const { return cache->cas(); }
  grpc::Status check_writable() const;  // PERMISSION_DENIED in read-only mode
  // UNAUTHENTICATED unless the call's `authorization` metadata grants `access`.
  grpc::Status authorize(const grpc::ServerContext& context, Access access) const;
  // authorize, then `handler()`.
  template <typename Handler>
  grpc::Status guarded(const grpc::ServerContext& context, Access access, Handler&& handler) const {
    if (auto status = authorize(context, access); !status.ok()) return status;
    return handler();
  }
};

class CapabilitiesService final : public reapi::Capabilities::Service {
 public:
  explicit CapabilitiesService(const ServiceContext& context) : m_context(context) {}
  grpc::Status GetCapabilities(grpc::ServerContext* context,
                               const reapi::GetCapabilitiesRequest* request,
                               reapi::ServerCapabilities* response) override;

 private:
  const ServiceContext& m_context;
  MethodMetrics m_get{"GetCapabilities"};
};

class ActionCacheService final : public reapi::ActionCache::Service {
 public:
  explicit ActionCacheService(const ServiceContext& context) : m_context(context) {}
  grpc::Status GetActionResult(grpc::ServerContext* context,
                               const reapi::GetActionResultRequest* request,
                               reapi::ActionResult* response) override;
  grpc::Status UpdateActionResult(grpc::ServerContext* context,
                                  const reapi::UpdateActionResultRequest* request,
                                  reapi::ActionResult* response) override;

 private:
  grpc::Status get(const reapi::GetActionResultRequest& request, reapi::ActionResult& response);
  grpc::Status update(const reapi::UpdateActionResultRequest& request,
                      reapi::ActionResult& response);
  const ServiceContext& m_context;
  MethodMetrics m_get{"GetActionResult"};
  MethodMetrics m_update{"UpdateActionResult"};
};

class CasService final : public reapi::ContentAddressableStorage::Service {
 public:
  explicit CasService(const ServiceContext& context) : m_context(context) {}
  grpc::Status FindMissingBlobs(grpc::ServerContext* context,
                                const reapi::FindMissingBlobsRequest* request,
                                reapi::FindMissingBlobsResponse* response) override;
  grpc::Status BatchUpdateBlobs(grpc::ServerContext* context,
                                const reapi::BatchUpdateBlobsRequest* request,
                                reapi::BatchUpdateBlobsResponse* response) override;
  grpc::Status BatchReadBlobs(grpc::ServerContext* context,
                              const reapi::BatchReadBlobsRequest* request,
                              reapi::BatchReadBlobsResponse* response) override;
  grpc::Status GetTree(grpc::ServerContext* context, const reapi::GetTreeRequest* request,
                       grpc::ServerWriter<reapi::GetTreeResponse>* writer) override;

 private:
  grpc::Status find_missing(const reapi::FindMissingBlobsRequest& request,
                            reapi::FindMissingBlobsResponse& response);
  grpc::Status batch_update(const reapi::BatchUpdateBlobsRequest& request,
                            reapi::BatchUpdateBlobsResponse& response);
  grpc::Status batch_read(const reapi::BatchReadBlobsRequest& request,
                          reapi::BatchReadBlobsResponse& response);
  grpc::Status get_tree(grpc::ServerContext& context, const reapi::GetTreeRequest& request,
                        grpc::ServerWriter<reapi::GetTreeResponse>& writer, CallScope& call);
  const ServiceContext& m_context;
  MethodMetrics m_find_missing{"FindMissingBlobs"};
  MethodMetrics m_batch_update{"BatchUpdateBlobs"};
  MethodMetrics m_batch_read{"BatchReadBlobs"};
  MethodMetrics m_get_tree{"GetTree"};
};

class ByteStreamService final : public google::bytestream::ByteStream::Service {
 public:
  explicit ByteStreamService(const ServiceContext& context) : m_context(context) {}
  ~ByteStreamService() override;
  grpc::Status Read(grpc::ServerContext* context, const google::bytestream::ReadRequest* request,
                    grpc::ServerWriter<google::bytestream::ReadResponse>* writer) override;
  grpc::Status Write(grpc::ServerContext* context,
                     grpc::ServerReader<google::bytestream::WriteRequest>* reader,
                     google::bytestream::WriteResponse* response) override;
  grpc::Status QueryWriteStatus(grpc::ServerContext* context,
                                const google::bytestream::QueryWriteStatusRequest* request,
                                google::bytestream::QueryWriteStatusResponse* response) override;

 private:
  // An upload between streams: its temp file and how far it got.
  struct PendingUpload {
    cache::BlobWriter writer;
    std::chrono::steady_clock::time_point touched;
  };
  // An upload a Write stream is working on; its progress is readable by QueryWriteStatus.
  struct ActiveUpload {
    std::atomic<std::uint64_t> committed{0};
  };

  // `call` counts the blob data bytes sent or received and takes the instance name.
  grpc::Status read(grpc::ServerContext& context, const google::bytestream::ReadRequest& request,
                    grpc::ServerWriter<google::bytestream::ReadResponse>& writer, CallScope& call);
  grpc::Status read_compressed(grpc::ServerContext& context, const cache::BlobReader& blob,
                               std::uint64_t offset,
                               grpc::ServerWriter<google::bytestream::ReadResponse>& writer,
                               CallScope& call);
  grpc::Status write(grpc::ServerContext& context,
                     grpc::ServerReader<google::bytestream::WriteRequest>& reader,
                     google::bytestream::WriteResponse& response, CallScope& call);
  grpc::Status query(const google::bytestream::QueryWriteStatusRequest& request,
                     google::bytestream::QueryWriteStatusResponse& response, CallScope& call);
  // Parks an unfinished upload for a later Write to resume, dropping expired ones and, at the
  // limit, the least recently touched.
  void park(const std::string& key, std::unique_ptr<PendingUpload> upload);
  void release(const std::string& key);  // the stream on `key` ended
  // REQUIRES: m_mutex held. Moves uploads idle for pending_upload_ttl into `dropped`, for the
  // caller to destroy (removing their temp files) after unlocking.
  void drop_expired(std::chrono::steady_clock::time_point now,
                    std::vector<std::unique_ptr<PendingUpload>>& dropped);

  const ServiceContext& m_context;
  MethodMetrics m_read{"Read"};
  MethodMetrics m_write{"Write"};
  MethodMetrics m_query{"QueryWriteStatus"};
  std::mutex m_mutex;
  std::map<std::string, std::unique_ptr<PendingUpload>> m_pending;  // guarded by m_mutex
  std::map<std::string, std::shared_ptr<ActiveUpload>> m_active;    // guarded by m_mutex
};

}  // namespace forge::bazel_remote
