// File: otlp_grpc_transport.h
//
// OTLP/gRPC transport: unary /opentelemetry.proto.collector.logs.v1.LogsService/Export over an
// insecure HTTP/2 channel (gRPC C++ from Debian), sending the pre-encoded request bytes through a
// generic stub. gRPC's own retries are disabled (the sink retries, and counts every retry); the
// channel's reconnect backoff is capped at 2 s so a restarted collector is found again quickly.
// On failure the status details (grpc-status-details-bin, a google.rpc.Status) are searched for
// google.rpc.RetryInfo. Several calls may be in flight at once.
//
// Example:
//   auto t = std::make_shared<OtlpGrpcTransport>(io, "127.0.0.1:4317", std::chrono::seconds(10));
//   t->send(request_bytes, [](ExportResult r) { ... });   // `done` runs on the IoThread
#pragma once

#include <condition_variable>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <mutex>
#include <map>

#include "sink/io_thread.h"
#include "sink/otlp_transport.h"

namespace meshlog::sink {

class OtlpGrpcTransport final : public OtlpTransport, public std::enable_shared_from_this<OtlpGrpcTransport> {
 public:
  OtlpGrpcTransport(IoThreadPtr io, std::string target, std::chrono::milliseconds timeout);
  void send(std::shared_ptr<const std::string> request, Done done) override;
  void cancelAll(std::chrono::milliseconds wait) override;
  int connectionState() const override;

 private:
  struct Call;
  IoThreadPtr io_;
  std::chrono::milliseconds timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  grpc::GenericStub stub_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<Call*, std::shared_ptr<Call>> active_;
};

}  // namespace meshlog::sink
