// forge_grpc_load: opens N gRPC channels to a REAPI server, each on its own TCP connection
// (a local subchannel pool and a distinct pool domain per channel), issues one
// FindMissingBlobs (100 digests) on every channel at once, then keeps them all open so the
// server's memory can be read (benchmarks/grpc_rss.sh measures `forge serve` this way).
// Prints "ready <connections> <calls ok>" on stdout once every call has answered, then holds
// the connections for --hold seconds (or until killed).
// Run: build/default/benchmarks/forge_grpc_load --target 127.0.0.1:PORT [--connections 256]
//        [--hold 600]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "forge/cache/blob_digest.h"

namespace {

namespace reapi = build::bazel::remote::execution::v2;

struct Call {
  grpc::ClientContext context;
  reapi::FindMissingBlobsResponse response;
  grpc::Status status;
  std::unique_ptr<grpc::ClientAsyncResponseReader<reapi::FindMissingBlobsResponse>> reader;
};

int usage() {
  fmt::print(stderr,
             "usage: forge_grpc_load --target HOST:PORT [--connections N] [--hold SECONDS]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string target;
  int connections = 256;
  int hold_seconds = 600;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) return usage();
    if (arg == "--target") {
      target = argv[++i];
    } else if (arg == "--connections") {
      connections = std::atoi(argv[++i]);
    } else if (arg == "--hold") {
      hold_seconds = std::atoi(argv[++i]);
    } else {
      return usage();
    }
  }
  if (target.empty() || connections <= 0 || hold_seconds < 0) return usage();

  reapi::FindMissingBlobsRequest request;
  for (int i = 0; i < 100; ++i) {
    const auto digest = forge::cache::digest_of(fmt::format("forge-grpc-load-{}", i));
    auto* proto = request.add_blob_digests();
    proto->set_hash(digest.sha256.hex());
    proto->set_size_bytes(static_cast<std::int64_t>(digest.size));
  }

  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<reapi::ContentAddressableStorage::Stub>> stubs;
  for (int i = 0; i < connections; ++i) {
    grpc::ChannelArguments arguments;
    arguments.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    arguments.SetString(GRPC_ARG_CHANNEL_POOL_DOMAIN, fmt::format("forge-grpc-load-{}", i));
    channels.push_back(
        grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), arguments));
    stubs.push_back(reapi::ContentAddressableStorage::NewStub(channels.back()));
  }

  // Every call in flight at once: the server sees `connections` concurrent RPCs.
  grpc::CompletionQueue queue;
  std::vector<std::unique_ptr<Call>> calls;
  for (int i = 0; i < connections; ++i) {
    auto call = std::make_unique<Call>();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    call->context.set_wait_for_ready(true);
    call->reader =
        stubs[static_cast<std::size_t>(i)]->AsyncFindMissingBlobs(&call->context, request, &queue);
    call->reader->Finish(&call->response, &call->status, call.get());
    calls.push_back(std::move(call));
  }
  int answered = 0;
  int ok = 0;
  void* tag = nullptr;
  bool completed = false;
  while (answered < connections && queue.Next(&tag, &completed)) {
    ++answered;
    const auto* call = static_cast<const Call*>(tag);
    if (completed && call->status.ok() && call->response.missing_blob_digests_size() == 100) {
      ++ok;
    } else if (ok + 1 == answered) {  // the first failure only
      fmt::print(stderr, "forge_grpc_load: FindMissingBlobs failed: {}\n",
                 call->status.error_message());
    }
  }
  fmt::print("ready {} {}\n", connections, ok);
  std::fflush(stdout);
  std::this_thread::sleep_for(std::chrono::seconds(hold_seconds));
  queue.Shutdown();
  while (queue.Next(&tag, &completed)) {
  }
  return ok == connections ? 0 : 1;
}
