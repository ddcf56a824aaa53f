#pragma once
// ByteStream resource names as REAPI v2 defines them:
//   read:  [{instance_name}/]blobs/{hash}/{size}
//   write: [{instance_name}/]uploads/{uuid}/blobs/{hash}/{size}[/{anything}]
// The instance name may have several segments; the first segment sequence that matches the
// pattern wins (REAPI forbids instance names containing `blobs` or `uploads` segments).
// Compressed resource names (`compressed-blobs/...`) are not supported: Forge advertises no
// compressors. Malformed names are a Validation error naming the problem.

#include <string>
#include <string_view>

#include "forge/cache/blob_digest.h"
#include "forge/core/support/error.h"

namespace forge::bazel_remote {

struct ReadResource {
  std::string instance_name;  // "" when absent
  cache::BlobDigest digest;
};

struct WriteResource {
  std::string instance_name;
  std::string uuid;
  cache::BlobDigest digest;
};

[[nodiscard]] Result<ReadResource> parse_read_resource(std::string_view name);
[[nodiscard]] Result<WriteResource> parse_write_resource(std::string_view name);

}  // namespace forge::bazel_remote
