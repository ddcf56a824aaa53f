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

}  // namespace

Result<ReadResource> parse_read_resource(std::string_view name) {
  constexpr std::string_view k_expected = "[instance/]blobs/{hash}/{size}";
  const auto segments = split(name);
  // blobs/{hash}/{size} are the last three segments.
  if (segments.size() < 3 || segments[segments.size() - 3] != "blobs") {
    return fail(malformed(name, k_expected));
  }
  const std::size_t at = segments.size() - 3;
  FORGE_TRY(auto digest, digest_from(name, segments[at + 1], segments[at + 2], k_expected));
  return ReadResource{join(std::span(segments).first(at)), digest};
}

Result<WriteResource> parse_write_resource(std::string_view name) {
  constexpr std::string_view k_expected = "[instance/]uploads/{uuid}/blobs/{hash}/{size}[/...]";
  const auto segments = split(name);
  for (std::size_t at = 0; at + 4 < segments.size(); ++at) {
    if (segments[at] != "uploads" || segments[at + 2] != "blobs") continue;
    if (segments[at + 1].empty()) return fail(malformed(name, k_expected));
    FORGE_TRY(auto digest, digest_from(name, segments[at + 3], segments[at + 4], k_expected));
    return WriteResource{join(std::span(segments).first(at)), std::string(segments[at + 1]),
                         digest};
  }
  return fail(malformed(name, k_expected));
}

}  // namespace forge::bazel_remote
