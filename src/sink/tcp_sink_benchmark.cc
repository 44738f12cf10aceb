// Records per second from TcpSink to a local TCP receiver, nothing lost.
//
// The receiver is a plain blocking reader on loopback (its own thread) that counts '\n'. One
// iteration pushes `kRecords` default-TCP-format records (~200 bytes) from N producer threads
// (the benchmark argument) as fast as they can and ends when the receiver has counted all of
// them; a refused push or a missing record fails the run. items_per_second = records/s end to
// end (push -> socket -> receiver).
//
//   build/release/src/sink/netsink_tcp_sink_benchmark --benchmark_min_time=2
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <benchmark/benchmark.h>
#include <cstring>
#include <thread>
#include <vector>

#include "sink/tcp_sink.h"

namespace meshlog::sink {
namespace {

// A default TCP-format line (policy.md §4.3) of 200 bytes including the newline.
std::string DefaultTcpRecord() {
  std::string s =
      "[2026-11-27T11:32:32.123Z] - default 10.42.0.17(demo-app_kuma-demo_svc_5000)->10.42.0.23:6379"
      "(redis_kuma-demo_svc_6379) took 12ms, sent 1532 bytes, received: 874 bytes";
  s.resize(199, ' ');
  s.push_back('\n');
  return s;
}

class CountingReceiver {
 public:
  CountingReceiver() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_fd_, 4);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      int c = ::accept(listen_fd_, nullptr, nullptr);
      std::vector<char> buf(1 << 20);
      while (true) {
        ssize_t n = ::read(c, buf.data(), buf.size());
        if (n <= 0) break;
        lines_.fetch_add(static_cast<uint64_t>(std::count(buf.data(), buf.data() + n, '\n')),
                         std::memory_order_relaxed);
      }
      ::close(c);
    });
  }
  ~CountingReceiver() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  uint64_t lines() const { return lines_.load(std::memory_order_relaxed); }

 private:
  int listen_fd_;
  uint16_t port_;
  std::atomic<uint64_t> lines_{0};
  std::thread thread_;
};

void BM_TcpSinkToLocalReceiver(benchmark::State& state) {
  constexpr uint64_t kRecords = 1000000;
  const int producers = static_cast<int>(state.range(0));
  const std::string record = DefaultTcpRecord();
  auto rx = std::make_unique<CountingReceiver>();
  auto io = std::make_shared<IoThread>();
  TcpSinkConfig cfg{.address = "127.0.0.1:" + std::to_string(rx->port())};
  cfg.queue_max_records = kRecords;  // a burst of one iteration fits: measures delivery, not drops
  cfg.queue_max_bytes = kRecords * 256;
  auto sink = TcpSink::Create(io, cfg);
  uint64_t expected = 0;
  for (auto _ : state) {
    std::vector<std::thread> ts;
    std::atomic<uint64_t> refused{0};
    for (int t = 0; t < producers; ++t) {
      ts.emplace_back([&] {
        for (uint64_t i = 0; i < kRecords / static_cast<uint64_t>(producers); ++i) {
          if (!sink->push(record)) refused.fetch_add(1);
        }
      });
    }
    for (auto& th : ts) th.join();
    expected += kRecords / static_cast<uint64_t>(producers) * static_cast<uint64_t>(producers);
    if (refused.load() != 0) state.SkipWithError("records refused");
    while (rx->lines() < expected) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  sink->shutdown(std::chrono::seconds(10));
  if (rx->lines() != expected || sink->stats().dropped_queue_full.value() != 0) state.SkipWithError("records lost");
  state.SetItemsProcessed(static_cast<int64_t>(expected));
  state.SetBytesProcessed(static_cast<int64_t>(expected * record.size()));
  state.counters["retried"] = static_cast<double>(sink->stats().records_retried.value());
}
BENCHMARK(BM_TcpSinkToLocalReceiver)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace meshlog::sink

BENCHMARK_MAIN();
