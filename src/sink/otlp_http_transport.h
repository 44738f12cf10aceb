// File: otlp_http_transport.h
//
// OTLP/HTTP transport: `POST <path>` with `Content-Type: application/x-protobuf` over HTTP/1.1
// keep-alive connections (Boost.Beast), one connection per request in flight (HTTP/1.1 has no
// multiplexing), reused afterwards. 2xx responses are decoded as ExportLogsServiceResponse
// (partial success); 429/502/503/504 are retryable and their Retry-After is honoured; a
// connection that fails or closes without a response is retryable; every other status is not.
// A request that fails on a reused keep-alive connection before any response byte arrived is
// tried once more at once on a fresh connection (the server may have closed an idle connection).
//
// Example:
//   auto t = std::make_shared<OtlpHttpTransport>(io, HostPort{"127.0.0.1", 4318}, "/v1/logs",
//                                                std::chrono::seconds(10));
//   t->send(request_bytes, [](ExportResult r) { ... });   // call and callback on the IoThread
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "sink/io_thread.h"
#include "sink/net_address.h"
#include "sink/otlp_transport.h"

namespace meshlog::sink {

class OtlpHttpTransport final : public OtlpTransport, public std::enable_shared_from_this<OtlpHttpTransport> {
 public:
  OtlpHttpTransport(IoThreadPtr io, HostPort host_port, std::string path, std::chrono::milliseconds timeout);
  ~OtlpHttpTransport() override;
  void send(std::shared_ptr<const std::string> request, Done done) override;
  void cancelAll(std::chrono::milliseconds wait) override;
  int connectionState() const override { return state_.load(); }

 private:
  struct Conn;
  struct Exchange;
  void start(std::shared_ptr<Exchange> ex);
  void connect(std::shared_ptr<Exchange> ex);
  void write(std::shared_ptr<Exchange> ex);
  void finish(std::shared_ptr<Exchange> ex, ExportResult r, bool keep_conn);
  void fail(std::shared_ptr<Exchange> ex, const std::string& what, int ec_value);

  IoThreadPtr io_;
  HostPort host_port_;
  std::string path_;
  std::string host_header_;
  std::chrono::milliseconds timeout_;
  std::vector<std::unique_ptr<Conn>> idle_;
  std::vector<std::weak_ptr<Exchange>> active_;
  std::atomic<int> state_{0};
};

}  // namespace meshlog::sink
