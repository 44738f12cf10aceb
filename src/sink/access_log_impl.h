// File: access_log_impl.h
//
// FormattedAccessLog: the AccessLog a listener holds for one File/TCP backend of one policy. log()
// runs on the worker thread that carried the traffic: it formats the record into a thread_local
// buffer that is reused (no heap allocation per record in steady state) and pushes the bytes to
// the shared RecordSink (which copies them).
//
// Example:
//   auto sink = registry.Get("/tmp/access.log");
//   AccessLogPtr log = std::make_shared<FormattedAccessLog>(formatter, sink);
//   log->log(stream_info);   // one record, e.g. "[2026-...] default \"GET / HTTP/1.1\" 200 ...\n"
#pragma once

#include <memory>

#include "format/formatter.h"
#include "format/otel_template.h"
#include "sink/sink.h"

namespace meshlog::sink {

class FormattedAccessLog final : public AccessLog {
 public:
  FormattedAccessLog(format::FormatterPtr formatter, RecordSinkPtr sink)
      : formatter_(std::move(formatter)), sink_(std::move(sink)) {}

  void log(const format::StreamInfo& info) override;

  const RecordSinkPtr& sink() const { return sink_; }

 private:
  format::FormatterPtr formatter_;
  RecordSinkPtr sink_;
};

// OtelAccessLog: the AccessLog for one OpenTelemetry backend: renders the body and attributes
// template into an OtelRecord on the worker thread and hands it to the shared OtelSink.
//
// Example:
//   AccessLogPtr log = std::make_shared<OtelAccessLog>(otel_template, otlp_sink);
//   log->log(stream_info);   // one LogRecord, batched and exported by the sink
class OtelAccessLog final : public AccessLog {
 public:
  OtelAccessLog(std::shared_ptr<const format::OtelTemplate> tmpl, OtelSinkPtr sink)
      : template_(std::move(tmpl)), sink_(std::move(sink)) {}

  void log(const format::StreamInfo& info) override;

 private:
  std::shared_ptr<const format::OtelTemplate> template_;
  OtelSinkPtr sink_;
};

}  // namespace meshlog::sink
