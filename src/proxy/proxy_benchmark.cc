// Request latency through the proxy on loopback, ping-pong on one keep-alive connection:
// directly to the demo app, through the proxy without access logs, and through the proxy with a
// File access log (a small test formatter; the Kuma default format's own cost is measured by the
// formatter's benchmarks). The difference between the three is the proxy's and the logging's cost
// per request. A TCP benchmark moves 64 KiB blocks through a TCP listener to the echo app.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>
#include <filesystem>

#include "proxy/demo_app.h"
#include "proxy/internal.h"
#include "proxy/server.h"
#include "proxy/test_util.h"
#include "sink/access_log_impl.h"
#include "sink/file_sink.h"

namespace {

using namespace meshlog;

struct Env {
  Env() {
    app.Start();
    log_path = std::filesystem::temp_directory_path() / ("meshlog_bench_" + std::to_string(::getpid()) + ".log");
    file = registry.Get(log_path.string());
    proxy::ListenerConfig plain;
    plain.name = "nolog";
    plain.bind_address = "127.0.0.1:0";
    plain.endpoints = {{.address = "127.0.0.1:" + std::to_string(app.http_port()), .host_name = ""}};
    proxy::ListenerConfig logged = plain;
    logged.name = "filelog";
    logged.access_logs = {std::make_shared<sink::FormattedAccessLog>(
        std::make_shared<proxy::testing::TinyFormatter>(), file)};
    proxy::ListenerConfig tcp = plain;
    tcp.name = "tcp";
    tcp.protocol = proxy::ListenerProtocol::kTcp;
    tcp.endpoints = {{.address = "127.0.0.1:" + std::to_string(app.tcp_port()), .host_name = ""}};
    server.Apply({plain, logged, tcp});
    server.Start();
  }
  ~Env() {
    server.Stop();
    app.Stop();
    std::filesystem::remove(log_path);
  }
  proxy::DemoApp app{{.http_address = "127.0.0.1:0", .tcp_address = "127.0.0.1:0", .name = "bench"}};
  proxy::Server server{proxy::Server::Options{.workers = 1}};
  sink::FileSinkRegistry registry;
  std::shared_ptr<sink::FileSink> file;
  std::filesystem::path log_path;
};

Env& GetEnv() {
  static Env env;
  return env;
}

void PingPong(benchmark::State& state, uint16_t port) {
  proxy::testing::Client c(port);
  const std::string req = "GET /bytes/100 HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\n\r\n";
  for (auto _ : state) {
    c.Send(req);
    const std::string resp = c.ReadResponse();
    if (resp.size() < 100) {
      state.SkipWithError("short response");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Http_DirectToApp(benchmark::State& state) { PingPong(state, GetEnv().app.http_port()); }
void BM_Http_ThroughProxy_NoAccessLog(benchmark::State& state) { PingPong(state, GetEnv().server.Port("nolog")); }
void BM_Http_ThroughProxy_FileAccessLog(benchmark::State& state) {
  PingPong(state, GetEnv().server.Port("filelog"));
}
BENCHMARK(BM_Http_DirectToApp)->UseRealTime();
BENCHMARK(BM_Http_ThroughProxy_NoAccessLog)->UseRealTime();
BENCHMARK(BM_Http_ThroughProxy_FileAccessLog)->UseRealTime();

void BM_Tcp_ThroughProxy_64KiBEcho(benchmark::State& state) {
  proxy::testing::Client c(GetEnv().server.Port("tcp"));
  const std::string block(64 * 1024, 'z');
  for (auto _ : state) {
    c.Send(block);
    if (c.ReadExactly(block.size()) != block.size()) {
      state.SkipWithError("short echo");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * block.size() * 2));
}
BENCHMARK(BM_Tcp_ThroughProxy_64KiBEcho)->UseRealTime();

long RssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  long pages = 0, resident = 0;
  if (f) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * ::sysconf(_SC_PAGESIZE);
}

// Memory of idle keep-alive connections: each connection makes one request (so it had buffers)
// and then stays open and idle (measured once the worker has parked them, see kIdleParkAfter). Reports the RSS growth per connection (client side included:
// a socket fd and a small object).
void BM_Http_IdleKeepAliveMemory(benchmark::State& state) {
  const auto n = static_cast<size_t>(state.range(0));
  Env& env = GetEnv();
  double per_conn = 0;
  for (auto _ : state) {
    const long before = RssBytes();
    std::vector<std::unique_ptr<proxy::testing::Client>> clients;
    for (size_t i = 0; i < n; ++i) {
      auto c = std::make_unique<proxy::testing::Client>(env.server.Port("nolog"));
      if (!c->ok()) {
        state.SkipWithError("connect failed (raise ulimit -n)");
        return;
      }
      c->Send("GET /bytes/1000 HTTP/1.1\r\nHost: b\r\n\r\n");
      c->ReadResponse();
      clients.push_back(std::move(c));
    }
    // Idle means idle for a while: past kIdleParkAfter the worker's sweep has parked them.
    std::this_thread::sleep_for(proxy::kIdleParkAfter + 3 * proxy::kSweepInterval);
    const long after = RssBytes();
    per_conn = static_cast<double>(after - before) / static_cast<double>(n);
  }
  state.counters["rss_bytes_per_idle_conn"] = per_conn;
}
BENCHMARK(BM_Http_IdleKeepAliveMemory)->Arg(2000)->Iterations(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
