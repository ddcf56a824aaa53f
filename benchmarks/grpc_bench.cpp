// gRPC REAPI v2 benchmarks (issue 6): the real GrpcServer in-process on 127.0.0.1:0 over a
// CasStore, driven by a generated-stub client over loopback.
//   BM_FindMissingBlobs10k  one FindMissingBlobs call with 10,000 digests, half present
//                           (latency per call; the store holds the 5,000 present blobs)
//   BM_ByteStreamWrite1GiB  one ByteStream Write of a new 1 GiB blob in 1 MiB messages,
//                           resource uploads/{uuid}/blobs/{hash}/{size}, through commit
//                           (the blob is evicted between iterations, untimed)
//   BM_ByteStreamRead1GiB   one ByteStream Read of that 1 GiB blob (page-cache hot)
//   BM_GenerateContent      the client's cost of generating the 1 GiB content (context for
//                           the Write figure, which includes it)
// Throughput: the "MB" counter, shown as MB/s = 10^6 bytes per second of wall-clock time.
// Run: build/default/benchmarks/forge_grpc_bench --benchmark_repetitions=5
//        --benchmark_report_aggregates_only=true [--fsync=1]
// The stores live under $FORGE_BENCH_DIR (default /tmp); fsync is off unless --fsync=1.
// The 1 GiB content is deterministic pseudo-random bytes generated in 1 MiB chunks as it is
// sent (hashed once up front by the same generator), never held in memory whole.
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "build/bazel/remote/execution/v2/remote_execution.grpc.pb.h"
#include "forge/bazel_remote/grpc_server.h"
#include "forge/cache/action_cache.h"
#include "forge/cache/cas_store.h"
#include "forge/core/hash/hasher.h"
#include "google/bytestream/bytestream.grpc.pb.h"

namespace forge::bazel_remote {
namespace {

namespace reapi = build::bazel::remote::execution::v2;
namespace bytestream = google::bytestream;

constexpr std::uint64_t k_big_size = 1ull << 30;
constexpr std::size_t k_chunk = 1u << 20;
constexpr int k_find_count = 10'000;

bool g_fsync = false;  // --fsync=1

// Deterministic pseudo-random bytes: four xorshift128+ lanes (cheap, so that generating the
// content costs little next to sending it). Sequential only; `fill` takes multiples of 32.
class ContentStream {
 public:
  explicit ContentStream(std::uint64_t seed) {
    std::uint64_t x = seed;
    const auto splitmix = [&x] {
      std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      return z ^ (z >> 31);
    };
    for (std::size_t lane = 0; lane < k_lanes; ++lane) {
      m_s0[lane] = splitmix();
      m_s1[lane] = splitmix();
    }
  }

  void fill(char* out, std::size_t size) {
    for (std::size_t at = 0; at + 8 * k_lanes <= size; at += 8 * k_lanes) {
      std::array<std::uint64_t, k_lanes> words;
      for (std::size_t lane = 0; lane < k_lanes; ++lane) {
        std::uint64_t x = m_s0[lane];
        const std::uint64_t y = m_s1[lane];
        m_s0[lane] = y;
        x ^= x << 23;
        m_s1[lane] = x ^ y ^ (x >> 17) ^ (y >> 26);
        words[lane] = m_s1[lane] + y;
      }
      std::memcpy(out + at, words.data(), sizeof words);
    }
  }

 private:
  static constexpr std::size_t k_lanes = 4;
  std::array<std::uint64_t, k_lanes> m_s0{};
  std::array<std::uint64_t, k_lanes> m_s1{};
};

constexpr std::uint64_t k_big_seed = 1;

// The digest of the 1 GiB content: one generate-and-hash pass, 1 MiB at a time, computed once.
const reapi::Digest& big_digest() {
  static const reapi::Digest digest = [] {
    ContentStream content(k_big_seed);
    hash::MultiHasher hasher(hash::AlgorithmSet::only(hash::Algorithm::sha256));
    std::string chunk(k_chunk, '\0');
    for (std::uint64_t at = 0; at < k_big_size; at += k_chunk) {
      content.fill(chunk.data(), chunk.size());
      hasher.update(std::string_view(chunk));
    }
    reapi::Digest out;
    out.set_hash(hasher.finish().sha256->hex());
    out.set_size_bytes(static_cast<std::int64_t>(k_big_size));
    return out;
  }();
  return digest;
}

std::string new_uuid() {
  static std::mt19937_64 random(std::random_device{}());
  const auto a = random();
  const auto b = random();
  return fmt::format("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", a >> 32, (a >> 16) & 0xffff,
                     a & 0xfff, b >> 52, b & 0xffffffffffffull);
}

// A store in its own directory and the real GrpcServer over it, plus a client channel.
// One per benchmark family, kept across repetitions and torn down at the end of main().
struct Fixture {
  explicit Fixture(const std::string& name) {
    const char* base = std::getenv("FORGE_BENCH_DIR");
    dir = std::filesystem::path(base != nullptr ? base : "/tmp") /
          ("forge-grpc-bench-" + std::to_string(::getpid()) + "-" + name);
    std::filesystem::remove_all(dir);
    cache::StoreOptions options;
    options.dir = dir;
    options.fsync = g_fsync;
    options.max_blob_size = 2 * k_big_size;
    auto opened = cache::CasStore::open(options);
    if (!opened) fatal(opened.error().to_string());
    cas = *opened;
    auto action_cache = cache::ActionCache::open(cas);
    if (!action_cache) fatal(action_cache.error().to_string());
    auto started = GrpcServer::start({}, *action_cache);
    if (!started) fatal(started.error().to_string());
    server = std::move(*started);
    channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                  grpc::InsecureChannelCredentials());
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      fatal("the client could not connect");
    }
    cas_stub = reapi::ContentAddressableStorage::NewStub(channel);
    bytestream_stub = bytestream::ByteStream::NewStub(channel);
  }

  ~Fixture() {
    cas_stub.reset();
    bytestream_stub.reset();
    channel.reset();
    server->shutdown(std::chrono::milliseconds(0));
    server.reset();
    cas.reset();
    std::filesystem::remove_all(dir);
  }
  Fixture(const Fixture&) = delete;
  Fixture& operator=(const Fixture&) = delete;

  [[noreturn]] static void fatal(const std::string& message) {
    fmt::print(stderr, "forge_grpc_bench: {}\n", message);
    std::exit(1);
  }

  std::filesystem::path dir;
  std::shared_ptr<cache::CasStore> cas;
  std::unique_ptr<GrpcServer> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<reapi::ContentAddressableStorage::Stub> cas_stub;
  std::unique_ptr<bytestream::ByteStream::Stub> bytestream_stub;
};

std::unique_ptr<Fixture> g_read_fixture;   // FindMissingBlobs and Read
std::unique_ptr<Fixture> g_write_fixture;  // Write (evicted after every iteration)

Fixture& read_fixture() {
  if (!g_read_fixture) g_read_fixture = std::make_unique<Fixture>("read");
  return *g_read_fixture;
}
Fixture& write_fixture() {
  if (!g_write_fixture) g_write_fixture = std::make_unique<Fixture>("write");
  return *g_write_fixture;
}

// Sends the 1 GiB content as one Write stream; returns an error message or "".
std::string write_big(bytestream::ByteStream::Stub& stub) {
  const auto& digest = big_digest();
  grpc::ClientContext context;
  bytestream::WriteResponse response;
  auto stream = stub.Write(&context, &response);
  ContentStream content(k_big_seed);
  bytestream::WriteRequest request;
  request.set_resource_name(
      fmt::format("uploads/{}/blobs/{}/{}", new_uuid(), digest.hash(), digest.size_bytes()));
  std::string* data = request.mutable_data();
  data->resize(k_chunk);
  for (std::uint64_t at = 0; at < k_big_size; at += k_chunk) {
    content.fill(data->data(), data->size());
    request.set_write_offset(static_cast<std::int64_t>(at));
    request.set_finish_write(at + k_chunk == k_big_size);
    if (!stream->Write(request)) break;  // the server ended the call: Finish() says why
    if (at == 0) request.clear_resource_name();
  }
  stream->WritesDone();
  const auto status = stream->Finish();
  if (!status.ok()) return "Write failed: " + status.error_message();
  if (response.committed_size() != digest.size_bytes()) {
    return fmt::format("committed_size {}", response.committed_size());
  }
  return "";
}

void set_mb_per_second(benchmark::State& state, std::uint64_t bytes_per_iteration) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes_per_iteration));
  state.counters["MB"] = benchmark::Counter(static_cast<double>(bytes_per_iteration) / 1e6,
                                            benchmark::Counter::kIsIterationInvariantRate);
}

void BM_FindMissingBlobs10k(benchmark::State& state) {
  auto& fixture = read_fixture();
  reapi::FindMissingBlobsRequest request;
  for (int i = 0; i < k_find_count; ++i) {
    // 100-byte blobs; the even ones are stored, the odd ones never are.
    const std::string content = fmt::format("{:0>100}", i);
    const auto digest = cache::digest_of(content);
    if (i % 2 == 0) {
      auto stored = fixture.cas->put(std::as_bytes(std::span(content)), digest);
      if (!stored) return state.SkipWithError(stored.error().to_string().c_str());
    }
    auto* proto = request.add_blob_digests();
    proto->set_hash(digest.sha256.hex());
    proto->set_size_bytes(static_cast<std::int64_t>(digest.size));
  }
  for (auto _ : state) {
    grpc::ClientContext context;
    reapi::FindMissingBlobsResponse response;
    const auto status = fixture.cas_stub->FindMissingBlobs(&context, request, &response);
    if (!status.ok()) return state.SkipWithError(status.error_message().c_str());
    if (response.missing_blob_digests_size() != k_find_count / 2) {
      return state.SkipWithError("wrong number of missing blobs");
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * k_find_count);
}
BENCHMARK(BM_FindMissingBlobs10k)->UseRealTime()->Unit(benchmark::kMillisecond);

void BM_ByteStreamWrite1GiB(benchmark::State& state) {
  auto& fixture = write_fixture();
  big_digest();  // the hashing pass is not part of the upload
  for (auto _ : state) {
    if (auto error = write_big(*fixture.bytestream_stub); !error.empty()) {
      return state.SkipWithError(error.c_str());
    }
    state.PauseTiming();  // the next iteration uploads a blob the store does not have
    auto evicted = fixture.cas->evict_now(0);
    if (!evicted || evicted->evicted != 1) return state.SkipWithError("eviction failed");
    state.ResumeTiming();
  }
  set_mb_per_second(state, k_big_size);
}
BENCHMARK(BM_ByteStreamWrite1GiB)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_ByteStreamRead1GiB(benchmark::State& state) {
  auto& fixture = read_fixture();
  const auto& digest = big_digest();
  const auto parsed = cache::parse_blob_digest(digest.hash(), k_big_size).value();
  if (!fixture.cas->contains(parsed).value()) {
    if (auto error = write_big(*fixture.bytestream_stub); !error.empty()) {
      return state.SkipWithError(error.c_str());
    }
  }
  bytestream::ReadRequest request;
  request.set_resource_name(fmt::format("blobs/{}/{}", digest.hash(), digest.size_bytes()));
  for (auto _ : state) {
    grpc::ClientContext context;
    auto stream = fixture.bytestream_stub->Read(&context, request);
    bytestream::ReadResponse response;
    std::uint64_t received = 0;
    while (stream->Read(&response)) received += response.data().size();
    const auto status = stream->Finish();
    if (!status.ok()) return state.SkipWithError(status.error_message().c_str());
    if (received != k_big_size) return state.SkipWithError("short read");
  }
  set_mb_per_second(state, k_big_size);
}
BENCHMARK(BM_ByteStreamRead1GiB)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(1);

void BM_GenerateContent(benchmark::State& state) {
  std::string chunk(k_chunk, '\0');
  for (auto _ : state) {
    ContentStream content(k_big_seed);
    for (std::uint64_t at = 0; at < k_big_size; at += k_chunk) {
      content.fill(chunk.data(), chunk.size());
      benchmark::DoNotOptimize(chunk.data());
      benchmark::ClobberMemory();
    }
  }
  set_mb_per_second(state, k_big_size);
}
BENCHMARK(BM_GenerateContent)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
}  // namespace forge::bazel_remote

int main(int argc, char** argv) {
  // Our own flag, removed before Google Benchmark sees the rest.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--fsync" || arg == "--fsync=1" || arg == "--fsync=true") {
      forge::bazel_remote::g_fsync = true;
    } else if (arg == "--fsync=0" || arg == "--fsync=false") {
      forge::bazel_remote::g_fsync = false;
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  spdlog::set_level(spdlog::level::warn);  // no "listening" lines between results
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("fsync", forge::bazel_remote::g_fsync ? "on" : "off");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  forge::bazel_remote::g_read_fixture.reset();
  forge::bazel_remote::g_write_fixture.reset();
  return 0;
}
