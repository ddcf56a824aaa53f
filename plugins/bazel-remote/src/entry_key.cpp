#include "entry_key.h"

#include <algorithm>

#include <fmt/format.h>

#include "forge/core/hash/hasher.h"

namespace forge::bazel_remote {
namespace {

std::string hashed(std::string_view tag, std::string_view scope, std::string_view name) {
  hash::MultiHasher hasher(hash::AlgorithmSet::only(hash::Algorithm::sha256));
  hasher.update(scope);
  hasher.update(std::string_view("\n"));
  hasher.update(name);
  return std::string(tag) + hasher.finish().sha256->hex();
}

}  // namespace

Result<InstanceMode> parse_instance_mode(std::string_view text) {
  if (text == "shared") return InstanceMode::shared;
  if (text == "isolated") return InstanceMode::isolated;
  return fail(Error(ErrorCategory::validation,
                    fmt::format("instance mode '{}' is not known", text.substr(0, 64)))
                  .with_suggestion("use 'shared' (one action cache for every instance name) "
                                   "or 'isolated' (one per instance name)"));
}

std::string_view instance_mode_name(InstanceMode mode) {
  return mode == InstanceMode::isolated ? "isolated" : "shared";
}

std::string ac_key(InstanceMode mode, std::string_view instance, std::string_view digest_hex) {
  if (mode == InstanceMode::shared || instance.empty()) return std::string(digest_hex);
  return hashed("i.", instance, digest_hex);
}

std::string raw_path_key(std::string_view path) {
  hash::MultiHasher hasher(hash::AlgorithmSet::only(hash::Algorithm::sha256));
  hasher.update(path);
  return "r." + hasher.finish().sha256->hex();
}

std::string turbo_key(std::string_view team, std::string_view hash) {
  return hashed("t.", team, hash);
}

std::string turbo_tag_key(std::string_view team, std::string_view hash) {
  return hashed("g.", team, hash);
}

bool is_valid_artifact_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > k_max_artifact_tag) return false;
  return std::all_of(tag.begin(), tag.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

}  // namespace forge::bazel_remote
