#pragma once
// Conversions between Forge's types and the REAPI / gRPC ones, shared by the services.
// Internal to forge_bazel_remote.

#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "build/bazel/remote/execution/v2/remote_execution.pb.h"
#include "forge/cache/blob_digest.h"
#include "forge/core/support/error.h"
#include "google/rpc/status.pb.h"

namespace forge::bazel_remote {

namespace reapi = build::bazel::remote::execution::v2;

// Validation → INVALID_ARGUMENT, Timeout → DEADLINE_EXCEEDED, Network → UNAVAILABLE,
// ENOSPC/EDQUOT → RESOURCE_EXHAUSTED, anything else → INTERNAL. The message is the summary.
// Everything but INVALID_ARGUMENT is logged (a server-side failure).
grpc::Status to_grpc_status(const Error& error);
grpc::Status invalid_argument(std::string message);
grpc::Status not_found(std::string message);

// A Validation error for a hash that is not 64 hex digits or a negative size.
Result<cache::BlobDigest> from_proto(const reapi::Digest& digest);
reapi::Digest to_proto(const cache::BlobDigest& digest);
void to_proto(const grpc::Status& status, google::rpc::Status* out);

// OK for UNKNOWN (clients that predate the field) and SHA256; INVALID_ARGUMENT otherwise.
grpc::Status check_digest_function(reapi::DigestFunction::Value function);

}  // namespace forge::bazel_remote
