#pragma once
// The keys under which the HTTP and gRPC front ends file entries in the ActionCache's
// keyspaces (forge/cache/action_cache.h). Internal to forge_bazel_remote.
//
//   ac keys        the action digest's 64 lowercase hex digits; with InstanceMode::isolated
//                  and a non-empty instance name, "i." + sha256(instance "\n" digest) instead,
//                  so each instance has its own action cache (the empty instance keeps the
//                  plain key: a client without an instance sees what it always saw).
//   raw paths      "r." + sha256(path): any HTTP path that is not one of Forge's own routes
//                  (ccache's subdirs/flat layouts, Gradle). A path is hashed, not escaped:
//                  keys are limited to 256 characters of [0-9A-Za-z._-] and paths are not,
//                  and the "r." prefix can never equal a 64-hex /ac/ key filed in the same
//                  raw keyspace by --ac-raw.
//   turbo          "t." + sha256(team "\n" hash): Turborepo artifacts, per team.
// Threading: pure functions.

#include <string>
#include <string_view>

#include "forge/bazel_remote/instances.h"

namespace forge::bazel_remote {

// `digest_hex` must be 64 lowercase hex digits.
std::string ac_key(InstanceMode mode, std::string_view instance, std::string_view digest_hex);
std::string raw_path_key(std::string_view path);
std::string turbo_key(std::string_view team, std::string_view hash);
// The raw key of the signature (`x-artifact-tag`) Turborepo sent with that artifact.
std::string turbo_tag_key(std::string_view team, std::string_view hash);
// A tag Forge keeps and sends back: 1 to k_max_artifact_tag printable ASCII characters (what
// Turborepo sends is base64 of an HMAC-SHA256). Anything else could not be a header value.
inline constexpr std::size_t k_max_artifact_tag = 256;
bool is_valid_artifact_tag(std::string_view tag);

}  // namespace forge::bazel_remote
