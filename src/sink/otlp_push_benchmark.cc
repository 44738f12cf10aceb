// Cost of OtelSink::push() (encode + queue, on the calling worker thread) for an OtlpSink linked
// into the program vs one made by the plugin meshlog-otlp.so, as `meshlog run` uses it. Built
// twice from this file (netsink.cmake): netsink_otlp_push_linked_benchmark links meshlog_otlp;
// netsink_otlp_push_plugin_benchmark links only the loader (a program cannot have both: see
// otlp_plugin.h). No collector listens and the queue is large enough for every push, so
// nothing is sent or dropped while timing; each iteration includes copying the record (as
// OtelAccessLog renders a fresh one per request).
//
//   build/release/src/sink/netsink_otlp_push_linked_benchmark
//   build/release/src/sink/netsink_otlp_push_plugin_benchmark
#include <benchmark/benchmark.h>

#include <string>

#ifdef MESHLOG_PUSH_LINKED
#include "sink/otlp_sink.h"
#else
#include "sink/otlp_plugin_loader.h"
#endif

namespace meshlog::sink {
namespace {

void BM_OtelSinkPush(benchmark::State& state) {
  OtlpSinkConfig c;
  c.endpoint = "127.0.0.1:9";  // nothing listens; batches are only ever retried
  c.batch_max_delay = std::chrono::hours(1);
  c.queue_max_records = 50'000'000;
  c.queue_max_bytes = size_t{16} << 30;
#ifdef MESHLOG_PUSH_LINKED
  OtelSinkPtr sink = CreateOtlpSink(std::make_shared<IoThread>(), c);
#else
  std::string error;
  OtelSinkPtr sink = LoadOtlpPlugin({MESHLOG_BENCH_PLUGIN_DIR}).create_sink(c, &error);
  if (!sink) {
    state.SkipWithError(error.c_str());
    return;
  }
#endif
  format::OtelRecord proto;
  proto.time_unix_nano = 1700000000000000000ull;
  proto.body = format::OtelValue::String(std::string(200, 'x'));  // Kuma default format's size
  proto.attributes = {{"http.request.method", "GET"}, {"mesh", "default"}};
  uint64_t refused = 0;
  for (auto _ : state) {
    format::OtelRecord r = proto;
    if (!sink->push(std::move(r))) ++refused;
  }
  state.counters["refused"] = static_cast<double>(refused);
  sink->shutdown(std::chrono::milliseconds(0));
}
BENCHMARK(BM_OtelSinkPush)->Iterations(300'000)->Repetitions(7)->ReportAggregatesOnly(true);

}  // namespace
}  // namespace meshlog::sink

BENCHMARK_MAIN();
