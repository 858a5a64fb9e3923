// Ed25519 sign/verify and SHA-256 throughput: the per-request cost of signed relay traffic.
// Run: build/bench/crypto/crypto_bench (results in docs/performance/crypto.md).
#include <benchmark/benchmark.h>

#include <string>

#include "c2c/crypto/canonical.hpp"
#include "c2c/crypto/crypto.hpp"

namespace {

using namespace c2c::crypto;

// A realistic signed blob: the per-request canonical string of a small POST /send.
std::string request_sized_blob() {
  return request_blob("POST", "/send", "", body_hash(std::string(100, 'x')), "1776730000.000000",
                      "EBESExQVFhcYGRobHB0eHw");
}

void BM_Ed25519Sign(benchmark::State& state) {
  const KeyPair keys = KeyPair::generate();
  const std::string blob = request_sized_blob();
  for (auto _ : state) benchmark::DoNotOptimize(sign(keys, blob));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519Sign);

void BM_Ed25519Verify(benchmark::State& state) {
  const KeyPair keys = KeyPair::generate();
  const std::string blob = request_sized_blob();
  const Signature sig = sign(keys, blob);
  for (auto _ : state) {
    const bool ok = verify(keys.public_key, blob, sig);
    if (!ok) state.SkipWithError("signature did not verify");
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ed25519Verify);

void BM_Sha256_100B(benchmark::State& state) {
  const std::string data(100, 'x');
  for (auto _ : state) benchmark::DoNotOptimize(sha256(data));
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(data.size()));
}
BENCHMARK(BM_Sha256_100B);

}  // namespace

BENCHMARK_MAIN();
