#include "http_route.h"

#include <array>

#include <fmt/format.h>

#include "forge/bazel_remote/http_server.h"
#include "forge/core/hash/digest.h"

namespace forge::bazel_remote {
namespace {

constexpr std::array<std::string_view, k_route_kinds> k_endpoints{
    "cas", "ac", "status", "metrics", "healthz", "raw", "turbo", "turbo", "turbo", "other"};

Route make(RouteKind kind) {
  return Route{.kind = kind, .endpoint = endpoint_name(kind)};
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// The value of `name` in a query string ("a=1&b=2"), as written (not percent-decoded).
std::string_view query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=') {
      return pair.substr(name.size() + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

Route turbo_route(std::string_view rest, std::string_view query) {
  if (rest == "status") return make(RouteKind::turbo_status);
  if (rest == "events") return make(RouteKind::turbo_events);
  if (rest.empty() || rest.find('/') != std::string_view::npos) return make(RouteKind::unknown);
  Route route = make(RouteKind::turbo_artifact);
  route.hash = rest;
  // Turborepo sends the team as ?teamId=team_... or ?slug=name; either one scopes the key.
  std::string team;
  if (const auto id = query_value(query, "teamId"); !id.empty()) {
    team = "id:" + std::string(id);
  } else if (const auto slug = query_value(query, "slug"); !slug.empty()) {
    team = "slug:" + std::string(slug);
  }
  route.key = turbo_key(team, rest);
  route.tag_key = turbo_tag_key(team, rest);
  return route;
}

}  // namespace

Result<std::optional<std::string>> parse_raw_prefix(std::string_view text) {
  if (text == "off") return std::optional<std::string>();
  if (text.size() > 256 || !text.starts_with('/') || !text.ends_with('/') ||
      text.find_first_of(std::string_view("?# \t\r\n\0", 7)) != std::string_view::npos) {
    return fail(
        Error(ErrorCategory::validation,
              fmt::format("raw entry prefix '{}' is not a path prefix", text.substr(0, 100)))
            .with_suggestion("use '/' (every path), a prefix such as '/ccache/' that "
                             "starts and ends with '/' (no '?', '#' or spaces), or 'off'"));
  }
  return std::optional<std::string>(text);
}

std::string_view endpoint_name(RouteKind kind) {
  return k_endpoints[static_cast<std::size_t>(kind)];
}

Route parse_route(std::string_view target, const RouteOptions& options) {
  std::string_view query;
  if (const auto at = target.find('?'); at != std::string_view::npos) {
    query = target.substr(at + 1);
    target = target.substr(0, at);
  }
  if (target == "/status") return make(RouteKind::status);
  if (target == "/metrics") return make(RouteKind::metrics);
  if (target == "/healthz") return make(RouteKind::healthz);
  constexpr std::string_view k_turbo = "/v8/artifacts/";
  if (target.starts_with(k_turbo)) return turbo_route(target.substr(k_turbo.size()), query);
  if (target == "/v8" || target.starts_with("/v8/")) return make(RouteKind::unknown);
  if (!target.starts_with('/')) return make(RouteKind::unknown);  // "*", absolute URLs
  const auto last = target.rfind('/');
  const auto hash = target.substr(last + 1);
  // [/<instance>...]/(ac|cas)/<hash>
  if (last > 0) {
    const auto before = target.substr(0, last);
    const auto kind_start = before.rfind('/');
    const auto kind = before.substr(kind_start + 1);
    if (kind == "cas" || kind == "ac") {
      Route route = make(kind == "cas" ? RouteKind::cas : RouteKind::ac);
      route.hash = hash;
      route.instance = target.substr(0, kind_start);
      while (route.instance.starts_with('/')) route.instance.remove_prefix(1);
      if (route.kind == RouteKind::ac && hash::is_hex64(hash)) {
        route.key = ac_key(options.instances, route.instance, lower(hash));
      }
      return route;
    }
  }
  if (!options.raw_prefix || hash.empty() || !target.starts_with(*options.raw_prefix)) {
    return make(RouteKind::unknown);
  }
  Route route = make(RouteKind::raw);
  route.path = target;
  route.key = raw_path_key(target);
  return route;
}

}  // namespace forge::bazel_remote
