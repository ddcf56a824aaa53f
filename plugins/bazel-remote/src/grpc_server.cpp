#include "forge/bazel_remote/grpc_server.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <limits>

#include <fmt/format.h>

#include "forge/core/support/log.h"
#include "services.h"

namespace forge::bazel_remote {

// Headroom over max_batch_total_size_bytes for the framing of a batch request (digests,
// instance name, protobuf tags): a few hundred bytes per blob, so 1 MiB is ample.
constexpr std::uint64_t k_message_overhead = 1u << 20;
// gRPC's receive limit is at least this (see start()).
constexpr std::uint64_t k_min_receive_limit = 64u << 20;

struct GrpcServer::Impl {
  explicit Impl(ServiceContext ctx) : context(std::move(ctx)) {}
  ServiceContext context;
  CapabilitiesService capabilities{context};
  ActionCacheService action_cache{context};
  CasService cas{context};
  ByteStreamService bytestream{context};
  std::unique_ptr<grpc::Server> server;  // declared last: stops before the services die
  int port = 0;
};

namespace {

Result<std::string> read_pem(const std::filesystem::path& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  std::string content{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (!in.good() && !in.eof()) content.clear();
  if (content.empty()) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("cannot read the TLS {} '{}'", what, path.string()))
                    .with_file(path.string())
                    .with_suggestion("give a readable PEM file"));
  }
  return content;
}

Result<std::shared_ptr<grpc::ServerCredentials>> server_credentials(
    const GrpcServerOptions& options) {
  if (!options.tls_cert_file && !options.tls_key_file) return grpc::InsecureServerCredentials();
  if (!options.tls_cert_file || !options.tls_key_file) {
    return fail(
        Error(ErrorCategory::configuration, "gRPC TLS needs both a certificate and a private key")
            .with_suggestion("give both tls_cert_file and tls_key_file, or neither"));
  }
  FORGE_TRY(auto cert, read_pem(*options.tls_cert_file, "certificate"));
  FORGE_TRY(auto key, read_pem(*options.tls_key_file, "private key"));
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({std::move(key), std::move(cert)});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

GrpcServer::GrpcServer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}

GrpcServer::~GrpcServer() {
  shutdown(std::chrono::milliseconds(0));
}

Result<std::unique_ptr<GrpcServer>> GrpcServer::start(GrpcServerOptions options,
                                                      std::shared_ptr<cache::ActionCache> cache) {
  if (!cache) return fail(Error(ErrorCategory::configuration, "GrpcServer needs a cache"));
  if (options.address.empty()) {
    return fail(Error(ErrorCategory::configuration, "the gRPC listen address is empty")
                    .with_suggestion("give host:port, e.g. 127.0.0.1:9092"));
  }
  const std::uint64_t k_max_message = std::numeric_limits<int>::max() - k_message_overhead;
  if (options.max_batch_total_size_bytes == 0 ||
      options.max_batch_total_size_bytes > k_max_message) {
    return fail(Error(ErrorCategory::configuration,
                      fmt::format("max_batch_total_size_bytes {} is outside 1..{}",
                                  options.max_batch_total_size_bytes, k_max_message))
                    .with_suggestion("keep it near gRPC's default message size, 4 MiB"));
  }
  // Far above the batch limit, so that an oversize batch reaches the handler and gets the
  // REAPI answer (INVALID_ARGUMENT: use ByteStream) instead of gRPC's RESOURCE_EXHAUSTED;
  // still bounded, as gRPC holds a whole message in memory.
  const auto max_message = static_cast<int>(std::min<std::uint64_t>(
      std::max<std::uint64_t>(options.max_batch_total_size_bytes + k_message_overhead,
                              k_min_receive_limit),
      std::numeric_limits<int>::max()));
  const std::string address = options.address;
  auto impl = std::make_unique<Impl>(ServiceContext{std::move(options), std::move(cache)});

  FORGE_TRY(auto credentials, server_credentials(impl->context.options));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, credentials, &impl->port);
  builder.SetMaxReceiveMessageSize(max_message);
  builder.RegisterService(&impl->capabilities);
  builder.RegisterService(&impl->action_cache);
  builder.RegisterService(&impl->cas);
  builder.RegisterService(&impl->bytestream);
  impl->server = builder.BuildAndStart();
  if (!impl->server || impl->port == 0) {
    return fail(
        Error(ErrorCategory::network, fmt::format("could not listen for gRPC on '{}'", address))
            .with_operation("grpc.listen")
            .with_suggestion("check that the port is free and the address is host:port"));
  }
  support::log(
      spdlog::level::info, "gRPC cache listening",
      {{"address", address}, {"port", impl->port}, {"read_only", impl->context.options.read_only}});
  return std::unique_ptr<GrpcServer>(new GrpcServer(std::move(impl)));
}

int GrpcServer::port() const {
  return m_impl->port;
}

void GrpcServer::shutdown(std::chrono::milliseconds deadline) {
  if (!m_impl->server) return;
  m_impl->server->Shutdown(std::chrono::system_clock::now() + deadline);
  m_impl->server->Wait();
  m_impl->server.reset();
}

}  // namespace forge::bazel_remote
