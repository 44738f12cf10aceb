// File: otlp_transport.h
//
// OtlpTransport: sends one serialised ExportLogsServiceRequest and reports how the receiver
// answered, already classified by the OTLP retry rules (otlp_retry.h). Two implementations:
// OTLP/gRPC (otlp_grpc_transport.h) and OTLP/HTTP with protobuf bodies (otlp_http_transport.h).
// The OtlpSink does batching, in-flight limits and retries; a transport only does one exchange.
//
// Threading: send() is called on the IoThread; `done` is always invoked on the IoThread, exactly
// once per send(). cancelAll() may be called from any thread except the IoThread; it completes
// every outstanding send (with a retryable "cancelled" result) before it returns, or after
// `wait` at the latest.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "sink/otlp_retry.h"

namespace meshlog::sink {

struct ExportResult {
  ExportVerdict verdict = ExportVerdict::kRetryable;
  int64_t rejected = 0;              // partial_success.rejected_log_records
  std::string partial_message;       // partial_success.error_message
  std::optional<std::chrono::milliseconds> retry_after;  // RetryInfo / Retry-After
  int code = 0;                      // gRPC status code, HTTP status, or -1 (no answer)
  std::string error;                 // human-readable, for lastError()
};

class OtlpTransport {
 public:
  using Done = std::function<void(ExportResult)>;
  virtual ~OtlpTransport() = default;
  virtual void send(std::shared_ptr<const std::string> request, Done done) = 0;
  virtual void cancelAll(std::chrono::milliseconds wait) = 0;
  // 0 = not connected / failing, 1 = connecting, 2 = connected.
  virtual int connectionState() const = 0;
};
using OtlpTransportPtr = std::shared_ptr<OtlpTransport>;

}  // namespace meshlog::sink
