#include "forge/cache/blob_digest.h"

#include <charconv>

#include <fmt/format.h>

namespace forge::cache {

std::string BlobDigest::to_string() const {
  return fmt::format("{}/{}", sha256.hex(), size);
}

Result<BlobDigest> parse_blob_digest(std::string_view hex, std::uint64_t size) {
  FORGE_TRY(hash::Digest digest, hash::Digest::parse(hash::Algorithm::sha256, hex));
  return BlobDigest{digest, size};
}

Result<BlobDigest> parse_blob_digest(std::string_view text) {
  const auto slash = text.find('/');
  std::uint64_t size = 0;
  const auto size_text =
      slash == std::string_view::npos ? std::string_view() : text.substr(slash + 1);
  const auto [end, ec] =
      std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
  if (slash == std::string_view::npos || ec != std::errc() ||
      end != size_text.data() + size_text.size() || size_text.empty()) {
    return fail(Error(ErrorCategory::validation,
                      fmt::format("malformed blob digest '{}': expected <64 hex>/<size>",
                                  text.substr(0, 100)))
                    .with_suggestion("write the digest as printed by `forge cache put`, e.g. "
                                     "e3b0c442...b855/0"));
  }
  return parse_blob_digest(text.substr(0, slash), size);
}

BlobDigest digest_of(std::string_view content) {
  return BlobDigest{hash::sha256_of(content), content.size()};
}

const BlobDigest& empty_blob() {
  static const BlobDigest k_empty{hash::empty_sha256(), 0};
  return k_empty;
}

}  // namespace forge::cache
