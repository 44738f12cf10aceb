// File: sink.h
//
// The contract between the data path and the backends.
//
// * AccessLog: what a listener holds for each access log the policy engine computed for it. The
//   proxy calls log() once per finished HTTP request / TCP connection, on the worker thread that
//   carried the traffic. Implementations format on that thread and hand the bytes to a sink.
// * RecordSink: a File or TCP destination of newline-terminated records. push() never blocks on
//   I/O: it copies the record into a bounded buffer/queue, or drops it and counts the drop (the
//   only way a record is ever lost, and always visible in the sink's stats).
// * OtelSink: the OpenTelemetry destination; it takes rendered log records instead of bytes.
//
// Several access logs that point at one destination (same file path, same TCP address, same OTLP
// endpoint) share one sink instance.
//
// Example:
//   std::shared_ptr<RecordSink> file = ...;           // e.g. a FileSink for /tmp/access.log
//   FormattedAccessLog log(formatter, file);          // format/ + sink/
//   log.log(stream_info);                             // formats, then file->push(bytes)
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/stats.h"
#include "format/otel_value.h"
#include "format/stream_info.h"

namespace meshlog::sink {

// Called as visit(stat_name, kind, value) for every stat of a sink; used by /metrics.
using StatVisitor = std::function<void(std::string_view name, StatKind kind, double value)>;

class AccessLog {
 public:
  virtual ~AccessLog() = default;
  virtual void log(const format::StreamInfo& info) = 0;
};
using AccessLogPtr = std::shared_ptr<AccessLog>;

class Sink {
 public:
  virtual ~Sink() = default;
  // "file", "tcp" or "otlp" (the Prometheus label `backend`).
  virtual std::string_view type() const = 0;
  // The destination: file path, host:port, or OTLP endpoint (the Prometheus label `destination`).
  virtual std::string_view destination() const = 0;
  // Asks the sink to write out what it buffered (asynchronous; returns at once).
  virtual void flush() = 0;
  // Reopens files (rotation); no-op for network sinks.
  virtual void reopen() {}
  // Stops accepting records and delivers what is queued within `deadline`; what cannot be
  // delivered by then is counted as dropped. Blocks until done.
  virtual void shutdown(std::chrono::milliseconds deadline) = 0;
  virtual void visitStats(const StatVisitor& visit) const = 0;
};

class RecordSink : public Sink {
 public:
  // Copies `record` (one complete record, ending with '\n'). Returns false when it was dropped.
  virtual bool push(std::string_view record) = 0;
};
using RecordSinkPtr = std::shared_ptr<RecordSink>;

class OtelSink : public Sink {
 public:
  // Takes one rendered record. Returns false when it was dropped.
  virtual bool push(format::OtelRecord&& record) = 0;
};
using OtelSinkPtr = std::shared_ptr<OtelSink>;

}  // namespace meshlog::sink
