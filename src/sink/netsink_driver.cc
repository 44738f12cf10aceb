// meshlog_netsink_driver: pushes numbered records through a TcpSink or OtlpSink, then shuts it
// down and prints the sink's stats as JSON. Used by tests/integration/test_tcp_sink_*.sh,
// test_otlp_*.sh and bench/sinks/. Not part of the product.
//
//   meshlog_netsink_driver tcp --address 127.0.0.1:25001 --count 100000 --rate 20000
//   meshlog_netsink_driver otlp --protocol http --endpoint 127.0.0.1:25002 --count 10000
//
// Record n (TCP): "<prefix> <n zero-padded to 10> <padding to --size bytes>\n".
// Record n (OTLP): time_unix_nano = 1700000000000000000 + n, body = the TCP text without '\n',
// attributes {seq: n, mesh: default}, trace_id/span_id derived from n for even n.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "sink/netsink_registry.h"
#include "sink/otlp_sink.h"

using namespace meshlog::sink;
using Clock = std::chrono::steady_clock;

namespace {

struct Load {
  uint64_t count = 10000;
  uint64_t rate = 0;  // records/s, 0 = as fast as possible
  size_t size = 200;
  std::string prefix = "rec";
  int threads = 1;
  int drain_ms = 30000;
};

std::string Text(const Load& l, uint64_t n) {
  char num[32];
  std::snprintf(num, sizeof num, "%010llu", static_cast<unsigned long long>(n));
  std::string s = l.prefix + " " + num + " ";
  if (s.size() + 1 < l.size) s.append(l.size - 1 - s.size(), 'x');
  return s;
}

// Pushes records [0, count) from `threads` threads (thread t takes n % threads == t), paced to
// `rate` overall. Returns how many pushes were refused.
template <typename PushFn>
uint64_t Run(const Load& l, PushFn push) {
  std::atomic<uint64_t> refused{0};
  std::vector<std::thread> ts;
  const auto start = Clock::now();
  for (int t = 0; t < l.threads; ++t) {
    ts.emplace_back([&, t] {
      uint64_t done = 0;
      for (uint64_t n = static_cast<uint64_t>(t); n < l.count; n += static_cast<uint64_t>(l.threads)) {
        if (!push(n)) refused++;
        if (l.rate > 0 && (++done & 63) == 0) {
          const auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * static_cast<double>(n) / l.rate));
          std::this_thread::sleep_until(due);
        }
      }
    });
  }
  for (auto& th : ts) th.join();
  return refused.load();
}

void PrintStats(Sink& sink, uint64_t refused, double push_seconds, double total_seconds, const Load& l) {
  std::cout << "{\"type\": \"" << sink.type() << "\", \"destination\": \"" << sink.destination() << "\"";
  sink.visitStats([](std::string_view name, meshlog::StatKind, double v) {
    std::cout << ", \"" << name << "\": " << static_cast<int64_t>(v);
  });
  std::cout << ", \"refused\": " << refused << ", \"count\": " << l.count << ", \"push_seconds\": " << push_seconds
            << ", \"total_seconds\": " << total_seconds
            << ", \"records_per_second\": " << static_cast<uint64_t>(static_cast<double>(l.count) / total_seconds)
            << "}" << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Drive a meshlog network sink with numbered records"};
  app.require_subcommand(1);
  Load load;
  auto add_load = [&](CLI::App* c) {
    c->add_option("--count", load.count);
    c->add_option("--rate", load.rate, "records per second (0 = unpaced)");
    c->add_option("--size", load.size, "TCP record size in bytes incl. newline");
    c->add_option("--prefix", load.prefix);
    c->add_option("--threads", load.threads);
    c->add_option("--drain-ms", load.drain_ms);
  };
  TcpSinkConfig tcp;
  int reconnect_max_ms = 500;
  auto* tcp_cmd = app.add_subcommand("tcp", "TCP backend");
  add_load(tcp_cmd);
  tcp_cmd->add_option("--address", tcp.address)->required();
  tcp_cmd->add_option("--queue-records", tcp.queue_max_records);
  size_t queue_mb = 0;
  tcp_cmd->add_option("--queue-mb", queue_mb, "queue byte limit in MiB (default: the sink's)");
  tcp_cmd->add_option("--reconnect-max-ms", reconnect_max_ms);
  int replay_window_ms = static_cast<int>(tcp.replay_window.count());
  tcp_cmd->add_option("--replay-window-ms", replay_window_ms, "0 = re-send only bytes the peer did not ACK");

  OtlpSinkConfig otlp;
  std::string protocol = "grpc";
  int retry_initial_ms = 100, retry_max_ms = 1000;
  int batch_delay_ms = 1000;
  auto* otlp_cmd = app.add_subcommand("otlp", "OpenTelemetry backend");
  add_load(otlp_cmd);
  otlp_cmd->add_option("--protocol", protocol)->check(CLI::IsMember({"grpc", "http"}));
  otlp_cmd->add_option("--endpoint", otlp.endpoint)->required();
  otlp_cmd->add_option("--path", otlp.path, "HTTP request path (default /v1/logs)");
  otlp_cmd->add_option("--batch-bytes", otlp.batch_max_bytes);
  otlp_cmd->add_option("--batch-delay-ms", batch_delay_ms);
  otlp_cmd->add_option("--max-in-flight", otlp.max_in_flight);
  otlp_cmd->add_option("--queue-records", otlp.queue_max_records);
  otlp_cmd->add_option("--retry-initial-ms", retry_initial_ms);
  otlp_cmd->add_option("--retry-max-ms", retry_max_ms);
  CLI11_PARSE(app, argc, argv);

  NetSinkRegistry registry(nullptr, CreateOtlpSink);
  const auto start = Clock::now();
  if (*tcp_cmd) {
    tcp.reconnect.initial = std::chrono::milliseconds(std::min(50, reconnect_max_ms));
    tcp.reconnect.max = std::chrono::milliseconds(reconnect_max_ms);
    tcp.replay_window = std::chrono::milliseconds(replay_window_ms);
    if (queue_mb > 0) tcp.queue_max_bytes = queue_mb << 20;
    auto sink = registry.tcp(tcp);
    const uint64_t refused = Run(load, [&](uint64_t n) {
      std::string s = Text(load, n);
      s.push_back('\n');
      return sink->push(s);
    });
    const double pushed = std::chrono::duration<double>(Clock::now() - start).count();
    sink->shutdown(std::chrono::milliseconds(load.drain_ms));
    PrintStats(*sink, refused, pushed, std::chrono::duration<double>(Clock::now() - start).count(), load);
    return 0;
  }
  otlp.protocol = protocol == "http" ? OtlpProtocol::kHttp : OtlpProtocol::kGrpc;
  otlp.batch_max_delay = std::chrono::milliseconds(batch_delay_ms);
  otlp.retry.initial = std::chrono::milliseconds(retry_initial_ms);
  otlp.retry.max = std::chrono::milliseconds(retry_max_ms);
  otlp.resource.zone_name = "zone-1";
  otlp.resource.cluster_name = "backend";
  otlp.resource.node_name = "backend-01";
  otlp.resource.kuma_mesh = "default";
  otlp.resource.kuma_zone = "zone-1";
  otlp.resource.kuma_workload = "kri_wl_default_zone-1_kuma-demo_backend_";
  auto sink = registry.otlp(otlp);
  const uint64_t refused = Run(load, [&](uint64_t n) {
    meshlog::format::OtelRecord r;
    r.time_unix_nano = 1700000000000000000ull + n;
    r.body = meshlog::format::OtelValue::String(Text(load, n));
    r.attributes = {{"seq", std::to_string(n)}, {"mesh", "default"}};
    if (n % 2 == 0) {
      r.trace_id.assign(16, '\0');
      r.span_id.assign(8, '\0');
      for (int i = 0; i < 8; ++i) {
        r.trace_id[15 - i] = static_cast<char>((n >> (8 * i)) & 0xff);
        r.span_id[7 - i] = static_cast<char>((n >> (8 * i)) & 0xff);
      }
      r.trace_id[0] = '\x01';
    }
    return sink->push(std::move(r));
  });
  const double pushed = std::chrono::duration<double>(Clock::now() - start).count();
  sink->shutdown(std::chrono::milliseconds(load.drain_ms));
  PrintStats(*sink, refused, pushed, std::chrono::duration<double>(Clock::now() - start).count(), load);
  return 0;
}
