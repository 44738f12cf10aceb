// File: otlp_sink.h
//
// OtlpSink: the MeshAccessLog OpenTelemetry backend (OTLP logs over gRPC or HTTP/protobuf).
//
// push() (any worker thread) encodes the OtelRecord into a LogRecord (otlp_encoder.h) on the
// calling thread and appends it to a ByteChunkQueue (bounded_queue.h) whose chunks are batches of
// up to `batch_max_bytes` of framed records (full -> `dropped_queue_full`). The batcher, on the
// shared IoThread, wraps a chunk into one ExportLogsServiceRequest (one ResourceLogs, one
// ScopeLogs, N LogRecords) and sends it when it is full (default 16 KiB, Envoy's
// buffer_size_bytes) or `batch_max_delay` after its first record (default 1 s, Envoy's
// buffer_flush_interval), with up to `max_in_flight` requests outstanding.
//
// Outcomes per request (OTLP spec, otlp_retry.h):
//   success              -> records_sent += n - rejected; records_rejected += rejected
//                           (partial success is never retried)
//   retryable failure    -> sent again after exponential backoff with jitter, at least the
//                           server's RetryInfo / Retry-After delay (records_retried, requests_retried);
//                           after `retry.max_elapsed` (0 = never) -> dropped_retry_exhausted
//   non-retryable        -> dropped_non_retryable
// A batch waiting for its retry holds its in-flight slot, so a collector that is down fills the
// queue and further records are dropped and counted rather than held without bound.
// shutdown(deadline) sends what is queued and waits for answers until the deadline; everything
// not acknowledged by then is counted in dropped_shutdown.
//
// Example:
//   OtlpSinkConfig c;
//   c.protocol = OtlpProtocol::kGrpc;
//   c.endpoint = "otel-collector:4317";
//   c.resource.kuma_mesh = "default";
//   auto sink = OtlpSink::Create(io, c);
//   sink->push(std::move(otel_record));
//   sink->shutdown(std::chrono::seconds(5));
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "sink/backoff.h"
#include "sink/bounded_queue.h"
#include "sink/io_thread.h"
#include "sink/otlp_config.h"
#include "sink/otlp_encoder.h"
#include "sink/otlp_transport.h"
#include "sink/sink.h"

namespace meshlog::sink {

#define MESHLOG_OTLP_SINK_STATS(COUNTER, GAUGE)                                                   \
  COUNTER(records_pushed)                                                                        \
  COUNTER(records_sent)            /* acknowledged by the receiver (minus rejected) */            \
  COUNTER(records_rejected)        /* partial success: rejected_log_records */                   \
  COUNTER(records_retried)         /* records in requests sent again */                          \
  COUNTER(requests_sent)           /* Export calls started, retries included */                  \
  COUNTER(requests_succeeded)                                                                    \
  COUNTER(requests_retried)                                                                      \
  COUNTER(requests_failed)         /* any non-success answer or transport error */               \
  COUNTER(partial_success_warnings) /* partial_success with rejected = 0 and a message */        \
  COUNTER(dropped_queue_full)                                                                    \
  COUNTER(dropped_non_retryable)                                                                 \
  COUNTER(dropped_retry_exhausted)                                                               \
  COUNTER(dropped_shutdown)                                                                      \
  GAUGE(queued)                    /* records waiting in the queue */                            \
  GAUGE(in_flight_requests)        /* requests outstanding or waiting for a retry */             \
  GAUGE(in_flight_records)                                                                       \
  GAUGE(connection_state)          /* 0 failing/disconnected, 1 connecting, 2 connected */        \
  GAUGE(last_error)                /* last gRPC status / HTTP status / -1 transport error */

struct OtlpSinkStats {
  MESHLOG_OTLP_SINK_STATS(MESHLOG_DECLARE_COUNTER, MESHLOG_DECLARE_GAUGE)
};

class OtlpSink final : public OtelSink, public std::enable_shared_from_this<OtlpSink> {
 public:
  // Builds the gRPC or HTTP transport from `config`. Throws std::invalid_argument on a bad endpoint.
  static std::shared_ptr<OtlpSink> Create(IoThreadPtr io, OtlpSinkConfig config);
  // With a given transport (tests).
  static std::shared_ptr<OtlpSink> Create(IoThreadPtr io, OtlpSinkConfig config, OtlpTransportPtr transport,
                                          std::string destination);

  std::string_view type() const override { return "otlp"; }
  std::string_view destination() const override { return destination_; }
  bool push(format::OtelRecord&& record) override;
  void flush() override;
  void shutdown(std::chrono::milliseconds deadline) override;
  void visitStats(const StatVisitor& visit) const override;

  const OtlpSinkStats& stats() const { return stats_; }
  std::string lastError() const;

 private:
  struct Batch {
    std::shared_ptr<const std::string> request;
    uint32_t records = 0;
    Backoff backoff;
    std::unique_ptr<boost::asio::steady_timer> retry_timer;
    bool retrying = false;
  };
  using BatchPtr = std::shared_ptr<Batch>;

  OtlpSink(IoThreadPtr io, OtlpSinkConfig config, OtlpTransportPtr transport, std::string destination);
  void wake();
  void pump();
  void dispatch(ByteChunkQueue::Chunk chunk);
  void send(const BatchPtr& b);
  void onResult(const BatchPtr& b, ExportResult r);
  void release(const BatchPtr& b);
  void checkDrained();
  void setError(int code, std::string text);

  IoThreadPtr io_;
  const OtlpSinkConfig config_;
  OtlpTransportPtr transport_;
  const std::string destination_;
  mutable OtlpSinkStats stats_;
  ByteChunkQueue queue_;
  std::atomic<bool> wake_pending_{false};

  // I/O-thread state.
  const OtlpRequestBuilder builder_;  // holds the encoded resource; finishWith() only
  boost::asio::steady_timer flush_timer_;
  bool flush_timer_armed_ = false;
  bool flush_due_ = false;   // the oldest record waited batch_max_delay, or flush() was called
  bool drain_now_ = false;   // shutdown began: send partial batches at once
  std::set<BatchPtr> active_;
  bool stopped_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool draining_ = false;
  bool drained_ = false;
  bool shut_down_ = false;
  std::string last_error_;
};

// OtlpSink::Create(io, config) as an OtlpSinkFactory (netsink_registry.h) for code that links the
// OTLP library directly (tests, meshlog_netsink_driver); the `meshlog` binary uses the plugin.
OtelSinkPtr CreateOtlpSink(const IoThreadPtr& io, const OtlpSinkConfig& config);

}  // namespace meshlog::sink
