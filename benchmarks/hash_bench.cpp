// Hasher throughput: SHA-256 (OpenSSL EVP, SHA-NI here), XXH3-128, and both in one pass,
// over buffer sizes from a small source file to a large chunk.
#include <benchmark/benchmark.h>

#include <string>

#include "forge/core/hash/hasher.h"

namespace {

void run(benchmark::State& state, forge::hash::AlgorithmSet algorithms) {
  const std::string data(static_cast<std::size_t>(state.range(0)), 'x');
  for (auto _ : state) {
    forge::hash::MultiHasher hasher(algorithms);
    hasher.update(data);
    benchmark::DoNotOptimize(hasher.finish());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

void BM_Sha256(benchmark::State& state) {
  run(state, {true, false});
}
void BM_Xxh3(benchmark::State& state) {
  run(state, {false, true});
}
void BM_Both(benchmark::State& state) {
  run(state, {true, true});
}

BENCHMARK(BM_Sha256)->Arg(64)->Arg(4096)->Arg(16384)->Arg(1 << 20);
BENCHMARK(BM_Xxh3)->Arg(64)->Arg(4096)->Arg(16384)->Arg(1 << 20);
BENCHMARK(BM_Both)->Arg(4096)->Arg(1 << 20);

}  // namespace

BENCHMARK_MAIN();
