// CasStore micro-benchmarks: put and get at 4 KiB, 1 MiB and 100 MiB, existence checks for
// 10k digests, opening an index of 1M entries, and eviction throughput.
// Run: build/default/benchmarks/forge_cache_bench --benchmark_repetitions=5
//        --benchmark_report_aggregates_only=true
// The store lives under $FORGE_BENCH_DIR (default /tmp): put it on the disk you care about.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include <benchmark/benchmark.h>

#include "blob_record.h"  // internal: the benchmark fills an index directly
#include "forge/cache/cas_store.h"
#include "forge/core/store/lmdb.h"

namespace forge::cache {
namespace {

std::filesystem::path bench_dir(const std::string& name) {
  const char* base = std::getenv("FORGE_BENCH_DIR");
  auto dir = std::filesystem::path(base != nullptr ? base : "/tmp") /
             ("forge-cache-bench-" + std::to_string(::getpid()) + "-" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

std::string random_bytes(std::size_t size, std::uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string out(size, '\0');
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    const std::uint64_t v = random();
    std::memcpy(out.data() + i, &v, 8);
  }
  return out;
}

std::shared_ptr<CasStore> open_store(const std::filesystem::path& dir, bool fsync) {
  StoreOptions options;
  options.dir = dir;
  options.fsync = fsync;
  options.max_blob_size = 1ull << 30;
  auto store = CasStore::open(options);
  if (!store) std::abort();
  return *store;
}

// Arg 0: blob size; arg 1: fsync (0/1). Each iteration stores a new blob.
void BM_Put(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const auto dir = bench_dir("put");
  auto store = open_store(dir, state.range(1) != 0);
  std::string content = random_bytes(size, 1);
  std::uint64_t counter = 0;
  for (auto _ : state) {
    std::memcpy(content.data(), &++counter, sizeof counter);  // a new blob every time
    auto digest = store->put(std::as_bytes(std::span(content)));
    if (!digest) state.SkipWithError(digest.error().summary().c_str());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  store.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Put)
    ->ArgsProduct({{4 << 10, 1 << 20, 100 << 20}, {0, 1}})
    ->ArgNames({"size", "fsync"})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

// Reads one blob of the given size back whole, through the index and a pinned descriptor.
void BM_Get(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const auto dir = bench_dir("get");
  auto store = open_store(dir, false);
  const std::string content = random_bytes(size, 2);
  const auto digest = store->put(std::as_bytes(std::span(content))).value();
  for (auto _ : state) {
    auto content = store->get(digest);
    if (!content || !*content) state.SkipWithError("miss");
    benchmark::DoNotOptimize(content);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  store.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Get)->Arg(4 << 10)->Arg(1 << 20)->Arg(100 << 20)->UseRealTime()->Unit(
    benchmark::kMicrosecond);

// Writes `count` synthetic index entries straight into LMDB (no blob files): the index is
// what open() and find_missing() touch, and building 1M real files would measure the disk.
void populate_index(const std::filesystem::path& dir, std::uint64_t count) {
  { open_store(dir, false); }  // creates the layout and databases
  store::EnvOptions env_options;
  env_options.dir = dir / "index";
  env_options.sync = false;
  auto env = store::Environment::open(env_options).value();
  auto blobs = env.open_database("blobs").value();
  auto lru = env.open_database("lru").value();
  constexpr std::uint64_t k_batch = 100'000;
  for (std::uint64_t start = 0; start < count; start += k_batch) {
    auto written = env.write([&](store::WriteTxn& txn) -> Result<void> {
      for (std::uint64_t i = start; i < std::min(count, start + k_batch); ++i) {
        const auto digest = digest_of(std::to_string(i));
        const auto raw = digest.sha256.bytes();
        const std::string_view key(reinterpret_cast<const char*>(raw.data()), raw.size());
        const BlobRecord record{100, 100, static_cast<std::int64_t>(i),
                                static_cast<std::int64_t>(i), 0};
        FORGE_TRY_VOID(txn.put(blobs, key, record.encode()));
        std::string lru_key(8, '\0');
        for (int b = 0; b < 8; ++b) lru_key[b] = static_cast<char>((i >> (56 - 8 * b)) & 0xff);
        lru_key.append(key);
        FORGE_TRY_VOID(txn.put(lru, lru_key, {}));
      }
      return ok();
    });
    if (!written) std::abort();
  }
}

void BM_OpenIndex(benchmark::State& state) {
  const auto count = static_cast<std::uint64_t>(state.range(0));
  const auto dir = bench_dir("open");
  populate_index(dir, count);
  for (auto _ : state) {
    auto store = open_store(dir, false);
    benchmark::DoNotOptimize(store);
  }
  state.counters["entries"] = static_cast<double>(count);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_OpenIndex)
    ->Arg(1'000'000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(10);

// find_missing over 10k digests, half present, against an index of 1M entries.
void BM_FindMissing10k(benchmark::State& state) {
  const auto dir = bench_dir("exists");
  populate_index(dir, 1'000'000);
  auto store = open_store(dir, false);
  std::vector<BlobDigest> query;
  for (int i = 0; i < 10'000; ++i) {
    query.push_back(i % 2 == 0 ? BlobDigest{digest_of(std::to_string(i * 97)).sha256, 100}
                               : digest_of("absent" + std::to_string(i)));
  }
  // The digest filter is built in the background at open: measure the steady state.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!store->digest_filter_stats().ready && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const auto skipped_before = store->digest_filter_stats().lookups_skipped;
  for (auto _ : state) {
    auto missing = store->find_missing(query);
    if (!missing || missing->size() != 5'000) state.SkipWithError("wrong answer");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * query.size()));
  state.counters["skipped_per_query"] =
      static_cast<double>(store->digest_filter_stats().lookups_skipped - skipped_before) /
      static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
  store.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_FindMissing10k)->UseRealTime()->Unit(benchmark::kMillisecond);

// Evicts 10k blobs of 4 KiB (index updates and unlinks); reports blobs evicted per second.
void BM_Evict(benchmark::State& state) {
  const auto dir = bench_dir("evict");
  for (auto _ : state) {
    state.PauseTiming();
    std::filesystem::remove_all(dir);
    auto store = open_store(dir, false);
    std::string content = random_bytes(4096, 3);
    for (std::uint64_t i = 0; i < 10'000; ++i) {
      std::memcpy(content.data(), &i, sizeof i);
      (void)store->put(std::as_bytes(std::span(content)));
    }
    state.ResumeTiming();
    auto report = store->evict_now(0);
    if (!report || report->evicted != 10'000) state.SkipWithError("eviction incomplete");
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 10'000));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Evict)->UseRealTime()->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace forge::cache

BENCHMARK_MAIN();
