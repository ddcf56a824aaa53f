#include "http_route.h"

namespace forge::bazel_remote {

Route parse_route(std::string_view target) {
  if (const auto query = target.find('?'); query != std::string_view::npos) {
    target = target.substr(0, query);
  }
  if (target == "/status") return {RouteKind::status, {}, "status"};
  if (target == "/metrics") return {RouteKind::metrics, {}, "metrics"};
  if (target == "/healthz") return {RouteKind::healthz, {}, "healthz"};
  // [/<instance>...]/(ac|cas)/<hash>
  const auto last = target.rfind('/');
  if (last == std::string_view::npos || last == 0) return {};
  const auto hash = target.substr(last + 1);
  const auto before = target.substr(0, last);
  const auto kind_start = before.rfind('/');
  if (kind_start == std::string_view::npos) return {};
  const auto kind = before.substr(kind_start + 1);
  if (kind == "cas") return {RouteKind::cas, hash, "cas"};
  if (kind == "ac") return {RouteKind::ac, hash, "ac"};
  return {};
}

}  // namespace forge::bazel_remote
