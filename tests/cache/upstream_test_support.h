#pragma once
// Shared by the upstream tests: a real Forge HTTP cache server and a real Forge REAPI v2 gRPC
// server, in-process over stores of their own (the upstream), on 127.0.0.1 with a
// kernel-picked port. Header-only; for tests.

#include <gtest/gtest.h>

#include <memory>

#include <fmt/format.h>

#include "forge/bazel_remote/grpc_server.h"
#include "forge/bazel_remote/http_server.h"
#include "forge/cache/action_cache.h"
#include "forge/test/temp_dir.h"

namespace forge::test {

class ForgeUpstreamServer {
 public:
  // port 0: any free port (a restart passes the old one to come back where it was).
  explicit ForgeUpstreamServer(const std::filesystem::path& dir, std::uint16_t port = 0) {
    cache::StoreOptions options;
    options.dir = dir;
    options.fsync = false;
    m_cas = cache::CasStore::open(options).value();
    m_cache = cache::ActionCache::open(m_cas).value();
    bazel_remote::HttpServerOptions http;
    http.port = port;
    http.threads = 2;
    http.ac_uses_raw = true;  // the tests store opaque values under /ac/
    auto server = bazel_remote::HttpServer::start(http, m_cache);
    EXPECT_TRUE(server) << server.error().to_string();
    if (server) m_server = std::move(*server);
  }
  ~ForgeUpstreamServer() { stop(); }
  ForgeUpstreamServer(const ForgeUpstreamServer&) = delete;
  ForgeUpstreamServer& operator=(const ForgeUpstreamServer&) = delete;

  void stop() {
    if (m_server) m_server->shutdown(std::chrono::milliseconds(500));
    m_server.reset();
  }
  std::uint16_t port() const { return m_server ? m_server->port() : 0; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  cache::CasStore& cas() { return *m_cas; }
  cache::ActionCache& action_cache() { return *m_cache; }

 private:
  std::shared_ptr<cache::CasStore> m_cas;
  std::shared_ptr<cache::ActionCache> m_cache;
  std::unique_ptr<bazel_remote::HttpServer> m_server;
};

// A REAPI v2 gRPC server (Forge's own) over a store of its own: the grpc:// upstream.
class GrpcUpstreamServer {
 public:
  explicit GrpcUpstreamServer(const std::filesystem::path& dir,
                              bazel_remote::GrpcServerOptions options = {}) {
    cache::StoreOptions store;
    store.dir = dir;
    store.fsync = false;
    m_cas = cache::CasStore::open(store).value();
    m_cache = cache::ActionCache::open(m_cas).value();
    auto server = bazel_remote::GrpcServer::start(std::move(options), m_cache);
    EXPECT_TRUE(server) << server.error().to_string();
    if (server) m_server = std::move(*server);
  }
  ~GrpcUpstreamServer() {
    if (m_server) m_server->shutdown(std::chrono::milliseconds(500));
  }
  GrpcUpstreamServer(const GrpcUpstreamServer&) = delete;
  GrpcUpstreamServer& operator=(const GrpcUpstreamServer&) = delete;

  std::string url(std::string_view scheme = "grpc", std::string_view instance = "") const {
    return fmt::format("{}://127.0.0.1:{}{}{}", scheme, m_server ? m_server->port() : 0,
                       instance.empty() ? "" : "/", instance);
  }
  std::uint16_t port() const { return m_server ? m_server->port() : 0; }
  cache::CasStore& cas() { return *m_cas; }
  cache::ActionCache& actions() { return *m_cache; }

 private:
  std::shared_ptr<cache::CasStore> m_cas;
  std::shared_ptr<cache::ActionCache> m_cache;
  std::unique_ptr<bazel_remote::GrpcServer> m_server;
};

}  // namespace forge::test
