// File: netsink_registry.h
//
// NetSinkRegistry: one sender per network destination, shared by every access log that points
// at it (issue 6: "several policies pointing at one destination share one sender"), all on one
// IoThread. TCP sinks are keyed by the canonical address ("tcp|host:port"); OTLP sinks by protocol,
// endpoint, HTTP path and resource attributes (the resource is per sidecar, so in practice by
// protocol + endpoint + path). The first config seen for a key wins (queue sizes, timeouts).
//
// OTLP sinks are made by an OtlpSinkFactory: the `meshlog` binary passes PluginOtlpSinkFactory()
// (otlp_plugin_loader.h: OtlpSink lives in the dlopen()ed plugin meshlog-otlp.so), code that links
// the OTLP library directly (tests, meshlog_netsink_driver) passes CreateOtlpSink (otlp_sink.h).
// Without a factory, otlp() throws std::invalid_argument.
//
// Example:
//   NetSinkRegistry reg(nullptr, CreateOtlpSink);
//   auto a = reg.tcp(TcpSinkConfig{.address = "127.0.0.1:5000"});
//   auto b = reg.tcp(TcpSinkConfig{.address = "127.0.0.1:5000"});   // a == b
//   reg.shutdownAll(std::chrono::seconds(5));                        // drains all in parallel
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "sink/io_thread.h"
#include "sink/otlp_config.h"
#include "sink/sink.h"
#include "sink/tcp_sink.h"

namespace meshlog::sink {

// Makes the OTLP sink for `config`; `io` is the registry's IoThread (a factory may use its own).
// Throws std::invalid_argument on a bad endpoint (and whatever else stops it from making one).
using OtlpSinkFactory = std::function<OtelSinkPtr(const IoThreadPtr& io, const OtlpSinkConfig& config)>;

class NetSinkRegistry {
 public:
  // Uses `io` when given, else starts its own IoThread.
  explicit NetSinkRegistry(IoThreadPtr io = nullptr, OtlpSinkFactory otlp_factory = nullptr);
  ~NetSinkRegistry();

  // Throw std::invalid_argument on a bad address/endpoint.
  std::shared_ptr<TcpSink> tcp(const TcpSinkConfig& config);
  OtelSinkPtr otlp(const OtlpSinkConfig& config);

  // Every sink created so far (for /metrics: type(), destination(), visitStats()).
  void forEach(const std::function<void(Sink&)>& fn) const;
  // Shuts every sink down in parallel, each within `deadline`; idempotent.
  void shutdownAll(std::chrono::milliseconds deadline);
  const IoThreadPtr& io() const { return io_; }

 private:
  IoThreadPtr io_;
  OtlpSinkFactory otlp_factory_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<TcpSink>> tcp_;
  std::map<std::string, OtelSinkPtr> otlp_;
};

}  // namespace meshlog::sink
