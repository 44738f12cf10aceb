// Records per second from OtlpSink (OTLP/gRPC and OTLP/HTTP) to a local receiver, nothing lost.
//
// gRPC receiver: a C++ gRPC callback server built from proto/ that parses every request with the
// generated classes and counts log records. HTTP receiver: a Boost.Beast HTTP/1.1 keep-alive
// server (one thread per connection) that parses every body the same way and answers 200 with
// an empty ExportLogsServiceResponse. One iteration pushes kRecords records shaped like Kuma's
// default OTLP record (string body ~200 bytes of the default format, two string attributes,
// trace/span ids) from one producer thread and ends when the receiver has counted all of them.
// Default batching (16 KiB, 1 s) and 4 requests in flight unless the argument says otherwise.
//
//   build/release/src/sink/netsink_otlp_sink_benchmark --benchmark_min_time=2
#include <benchmark/benchmark.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "sink/otlp_sink.h"

namespace meshlog::sink {
namespace {

namespace pb = opentelemetry::proto::collector::logs::v1;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

uint64_t CountRecords(const pb::ExportLogsServiceRequest& req) {
  uint64_t n = 0;
  for (const auto& rl : req.resource_logs()) {
    for (const auto& sl : rl.scope_logs()) n += static_cast<uint64_t>(sl.log_records_size());
  }
  return n;
}

class GrpcReceiver final : public pb::LogsService::CallbackService {
 public:
  GrpcReceiver() {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(this);
    server_ = b.BuildAndStart();
  }
  ~GrpcReceiver() override { server_->Shutdown(); }
  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* ctx, const pb::ExportLogsServiceRequest* req,
                                   pb::ExportLogsServiceResponse*) override {
    records_.fetch_add(CountRecords(*req), std::memory_order_relaxed);
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
  int port() const { return port_; }
  uint64_t records() const { return records_.load(std::memory_order_relaxed); }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<uint64_t> records_{0};
};

class HttpReceiver {
 public:
  HttpReceiver() : acceptor_(io_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] {
      while (true) {
        tcp::socket s(io_);
        boost::system::error_code ec;
        acceptor_.accept(s, ec);
        if (ec) return;
        conns_.emplace_back([this, s = std::move(s)]() mutable { serve(std::move(s)); });
      }
    });
  }
  ~HttpReceiver() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    thread_.join();
    for (auto& t : conns_) t.join();
  }
  uint16_t port() const { return port_; }
  uint64_t records() const { return records_.load(std::memory_order_relaxed); }

 private:
  void serve(tcp::socket s) {
    beast::flat_buffer buf;
    const std::string ok = pb::ExportLogsServiceResponse().SerializeAsString();
    while (true) {
      http::request<http::string_body> req;
      boost::system::error_code ec;
      http::read(s, buf, req, ec);
      if (ec) return;
      pb::ExportLogsServiceRequest msg;
      if (msg.ParseFromString(req.body())) records_.fetch_add(CountRecords(msg), std::memory_order_relaxed);
      http::response<http::string_body> res(http::status::ok, 11);
      res.set(http::field::content_type, "application/x-protobuf");
      res.body() = ok;
      res.keep_alive(true);
      res.prepare_payload();
      http::write(s, res, ec);
      if (ec) return;
    }
  }
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_;
  std::atomic<uint64_t> records_{0};
  std::thread thread_;
  std::vector<std::thread> conns_;
};

format::OtelRecord DefaultOtelRecord(uint64_t i) {
  format::OtelRecord r;
  r.time_unix_nano = 1700000000000000000ull + i;
  r.body = format::OtelValue::String(
      "[2026-11-27T11:32:32.123Z] default \"GET /api/v1/items HTTP/1.1\" 200 - 0 1532 12 11 \"10.42.0.17\" "
      "\"curl/8.5.0\" \"4f1b2c3d-aaaa-bbbb-cccc-0123456789ab\" \"backend:5000\" \"10.42.0.23:5000\"");
  r.attributes = {{"mesh", "default"}, {"service", "demo-app"}};
  r.trace_id.assign(16, '\x42');
  r.span_id.assign(8, '\x24');
  return r;
}

template <typename Receiver>
void Run(benchmark::State& state, OtlpProtocol protocol) {
  constexpr uint64_t kRecords = 300000;
  Receiver rx;
  auto io = std::make_shared<IoThread>();
  OtlpSinkConfig cfg;
  cfg.protocol = protocol;
  cfg.endpoint = "127.0.0.1:" + std::to_string(rx.port());
  cfg.resource.kuma_mesh = "default";
  cfg.resource.node_name = "demo-app-01";
  cfg.batch_max_bytes = static_cast<size_t>(state.range(0));
  cfg.max_in_flight = static_cast<int>(state.range(1));
  cfg.queue_max_records = kRecords;  // one iteration's burst fits: measures delivery, not drops
  cfg.queue_max_bytes = kRecords * 512;
  auto sink = OtlpSink::Create(io, cfg);
  const format::OtelRecord proto = DefaultOtelRecord(0);
  uint64_t expected = 0;
  for (auto _ : state) {
    uint64_t refused = 0;
    for (uint64_t i = 0; i < kRecords; ++i) {
      format::OtelRecord r = proto;
      r.time_unix_nano += i;
      if (!sink->push(std::move(r))) ++refused;
    }
    expected += kRecords;
    if (refused != 0) state.SkipWithError("records refused");
    sink->flush();
    while (rx.records() < expected) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  sink->shutdown(std::chrono::seconds(10));
  if (rx.records() != expected || sink->stats().records_sent.value() != expected) state.SkipWithError("records lost");
  state.SetItemsProcessed(static_cast<int64_t>(expected));
  state.counters["requests"] = static_cast<double>(sink->stats().requests_sent.value());
}

void BM_OtlpGrpcSinkToLocalReceiver(benchmark::State& state) { Run<GrpcReceiver>(state, OtlpProtocol::kGrpc); }
void BM_OtlpHttpSinkToLocalReceiver(benchmark::State& state) { Run<HttpReceiver>(state, OtlpProtocol::kHttp); }

// Args: batch_max_bytes, max_in_flight.
BENCHMARK(BM_OtlpGrpcSinkToLocalReceiver)->Args({16384, 4})->Args({65536, 4})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_OtlpHttpSinkToLocalReceiver)->Args({16384, 4})->Args({65536, 4})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace meshlog::sink

BENCHMARK_MAIN();
