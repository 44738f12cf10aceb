// Scale benchmark of the policy engine (issue 4): synthetic meshes of N dataplanes x M
// MeshAccessLog policies of mixed kinds (rules/synthetic.h), computing every dataplane's
// per-listener access-log config. Results and commands: docs/benchmarks.md, "Policy engine".
//
//   BM_BuildIndex/N/M          Engine construction (per-mesh indexes), once per world.
//   BM_ComputeAll/N/M/compile  Compute() for every dataplane, results kept until the iteration
//                              ends (as a control plane would hold them); compile=1 also compiles
//                              every formatter. Reports ns per dataplane and access logs built.
//   BM_ComputeEach/N/M/compile The same, each result dropped once computed.
//   BM_RecomputeOne/N/M        Compute() for one changed dataplane (the others are untouched).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "rules/engine.h"
#include "rules/synthetic.h"

namespace meshlog::rules {
namespace {

const policy::ResourceSet& World(uint32_t dataplanes, uint32_t policies) {
  static std::unique_ptr<policy::ResourceSet> cached;
  static uint32_t cached_dp = 0, cached_pol = 0;
  if (!cached || cached_dp != dataplanes || cached_pol != policies) {
    SyntheticOptions o;
    o.dataplanes = dataplanes;
    o.policies = policies;
    cached = std::make_unique<policy::ResourceSet>(GenerateSyntheticMesh(o));
    cached_dp = dataplanes;
    cached_pol = policies;
  }
  return *cached;
}

void BM_BuildIndex(benchmark::State& state) {
  const auto& world = World(static_cast<uint32_t>(state.range(0)), static_cast<uint32_t>(state.range(1)));
  for (auto _ : state) {
    Engine engine(world);
    benchmark::DoNotOptimize(&engine);
  }
}

void BM_ComputeAll(benchmark::State& state) {
  const auto& world = World(static_cast<uint32_t>(state.range(0)), static_cast<uint32_t>(state.range(1)));
  const Engine engine(world);
  ComputeOptions options;
  options.compile = state.range(2) != 0;
  size_t logs = 0, listeners = 0;
  for (auto _ : state) {
    std::vector<DataplaneConfig> configs;
    configs.reserve(engine.dataplanes().size());
    for (const auto& dp : engine.dataplanes()) configs.push_back(engine.Compute(dp, options));
    state.PauseTiming();  // count outside the timed region; freeing the configs is not timed either
    logs = listeners = 0;
    for (const auto& c : configs) {
      listeners += c.listeners.size();
      for (const auto& l : c.listeners) logs += l.access_logs.size();
    }
    configs.clear();
    configs.shrink_to_fit();
    state.ResumeTiming();
  }
  state.counters["dataplanes"] = static_cast<double>(engine.dataplanes().size());
  state.counters["listeners"] = static_cast<double>(listeners);
  state.counters["access_logs"] = static_cast<double>(logs);
  state.counters["per_dataplane"] = benchmark::Counter(static_cast<double>(engine.dataplanes().size()),
                                                       benchmark::Counter::kIsIterationInvariantRate |
                                                           benchmark::Counter::kInvert);
}

// Like BM_ComputeAll but each result is dropped right away (a control plane that pushes each
// dataplane's config as soon as it is computed): the per-dataplane cost without the memory of
// holding every result.
void BM_ComputeEach(benchmark::State& state) {
  const auto& world = World(static_cast<uint32_t>(state.range(0)), static_cast<uint32_t>(state.range(1)));
  const Engine engine(world);
  ComputeOptions options;
  options.compile = state.range(2) != 0;
  for (auto _ : state) {
    for (const auto& dp : engine.dataplanes()) {
      DataplaneConfig c = engine.Compute(dp, options);
      benchmark::DoNotOptimize(c);
    }
  }
  state.counters["per_dataplane"] = benchmark::Counter(static_cast<double>(engine.dataplanes().size()),
                                                       benchmark::Counter::kIsIterationInvariantRate |
                                                           benchmark::Counter::kInvert);
}

void BM_RecomputeOne(benchmark::State& state) {
  const auto& world = World(static_cast<uint32_t>(state.range(0)), static_cast<uint32_t>(state.range(1)));
  const Engine engine(world);
  policy::DataplaneResource changed = engine.dataplanes()[engine.dataplanes().size() / 2];
  changed.meta.labels["version"] = "v2";
  for (auto _ : state) {
    DataplaneConfig c = engine.Compute(changed);
    benchmark::DoNotOptimize(c);
  }
}

BENCHMARK(BM_BuildIndex)->Args({10'000, 1'000})->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ComputeAll)
    ->ArgsProduct({{1'000, 2'500, 5'000, 10'000}, {1'000}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK(BM_ComputeEach)
    ->ArgsProduct({{1'000, 2'500, 5'000, 10'000}, {1'000}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);
BENCHMARK(BM_RecomputeOne)->Args({10'000, 1'000})->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace meshlog::rules

BENCHMARK_MAIN();
