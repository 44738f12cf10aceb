// Records per second from OtlpSink (OTLP/gRPC and OTLP/HTTP) to a local receiver, nothing lost.
//
// gRPC receiver: a C++ gRPC callback server (service generated from proto/, raw ByteBuffer method)
// that walks every request's wire format (ExportLogsServiceRequest.resource_logs ->
// ResourceLogs.scope_logs -> ScopeLogs.log_records) and counts the records; a malformed request
// fails the run. HTTP receiver: a Boost.Beast HTTP/1.1 keep-alive server (one thread per
// connection) that counts the same way and answers 200 with an empty ExportLogsServiceResponse.
// The receivers count instead of building message objects so that the machine's two cores go to
// the sink under test, not to the receiver's allocations (otlp_encoder_test.cc and the Python
// receivers check the content). One iteration pushes kRecords records shaped like Kuma's
// default OTLP record (string body ~200 bytes of the default format, two string attributes,
// trace/span ids) from one producer thread and ends when the receiver has counted all of them.
// Arguments: batch_max_bytes, max_in_flight (the defaults are 16 KiB and 4).
//
//   build/release/src/sink/netsink_otlp_sink_benchmark --benchmark_min_time=2
#include <benchmark/benchmark.h>
#include <grpcpp/grpcpp.h>

#include <sys/socket.h>

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

// Calls fn(field, payload) for every length-delimited field of `msg`; false if malformed.
template <typename Fn>
bool ForEachLenField(std::string_view msg, Fn&& fn) {
  size_t i = 0;
  auto varint = [&](uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && i < msg.size(); shift += 7) {
      const auto b = static_cast<uint8_t>(msg[i++]);
      v |= uint64_t{b & 0x7fu} << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  };
  while (i < msg.size()) {
    uint64_t tag, v;
    if (!varint(tag)) return false;
    switch (tag & 7) {
      case 0: if (!varint(v)) return false; break;
      case 1: i += 8; break;
      case 5: i += 4; break;
      case 2:
        if (!varint(v) || v > msg.size() - i) return false;
        if (!fn(static_cast<uint32_t>(tag >> 3), msg.substr(i, v))) return false;
        i += v;
        break;
      default: return false;
    }
  }
  return i == msg.size();
}

// Number of LogRecords in a serialised ExportLogsServiceRequest, or -1 if malformed.
int64_t CountRecords(std::string_view req) {
  int64_t n = 0;
  const bool ok = ForEachLenField(req, [&](uint32_t f, std::string_view rl) {
    return f != 1 || ForEachLenField(rl, [&](uint32_t f2, std::string_view sl) {
      return f2 != 2 || ForEachLenField(sl, [&](uint32_t f3, std::string_view) {
        n += f3 == 2;
        return true;
      });
    });
  });
  return ok ? n : -1;
}

class GrpcReceiver final : public pb::LogsService::WithRawCallbackMethod_Export<pb::LogsService::Service> {
 public:
  GrpcReceiver() {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(this);
    server_ = b.BuildAndStart();
  }
  ~GrpcReceiver() override { server_->Shutdown(); }
  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* req,
                                   grpc::ByteBuffer* resp) override {
    grpc::Slice body;
    const int64_t n = req->DumpToSingleSlice(&body).ok()
                          ? CountRecords(std::string_view(reinterpret_cast<const char*>(body.begin()), body.size()))
                          : -1;
    if (n < 0) malformed_.fetch_add(1);
    records_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(n, 0)), std::memory_order_relaxed);
    grpc::Slice empty;  // an empty ExportLogsServiceResponse
    *resp = grpc::ByteBuffer(&empty, 1);
    auto* r = ctx->DefaultReactor();
    r->Finish(grpc::Status::OK);
    return r;
  }
  uint64_t malformed() const { return malformed_.load(); }
  int port() const { return port_; }
  uint64_t records() const { return records_.load(std::memory_order_relaxed); }

 private:
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::atomic<uint64_t> records_{0};
  std::atomic<uint64_t> malformed_{0};
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
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // wakes the blocking accept()
    thread_.join();
    boost::system::error_code ec;
    acceptor_.close(ec);
    for (auto& t : conns_) t.join();
  }
  uint16_t port() const { return port_; }
  uint64_t records() const { return records_.load(std::memory_order_relaxed); }
  uint64_t malformed() const { return malformed_.load(); }

 private:
  void serve(tcp::socket s) {
    beast::flat_buffer buf;
    const std::string ok = pb::ExportLogsServiceResponse().SerializeAsString();
    while (true) {
      http::request<http::string_body> req;
      boost::system::error_code ec;
      http::read(s, buf, req, ec);
      if (ec) return;
      const int64_t n = CountRecords(req.body());
      if (n < 0) malformed_.fetch_add(1);
      records_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(n, 0)), std::memory_order_relaxed);
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
  std::atomic<uint64_t> malformed_{0};
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
    while (rx.records() < expected && rx.malformed() == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (rx.malformed() != 0) state.SkipWithError("malformed request");
  }
  sink->shutdown(std::chrono::seconds(10));
  if (rx.records() != expected || sink->stats().records_sent.value() != expected) state.SkipWithError("records lost");
  state.SetItemsProcessed(static_cast<int64_t>(expected));
  state.counters["requests"] = static_cast<double>(sink->stats().requests_sent.value());
}

void BM_OtlpGrpcSinkToLocalReceiver(benchmark::State& state) { Run<GrpcReceiver>(state, OtlpProtocol::kGrpc); }
void BM_OtlpHttpSinkToLocalReceiver(benchmark::State& state) { Run<HttpReceiver>(state, OtlpProtocol::kHttp); }

// Args: batch_max_bytes, max_in_flight.
BENCHMARK(BM_OtlpGrpcSinkToLocalReceiver)->Args({16384, 4})->Args({16384, 8})->Args({16384, 16})->Args({65536, 4})->Args({262144, 4})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_OtlpHttpSinkToLocalReceiver)->Args({16384, 4})->Args({16384, 8})->Args({65536, 4})->Args({262144, 4})->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace meshlog::sink

BENCHMARK_MAIN();
