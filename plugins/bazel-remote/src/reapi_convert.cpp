#include "reapi_convert.h"

#include <cerrno>

#include <fmt/format.h>

#include "forge/core/support/log.h"

namespace forge::bazel_remote {

grpc::Status to_grpc_status(const Error& error) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (error.category()) {
    case ErrorCategory::validation: code = grpc::StatusCode::INVALID_ARGUMENT; break;
    case ErrorCategory::timeout: code = grpc::StatusCode::DEADLINE_EXCEEDED; break;
    case ErrorCategory::network: code = grpc::StatusCode::UNAVAILABLE; break;
    case ErrorCategory::file_system:
      code = (error.code() == ENOSPC || error.code() == EDQUOT)
                 ? grpc::StatusCode::RESOURCE_EXHAUSTED
                 : grpc::StatusCode::INTERNAL;
      break;
    default: code = grpc::StatusCode::INTERNAL; break;
  }
  // The client's mistakes are its to report; the server's own failures are logged here.
  if (code != grpc::StatusCode::INVALID_ARGUMENT) support::log_error(error);
  return grpc::Status(code, error.summary());
}

grpc::Status invalid_argument(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

grpc::Status not_found(std::string message) {
  return grpc::Status(grpc::StatusCode::NOT_FOUND, std::move(message));
}

Result<cache::BlobDigest> from_proto(const reapi::Digest& digest) {
  if (digest.size_bytes() < 0) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("digest {} has negative size {}", digest.hash().substr(0, 64),
                                  digest.size_bytes())));
  }
  if (digest.hash().size() != 64) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("digest hash '{}' is not 64 hex digits: only SHA-256 is served",
                                  digest.hash().substr(0, 128)))
                    .with_suggestion("configure the client for SHA-256 digests"));
  }
  return cache::parse_blob_digest(digest.hash(), static_cast<std::uint64_t>(digest.size_bytes()));
}

reapi::Digest to_proto(const cache::BlobDigest& digest) {
  reapi::Digest out;
  out.set_hash(digest.sha256.hex());
  out.set_size_bytes(static_cast<std::int64_t>(digest.size));
  return out;
}

void to_proto(const grpc::Status& status, google::rpc::Status* out) {
  out->set_code(static_cast<int>(status.error_code()));
  out->set_message(status.error_message());
}

grpc::Status check_digest_function(reapi::DigestFunction::Value function) {
  if (function == reapi::DigestFunction::UNKNOWN || function == reapi::DigestFunction::SHA256) {
    return grpc::Status::OK;
  }
  return invalid_argument(fmt::format("digest function {} is not served: only SHA256",
                                      reapi::DigestFunction::Value_Name(function)));
}

}  // namespace forge::bazel_remote
