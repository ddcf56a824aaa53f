#pragma once
// The routes of the HTTP cache protocol (see http_server.h), as a pure function of the
// request target. Internal to forge_bazel_remote.
//
// parse_route("/[<instance>/...]cas/<hash>") -> {cas, hash}; a query string is ignored.
// The hash is returned as written (its validity is the handler's to check: a 400, not a 404).
// Threading: pure functions, no state. The views point into the target given.

#include <cstdint>
#include <string_view>

namespace forge::bazel_remote {

enum class RouteKind : std::uint8_t { cas, ac, status, metrics, healthz, unknown };

struct Route {
  RouteKind kind = RouteKind::unknown;
  std::string_view hash;                // cas/ac: the last path segment, unchecked
  std::string_view endpoint = "other";  // metric label
};

Route parse_route(std::string_view target);

}  // namespace forge::bazel_remote
