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
  EXPECT_EQ(parse_route("/x/status").kind, RouteKind::unknown);
  EXPECT_EQ(parse_route("/statusz").kind, RouteKind::unknown);
  EXPECT_EQ(parse_route("/cas/" + k_hash + "?x=1").hash, k_hash);
}

TEST(HttpRouteTest, AnythingElseIsUnknown) {
  for (const std::string& target :
       std::vector<std::string>{"", "/", "*", "cas", "/cas", "/blob/" + k_hash,
                                "http://host/cas/" + k_hash + "/extra", "//", "/ac"}) {
    const Route route = parse_route(target);
    EXPECT_EQ(route.kind, RouteKind::unknown) << target;
    EXPECT_EQ(route.endpoint, "other") << target;
  }
}

}  // namespace
}  // namespace forge::bazel_remote
