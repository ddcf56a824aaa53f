#pragma once
// The routes of the HTTP cache protocol (see http_server.h), as a pure function of the
// request target. Internal to forge_bazel_remote.
//
// parse_route(target, options), in this order (a query string is ignored but for Turborepo's
// team parameter):
//   /status, /metrics, /healthz                      exactly
//   /v8/artifacts/status, /v8/artifacts/events        Turborepo's service endpoints
//   /v8/artifacts/<hash>                              a Turborepo artifact (key per team:
//                                                     ?teamId= or ?slug=)
//   /v8/...                                           unknown (Turborepo's namespace)
//   [/<instance>...]/(cas|ac)/<hash>                  the hash returned as written (its validity
//                                                     is the handler's to check: a 400, not a
//                                                     404)
//   any other path under options.raw_prefix           a raw entry (its key: entry_key.h)
//   anything else                                     unknown
// A raw path must end in a non-empty segment ("/x/" and "/" are unknown).
// Threading: pure functions, no state. The views point into the target given.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "entry_key.h"

namespace forge::bazel_remote {

enum class RouteKind : std::uint8_t {
  cas,
  ac,
  status,
  metrics,
  healthz,
  raw,
  turbo_artifact,
  turbo_status,
  turbo_events,
  unknown,  // last: the number of kinds is unknown + 1
};
inline constexpr std::size_t k_route_kinds = static_cast<std::size_t>(RouteKind::unknown) + 1;

// The metric label of each kind ("other" for unknown).
std::string_view endpoint_name(RouteKind kind);

struct RouteOptions {
  // Raw entries are the paths that start with this prefix ("/": every path that is not one
  // of Forge's own routes); nullopt: no raw entries.
  std::optional<std::string> raw_prefix = std::string("/");
  InstanceMode instances = InstanceMode::shared;
};

struct Route {
  RouteKind kind = RouteKind::unknown;
  std::string_view hash;                // cas/ac/turbo: the last path segment, unchecked
  std::string_view instance;            // cas/ac: what precedes /cas/ or /ac/, no slashes around
  std::string_view path;                // raw: the path, query removed
  std::string_view endpoint = "other";  // metric label
  // ac (when `hash` is a SHA-256), raw and turbo_artifact: the key in the ActionCache.
  std::string key;
  // turbo_artifact: the raw key of the artifact's signature tag (x-artifact-tag).
  std::string tag_key;
};

Route parse_route(std::string_view target, const RouteOptions& options = {});

}  // namespace forge::bazel_remote
