// parse_route: the HTTP cache protocol's routes as a pure function of the request target.
#include "http_route.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace forge::bazel_remote {
namespace {

const std::string k_hash(64, 'a');

TEST(HttpRouteTest, CasAndAcWithOrWithoutAnInstancePrefix) {
  for (const std::string prefix : {"", "/instance", "/a/b/c"}) {
    const std::string cas = prefix + "/cas/" + k_hash;
    const std::string ac = prefix + "/ac/" + k_hash;
    const Route cas_route = parse_route(cas);
    EXPECT_EQ(cas_route.kind, RouteKind::cas) << cas;
    EXPECT_EQ(cas_route.hash, k_hash);
    EXPECT_EQ(cas_route.endpoint, "cas");
    const Route ac_route = parse_route(ac);
    EXPECT_EQ(ac_route.kind, RouteKind::ac) << ac;
    EXPECT_EQ(ac_route.hash, k_hash);
    EXPECT_EQ(ac_route.endpoint, "ac");
  }
}

TEST(HttpRouteTest, TheHashIsReturnedUncheckedForTheHandlerToReject) {
  EXPECT_EQ(parse_route("/cas/xyz").hash, "xyz");
  EXPECT_EQ(parse_route("/cas/").kind, RouteKind::cas);
  EXPECT_EQ(parse_route("/cas/").hash, "");
}

TEST(HttpRouteTest, ServiceEndpointsMatchExactlyAndIgnoreTheQuery) {
  EXPECT_EQ(parse_route("/status").kind, RouteKind::status);
  EXPECT_EQ(parse_route("/status?pretty=1").kind, RouteKind::status);
  EXPECT_EQ(parse_route("/metrics").kind, RouteKind::metrics);
  EXPECT_EQ(parse_route("/healthz").kind, RouteKind::healthz);
  EXPECT_EQ(parse_route("/cas/" + k_hash + "?x=1").hash, k_hash);
}

TEST(HttpRouteTest, PathsThatAreNoServiceRouteAreRawEntries) {
  for (const std::string& target : std::vector<std::string>{
           "/ccache/ab/cdef0123", "/ccache/abcdef0123", "/blob/" + k_hash, "/cas", "/ac",
           "/x/status", "/statusz", "/gradle/0123456789abcdef", "/a/cas/x/y"}) {
    const Route route = parse_route(target);
    EXPECT_EQ(route.kind, RouteKind::raw) << target;
    EXPECT_EQ(route.endpoint, "raw") << target;
    EXPECT_EQ(route.path, target);
    EXPECT_EQ(route.key, raw_path_key(target));
    EXPECT_TRUE(route.key.starts_with("r.")) << route.key;
  }
  // The query is not part of the name.
  EXPECT_EQ(parse_route("/ccache/ab/cd?x=1").key, parse_route("/ccache/ab/cd").key);
  EXPECT_NE(parse_route("/ccache/ab/cd").key, parse_route("/ccache/abcd").key);
  // The same key under another prefix is another entry.
  EXPECT_NE(parse_route("/one/ab/cd").key, parse_route("/two/ab/cd").key);
}

TEST(HttpRouteTest, ARawPrefixRestrictsRawEntriesAndNoneTurnsThemOff) {
  RouteOptions restricted;
  restricted.raw_prefix = "/ccache/";
  EXPECT_EQ(parse_route("/ccache/ab/cd", restricted).kind, RouteKind::raw);
  EXPECT_EQ(parse_route("/gradle/abcd", restricted).kind, RouteKind::unknown);
  EXPECT_EQ(parse_route("/ccachex/abcd", restricted).kind, RouteKind::unknown);
  EXPECT_EQ(parse_route("/cas/" + k_hash, restricted).kind, RouteKind::cas);
  RouteOptions off;
  off.raw_prefix.reset();
  EXPECT_EQ(parse_route("/ccache/ab/cd", off).kind, RouteKind::unknown);
  EXPECT_EQ(parse_route("/ac/" + k_hash, off).kind, RouteKind::ac);
  EXPECT_EQ(parse_route("/healthz", off).kind, RouteKind::healthz);
}

TEST(HttpRouteTest, AcKeysAreSharedAcrossInstancesUnlessIsolated) {
  const std::string upper(64, 'A');
  EXPECT_EQ(parse_route("/ac/" + upper).key, k_hash);  // lower case, the instance ignored
  EXPECT_EQ(parse_route("/team/ac/" + k_hash).key, k_hash);
  EXPECT_EQ(parse_route("/team/ac/" + k_hash).instance, "team");
  EXPECT_EQ(parse_route("/a/b/ac/" + k_hash).instance, "a/b");
  EXPECT_EQ(parse_route("/ac/xyz").key, "");  // not a SHA-256: no key, the handler's 400
  RouteOptions isolated;
  isolated.instances = InstanceMode::isolated;
  EXPECT_EQ(parse_route("/ac/" + k_hash, isolated).key, k_hash);
  const std::string team = parse_route("/team/ac/" + k_hash, isolated).key;
  const std::string other = parse_route("/other/ac/" + k_hash, isolated).key;
  EXPECT_TRUE(team.starts_with("i.")) << team;
  EXPECT_NE(team, other);
  EXPECT_NE(team, k_hash);
  EXPECT_EQ(team, ac_key(InstanceMode::isolated, "team", k_hash));
}

TEST(HttpRouteTest, TurborepoRoutesAndTeams) {
  EXPECT_EQ(parse_route("/v8/artifacts/status").kind, RouteKind::turbo_status);
  EXPECT_EQ(parse_route("/v8/artifacts/status?teamId=t").kind, RouteKind::turbo_status);
  EXPECT_EQ(parse_route("/v8/artifacts/events?slug=x").kind, RouteKind::turbo_events);
  const Route artifact = parse_route("/v8/artifacts/0123abcd?teamId=team_1");
  EXPECT_EQ(artifact.kind, RouteKind::turbo_artifact);
  EXPECT_EQ(artifact.hash, "0123abcd");
  EXPECT_EQ(artifact.endpoint, "turbo");
  EXPECT_TRUE(artifact.key.starts_with("t.")) << artifact.key;
  EXPECT_EQ(artifact.key, parse_route("/v8/artifacts/0123abcd?x=1&teamId=team_1").key);
  EXPECT_NE(artifact.key, parse_route("/v8/artifacts/0123abcd?teamId=team_2").key);
  EXPECT_NE(artifact.key, parse_route("/v8/artifacts/0123abcd?slug=team_1").key);
  EXPECT_NE(artifact.key, parse_route("/v8/artifacts/0123abcd").key);
  // Turborepo's namespace is never a raw entry.
  for (const std::string target :
       {"/v8/artifacts", "/v8/artifacts/", "/v8/artifacts/a/b", "/v8/teams", "/v8"}) {
    EXPECT_EQ(parse_route(target).kind, RouteKind::unknown) << target;
  }
}

TEST(HttpRouteTest, AnythingElseIsUnknown) {
  for (const std::string& target : std::vector<std::string>{
           "", "/", "*", "cas", "http://host/cas/" + k_hash + "/extra", "//", "/ccache/"}) {
    const Route route = parse_route(target);
    EXPECT_EQ(route.kind, RouteKind::unknown) << target;
    EXPECT_EQ(route.endpoint, "other") << target;
  }
}

}  // namespace
}  // namespace forge::bazel_remote
