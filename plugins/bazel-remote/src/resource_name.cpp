#include "forge/bazel_remote/resource_name.h"

#include <charconv>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <fmt/format.h>

namespace forge::bazel_remote {
namespace {

std::vector<std::string_view> split(std::string_view name) {
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (true) {
    const auto slash = name.find('/', start);
    segments.push_back(name.substr(start, slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return segments;
}

std::string join(std::span<const std::string_view> segments) {
  std::string out;
  for (const auto& segment : segments) {
    if (!out.empty()) out += '/';
    out += segment;
  }
  return out;
}

Error malformed(std::string_view name, std::string_view expected) {
  return Error(ErrorCategory::validation,
               fmt::format("malformed ByteStream resource name '{}': expected {}",
                           name.substr(0, 200), expected))
      .with_suggestion("use the resource names of the Remote Execution API v2");
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t size = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), size);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return size;
}

Result<cache::BlobDigest> digest_from(std::string_view name, std::string_view hash,
                                      std::string_view size_text, std::string_view expected) {
  const auto size = parse_size(size_text);
  if (!size || hash.size() != 64) return fail(malformed(name, expected));
  auto digest = cache::parse_blob_digest(hash, *size);
  if (!digest) return fail(malformed(name, expected));
  return digest;
}

Result<Compression> compression_from(std::string_view name, std::string_view compressor) {
  if (compressor == "zstd") return Compression::zstd;
  return fail(Error(ErrorCategory::validation,
                    fmt::format("compressor '{}' in resource name '{}' is not served: only zstd",
                                compressor.substr(0, 32), name.substr(0, 200)))
                  .with_suggestion("use a compressor listed in the server's capabilities"));
}

}  // namespace

Result<ReadResource> parse_read_resource(std::string_view name) {
  constexpr std::string_view k_expected =
      "[instance/]blobs/{hash}/{size} or [instance/]compressed-blobs/zstd/{hash}/{size}";
  const auto segments = split(name);
  const std::size_t n = segments.size();
  // blobs/{hash}/{size} or compressed-blobs/{compressor}/{hash}/{size} end the name.
  if (n >= 3 && segments[n - 3] == "blobs") {
    FORGE_TRY(auto digest, digest_from(name, segments[n - 2], segments[n - 1], k_expected));
    return ReadResource{join(std::span(segments).first(n - 3)), digest, Compression::identity};
  }
  if (n >= 4 && segments[n - 4] == "compressed-blobs") {
    FORGE_TRY(auto compression, compression_from(name, segments[n - 3]));
    FORGE_TRY(auto digest, digest_from(name, segments[n - 2], segments[n - 1], k_expected));
    return ReadResource{join(std::span(segments).first(n - 4)), digest, compression};
  }
  return fail(malformed(name, k_expected));
}

Result<WriteResource> parse_write_resource(std::string_view name) {
  constexpr std::string_view k_expected =
      "[instance/]uploads/{uuid}/blobs/{hash}/{size}[/...] or "
      "[instance/]uploads/{uuid}/compressed-blobs/zstd/{hash}/{size}[/...]";
  const auto segments = split(name);
  for (std::size_t at = 0; at + 2 < segments.size(); ++at) {
    if (segments[at] != "uploads") continue;
    const auto uuid = segments[at + 1];
    if (uuid.empty()) return fail(malformed(name, k_expected));
    const auto instance = join(std::span(segments).first(at));
    const auto rest = std::span(segments).subspan(at + 2);
    if (rest.size() >= 3 && rest[0] == "blobs") {
      FORGE_TRY(auto digest, digest_from(name, rest[1], rest[2], k_expected));
      return WriteResource{instance, std::string(uuid), digest, Compression::identity};
    }
    if (rest.size() >= 4 && rest[0] == "compressed-blobs") {
      FORGE_TRY(auto compression, compression_from(name, rest[1]));
      FORGE_TRY(auto digest, digest_from(name, rest[2], rest[3], k_expected));
      return WriteResource{instance, std::string(uuid), digest, compression};
    }
    return fail(malformed(name, k_expected));
  }
  return fail(malformed(name, k_expected));
}

}  // namespace forge::bazel_remote
