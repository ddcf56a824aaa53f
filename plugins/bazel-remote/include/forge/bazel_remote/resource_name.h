#pragma once
// ByteStream resource names as REAPI v2 defines them:
//   read:  [{instance_name}/]blobs/{hash}/{size}
//          [{instance_name}/]compressed-blobs/zstd/{hash}/{size}
//   write: [{instance_name}/]uploads/{uuid}/blobs/{hash}/{size}[/{anything}]
//          [{instance_name}/]uploads/{uuid}/compressed-blobs/zstd/{hash}/{size}[/{anything}]
// {hash}/{size} is always the digest of the uncompressed blob. The instance name may have
// several segments; the first segment sequence that matches the pattern wins (REAPI forbids
// `blobs`, `uploads` and `compressed-blobs` segments in instance names). The optional
// {digest_function/} segment is only for digest functions other than SHA-256, which Forge
// does not serve. Malformed names and compressors other than zstd are a Validation error.
// Pure functions: thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "forge/cache/blob_digest.h"
#include "forge/core/support/error.h"

namespace forge::bazel_remote {

enum class Compression : std::uint8_t { identity, zstd };

struct ReadResource {
  std::string instance_name;  // "" when absent
  cache::BlobDigest digest;
  Compression compression = Compression::identity;
};

struct WriteResource {
  std::string instance_name;
  std::string uuid;
  cache::BlobDigest digest;
  Compression compression = Compression::identity;
};

[[nodiscard]] Result<ReadResource> parse_read_resource(std::string_view name);
[[nodiscard]] Result<WriteResource> parse_write_resource(std::string_view name);

}  // namespace forge::bazel_remote
