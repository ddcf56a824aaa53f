#include <string_view>

#include "request_metadata.h"
#include "services.h"

namespace forge::bazel_remote {

grpc::Status ServiceContext::check_writable() const {
  if (!options.read_only) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      "this Forge cache is read-only: writes are refused");
}

grpc::Status ServiceContext::authorize(const grpc::ServerContext& context, Access access) const {
  if (!options.auth) return grpc::Status::OK;
  const auto& metadata = context.client_metadata();
  const auto found = metadata.find("authorization");
  const std::string_view authorization =
      found == metadata.end() ? std::string_view()
                              : std::string_view(found->second.data(), found->second.size());
  switch (options.auth->check(authorization, access == Access::write)) {
    case AuthResult::allowed: return grpc::Status::OK;
    case AuthResult::missing_credentials:
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "credentials required: send an `authorization` header (Basic or Bearer)");
    case AuthResult::bad_credentials:
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "the credentials were not accepted");
    default: return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "not authorized");
  }
}

grpc::Status CapabilitiesService::GetCapabilities(grpc::ServerContext* context,
                                                  const reapi::GetCapabilitiesRequest* request,
                                                  reapi::ServerCapabilities* response) {
  CallScope call(m_get, *context, *request);
  if (auto status = m_context.authorize(*context, Access::read); !status.ok()) {
    return call.finish(status);
  }
  auto& cache = *response->mutable_cache_capabilities();
  cache.add_digest_functions(reapi::DigestFunction::SHA256);
  // Read-only says update_enabled = false, except to Bazel before 6.0, which takes that as
  // fatal (exit 34): it is told true and its writes are refused (PERMISSION_DENIED), which
  // it reports as warnings.
  const bool old_bazel = client_metadata_of(context->client_metadata()).old_bazel();
  cache.mutable_action_cache_update_capabilities()->set_update_enabled(
      !m_context.options.read_only || old_bazel);
  cache.set_max_batch_total_size_bytes(
      static_cast<std::int64_t>(m_context.options.max_batch_total_size_bytes));
  // The store keeps symlink targets as opaque strings: absolute ones round-trip too.
  cache.set_symlink_absolute_path_strategy(reapi::SymlinkAbsolutePathStrategy::ALLOWED);
  // zstd for ByteStream compressed-blobs and batch uploads (IDENTITY is implicit).
  cache.add_supported_compressors(reapi::Compressor::ZSTD);
  cache.add_supported_batch_update_compressors(reapi::Compressor::ZSTD);
  auto& low = *response->mutable_low_api_version();
  low.set_major(2);
  low.set_minor(0);
  auto& high = *response->mutable_high_api_version();
  high.set_major(2);
  high.set_minor(3);
  return call.finish(grpc::Status::OK, *response);
}

}  // namespace forge::bazel_remote
