// `forge serve`: the store as a remote cache for Bazel (HTTP cache protocol and gRPC REAPI
// v2), ccache and Gradle (raw entries at any other path), and Turborepo (/v8/artifacts).
// Runs until SIGINT/SIGTERM, then drains in-flight requests and exits 0.
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "args.h"
#include "command.h"
#include "forge/bazel_remote/grpc_server.h"
#include "forge/bazel_remote/http_server.h"
#include "forge/cache/action_cache.h"
#include "forge/cache/store_tier.h"
#include "forge/cache/upstream_tier.h"
#include "forge/core/support/config_loader.h"
#include "forge/core/support/lifecycle.h"
#include "forge/core/support/log.h"
#include "serve_usage.h"

namespace forge::cli {
namespace {

int report(const Error& error, int code) {
  fmt::print(stderr, "forge serve: {}\n", error.to_string());
  return code;
}

Result<std::uint16_t> parse_port(const std::optional<std::string>& text, std::uint16_t fallback,
                                 std::string_view option) {
  if (!text) return fallback;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value > 65535) {
    return fail(
        Error(ErrorCategory::validation, fmt::format("{} '{}' is not a port", option, *text))
            .with_suggestion("use a number from 0 (any free port) to 65535"));
  }
  return static_cast<std::uint16_t>(value);
}

// Written whole, then renamed: a reader never sees a partial file. A file-system error names
// the file (never an exception: the servers are already running when it is written).
Result<void> write_port_file(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path temp = path.string() + ".tmp";
  auto failed = [&](int error_number, std::string_view operation) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    return fail(Error::from_errno(error_number, operation, path.string())
                    .prefixed("cannot write --port-file")
                    .with_suggestion("give --port-file a path in a writable directory"));
  };
  {
    errno = 0;
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (out) out << text;
    if (out) out.close();
    if (!out) return failed(errno != 0 ? errno : EIO, "write");
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) return failed(ec.value(), "rename");
  return ok();
}

int run(std::vector<std::string> arguments) {
  Args args(std::move(arguments));
  auto dir = args.option("dir");
  auto address = args.option("address");
  auto http_port_text = args.option("http-port");
  auto grpc_port_text = args.option("grpc-port");
  auto max_size_text = args.option("max-size");
  auto max_blob_text = args.option("max-blob-size");
  auto threads_text = args.option("threads");
  auto port_file = args.option("port-file");
  auto htpasswd = args.option("htpasswd");
  auto tokens = args.option("tokens");
  auto tls_cert = args.option("tls-cert");
  auto tls_key = args.option("tls-key");
  auto raw_prefix_text = args.option("raw-prefix");
  auto instances_text = args.option("instances");
  auto upstream_url = args.option("upstream");
  auto upstream_write = args.option("upstream-write");
  auto s3_endpoint = args.option("s3-endpoint");
  auto s3_region = args.option("s3-region");
  const bool anonymous_read = args.flag("anonymous-read");
  const bool no_grpc = args.flag("no-grpc");
  const bool read_only_flag = args.flag("read-only");
  const bool ac_raw = args.flag("ac-raw");
  const bool no_fsync = args.flag("no-fsync");
  const bool help = args.flag("help");
  for (auto* option :
       {&dir, &address, &http_port_text, &grpc_port_text, &max_size_text, &max_blob_text,
        &threads_text, &port_file, &htpasswd, &tokens, &tls_cert, &tls_key, &raw_prefix_text,
        &instances_text, &upstream_url, &upstream_write, &s3_endpoint, &s3_region}) {
    if (!*option) return report(option->error(), k_exit_usage);
  }
  if (help) {
    fmt::print("{}\n", k_serve_usage);
    return k_exit_ok;
  }
  if (auto done =
          args.finish("--dir --address --http-port --grpc-port --no-grpc --max-size "
                      "--max-blob-size --read-only --ac-raw --threads --no-fsync "
                      "--port-file --htpasswd --tokens --anonymous-read --tls-cert --tls-key "
                      "--raw-prefix --instances --upstream --upstream-write --s3-endpoint "
                      "--s3-region");
      !done) {
    return report(done.error(), k_exit_usage);
  }
  if (!args.positional().empty()) {
    fmt::print(stderr, "forge serve: unexpected argument '{}'\n\n{}\n", args.positional()[0],
               k_serve_usage);
    return k_exit_usage;
  }
  // server.http_listen / server.grpc_listen, validated when the config was loaded; the
  // flags override their parts.
  const auto& listen = effective_config().config.server;
  const auto http_listen = support::parse_listen_address(
      listen.http_listen.empty() ? "127.0.0.1:8080" : listen.http_listen.front());
  const auto grpc_listen = support::parse_listen_address(
      listen.grpc_listen.empty() ? "127.0.0.1:9092" : listen.grpc_listen.front());
  if (!http_listen) return report(http_listen.error(), k_exit_usage);
  if (!grpc_listen) return report(grpc_listen.error(), k_exit_usage);
  auto http_port = parse_port(*http_port_text, http_listen->port, "--http-port");
  auto grpc_port = parse_port(*grpc_port_text, grpc_listen->port, "--grpc-port");
  if (!http_port) return report(http_port.error(), k_exit_usage);
  if (!grpc_port) return report(grpc_port.error(), k_exit_usage);

  // The flags override server.* and cache.* of the config (validated when it was loaded).
  const auto& server = effective_config().config.server;
  const auto& cache_config = effective_config().config.cache;
  auto raw_prefix = bazel_remote::parse_raw_prefix(raw_prefix_text->value_or(server.raw_prefix));
  if (!raw_prefix) return report(raw_prefix.error(), k_exit_usage);
  auto instances = bazel_remote::parse_instance_mode(instances_text->value_or(server.instances));
  if (!instances) return report(instances.error(), k_exit_usage);
  const bool read_only = read_only_flag || server.read_only;
  const bool upstream_from_file = !*upstream_url && !cache_config.upstream.empty();
  if (upstream_from_file) *upstream_url = cache_config.upstream;
  if (*upstream_url && (*upstream_url)->starts_with("s3://")) {
    if (!*s3_endpoint && !cache_config.s3_endpoint.empty()) *s3_endpoint = cache_config.s3_endpoint;
    if (!*s3_region && !cache_config.s3_region.empty()) *s3_region = cache_config.s3_region;
  }
  if (*upstream_url && !*upstream_write) *upstream_write = cache_config.upstream_write;

  cache::StoreOptions store_options;
  store_options.dir = *dir ? std::filesystem::path(**dir) : effective_config().config.store_dir;
  store_options.fsync = !no_fsync;
  if (cache_config.max_size) store_options.max_size = *cache_config.max_size;
  if (cache_config.max_blob_size) store_options.max_blob_size = *cache_config.max_blob_size;
  if (*max_size_text) {
    auto size = parse_byte_size(**max_size_text, "--max-size");
    if (!size) return report(size.error(), k_exit_usage);
    store_options.max_size = *size;
  }
  if (*max_blob_text) {
    auto size = parse_byte_size(**max_blob_text, "--max-blob-size");
    if (!size) return report(size.error(), k_exit_usage);
    store_options.max_blob_size = *size;
  }
  unsigned threads = 0;
  if (*threads_text) {
    auto parsed = parse_byte_size(**threads_text, "--threads");
    if (!parsed || *parsed == 0 || *parsed > 1024) {
      return report(Error(ErrorCategory::validation,
                          fmt::format("--threads '{}' is not a thread count", **threads_text))
                        .with_suggestion("use 1 to 1024, or omit it for one per CPU"),
                    k_exit_usage);
    }
    threads = static_cast<unsigned>(*parsed);
  }

  bazel_remote::AuthOptions auth_options;
  if (*htpasswd) auth_options.htpasswd_file = **htpasswd;
  if (*tokens) auth_options.tokens_file = **tokens;
  auth_options.anonymous_read = anonymous_read;
  auto auth = bazel_remote::Authenticator::load(auth_options);
  if (!auth) return report(auth.error(), k_exit_usage);

  support::Lifecycle lifecycle;
  if (auto installed = lifecycle.install_signal_handlers(); !installed) {
    return report(installed.error(), k_exit_failure);
  }
  auto store = cache::CasStore::open(store_options);
  if (!store) return report(store.error(), k_exit_failure);
  if (*upstream_url) {
    auto tier = cache::open_store_tier({.url = **upstream_url,
                                        .write = upstream_write->value_or(""),
                                        .s3_endpoint = s3_endpoint->value_or(""),
                                        .s3_region = s3_region->value_or("")},
                                       store_options.dir, store_options.fsync);
    if (!tier) {
      Error error = tier.error();
      if (upstream_from_file) error.prefixed("config key cache.upstream");
      return report(error, k_exit_usage);
    }
    (*store)->attach_upstream(*tier);
  } else if (*upstream_write || *s3_endpoint || *s3_region) {
    return report(Error(ErrorCategory::validation,
                        "--upstream-write, --s3-endpoint and --s3-region need --upstream")
                      .with_suggestion("add --upstream URL or drop them"),
                  k_exit_usage);
  }
  cache::ActionCacheOptions cache_options;
  auto action_cache = cache::ActionCache::open(*store, cache_options);
  if (!action_cache) return report(action_cache.error(), k_exit_failure);

  const std::string host = address->value_or(http_listen->host);
  const std::string grpc_host = address->value_or(grpc_listen->host);
  std::unique_ptr<bazel_remote::GrpcServer> grpc;
  if (!no_grpc) {
    bazel_remote::GrpcServerOptions grpc_options;
    grpc_options.address = fmt::format("{}:{}", grpc_host, *grpc_port);
    grpc_options.read_only = read_only;
    grpc_options.instances = *instances;
    if ((*auth)->mode() != bazel_remote::AuthMode::off) grpc_options.auth = *auth;
    if (*tls_cert) grpc_options.tls_cert_file = **tls_cert;
    if (*tls_key) grpc_options.tls_key_file = **tls_key;
    auto started = bazel_remote::GrpcServer::start(grpc_options, *action_cache);
    if (!started) return report(started.error(), k_exit_failure);
    grpc = std::move(*started);
  }
  bazel_remote::HttpServerOptions http_options;
  http_options.address = host;
  http_options.port = *http_port;
  http_options.threads = threads;
  http_options.read_only = read_only;
  http_options.ac_uses_raw = ac_raw;
  http_options.instances = *instances;
  http_options.raw_prefix = *raw_prefix;
  http_options.max_body_size = store_options.max_blob_size;
  if (grpc) http_options.grpc_address = fmt::format("{}:{}", grpc_host, grpc->port());
  if ((*auth)->mode() != bazel_remote::AuthMode::off) http_options.auth = *auth;
  if (*tls_cert) http_options.tls_cert_file = **tls_cert;
  if (*tls_key) http_options.tls_key_file = **tls_key;
  auto http = bazel_remote::HttpServer::start(http_options, *action_cache);
  if (!http) return report(http.error(), k_exit_failure);

  const nlohmann::json ports{{"http", (*http)->port()}, {"grpc", grpc ? grpc->port() : 0}};
  if (*port_file) {
    if (auto written = write_port_file(**port_file, ports.dump() + "\n"); !written) {
      // The servers stop (their destructors drain nothing: no client knows the ports yet).
      return report(written.error(), k_exit_failure);
    }
  }
  fmt::print(stderr, "forge serve: {}://{}:{}{} store {}\n", *tls_cert ? "https" : "http", host,
             (*http)->port(),
             grpc
                 ? fmt::format(" {}://{}:{}", *tls_cert ? "grpcs" : "grpc", grpc_host, grpc->port())
                 : std::string(),
             store_options.dir.string());
  if (const auto& recovered = (*store)->recovery()) {
    fmt::print(stderr,
               "forge serve: the store was not shut down cleanly; verified it: {} checked, {} "
               "re-indexed, {} dropped, {} quarantined\n",
               recovered->checked, recovered->orphans_indexed, recovered->missing_dropped,
               recovered->quarantined);
  }

  // Shutdown hooks run in reverse: stop HTTP, stop gRPC, then close the store.
  lifecycle.add_hook("close store", [&]() -> Result<void> {
    action_cache->reset();
    auto flushed = (*store)->flush_access_times();
    store->reset();
    return flushed;
  });
  if (grpc) {
    lifecycle.add_hook("stop grpc", [&]() -> Result<void> {
      grpc->shutdown(std::chrono::seconds(25));
      return ok();
    });
  }
  lifecycle.add_hook("stop http", [&]() -> Result<void> {
    if ((*http)->shutdown(std::chrono::seconds(25))) return ok();
    return fail(Error(ErrorCategory::timeout, "HTTP requests were still running at the deadline")
                    .with_suggestion("clients saw their connection closed; they will retry"));
  });
  lifecycle.wait_for_shutdown();
  const auto result = lifecycle.shutdown(std::chrono::seconds(30));
  for (const auto& failure : result.failures) {
    fmt::print(stderr, "forge serve: {}\n", failure.summary());
  }
  fmt::print(stderr, "forge serve: stopped ({}) in {} ms\n", result.reason, result.took.count());
  return lifecycle.exit_code();
}

const CommandRegistration k_registration{serve_command(run)};

}  // namespace
}  // namespace forge::cli
