#pragma once
// BlobDigest: a CAS key as REAPI spells it — the SHA-256 of the content plus its size.
// Value type; parsing rejects malformed input with a Validation error naming the reason.
// Thread-compatible, as a plain value is.

#include <cstdint>
#include <string>
#include <string_view>

#include "forge/core/hash/digest.h"

namespace forge::cache {

struct BlobDigest {
  hash::Digest sha256;
  std::uint64_t size = 0;

  std::string to_string() const;  // "<hex>/<size>"
  bool operator==(const BlobDigest&) const = default;
};

// `hex` must be 64 hex digits.
Result<BlobDigest> parse_blob_digest(std::string_view hex, std::uint64_t size);
// "<hex>/<size>", as printed by to_string() and `forge cache put`.
Result<BlobDigest> parse_blob_digest(std::string_view text);

BlobDigest digest_of(std::string_view content);
const BlobDigest& empty_blob();

}  // namespace forge::cache
