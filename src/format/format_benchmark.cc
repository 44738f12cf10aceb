// Formatter micro-benchmarks (issue 3 targets: <= 250 ns per record each).
//   cmake --preset release && cmake --build --preset release -j2 --target format_benchmark
//   ./build/release/src/format/format_benchmark
#include <benchmark/benchmark.h>

#include "format/bench_util.h"
#include "format/formatter.h"

namespace meshlog::format {
namespace {

void Run(benchmark::State& state, const FormatterPtr& f, const StreamInfo& info) {
  std::string out;
  out.reserve(1024);
  for (auto _ : state) {
    out.clear();
    f->format(info, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["bytes"] = static_cast<double>(out.size());
}

void BM_KumaDefaultHttp(benchmark::State& state) {
  bench::BenchRecord r;
  auto f = CompilePlain(BindKumaPlaceholders(DefaultHttpFormat(), bench::BenchKuma()) + "\n", OmitEmptyValues::no);
  Run(state, f.value(), r.info);
}
BENCHMARK(BM_KumaDefaultHttp);

void BM_KumaDefaultTcp(benchmark::State& state) {
  const StreamInfo info = bench::BenchTcpInfo();
  auto f = CompilePlain(BindKumaPlaceholders(DefaultTcpFormat(), bench::BenchKuma()) + "\n", OmitEmptyValues::no);
  Run(state, f.value(), info);
}
BENCHMARK(BM_KumaDefaultTcp);

void BM_Json10Fields(benchmark::State& state) {
  bench::BenchRecord r;
  auto f = CompileJson(bench::BenchJsonFields(), OmitEmptyValues::no);
  Run(state, f.value(), r.info);
}
BENCHMARK(BM_Json10Fields);

void BM_Json10FieldsOmitEmpty(benchmark::State& state) {
  bench::BenchRecord r;
  auto f = CompileJson(bench::BenchJsonFields(), OmitEmptyValues::yes);
  Run(state, f.value(), r.info);
}
BENCHMARK(BM_Json10FieldsOmitEmpty);

void BM_CompileDefaultHttp(benchmark::State& state) {
  const std::string fmt = BindKumaPlaceholders(DefaultHttpFormat(), bench::BenchKuma()) + "\n";
  for (auto _ : state) {
    auto f = CompilePlain(fmt, OmitEmptyValues::no);
    benchmark::DoNotOptimize(f);
  }
}
BENCHMARK(BM_CompileDefaultHttp);

}  // namespace
}  // namespace meshlog::format

BENCHMARK_MAIN();
