// File: otlp_encoder.h
//
// Direct protobuf wire encoding of OTLP logs (ExportLogsServiceRequest and the messages inside it),
// written from the field numbers of the OTLP spec (landscape.md §3.1, proto/ in this repository).
//
// Why hand-encoded instead of building the generated message classes: push() runs on the proxy's
// worker threads, and encoding one OtelRecord straight into bytes costs one allocation and no
// per-field message objects; the batcher then knows each record's exact encoded size (what Envoy
// approximates with ByteSize for its 16 KiB flush rule), and a batch is assembled by concatenation.
// otlp_encoder_test.cc checks that the output is byte-identical to what the generated classes
// (built from proto/) serialise, and decodes it back with them.
//
// Shape of a request (formatter.md §6.2): one ResourceLogs -> one ScopeLogs (no scope set) -> N
// LogRecords. Resource attributes (all strings), Envoy's built-ins first in Envoy's order, then
// Kuma's: log_name, zone_name, cluster_name, node_name, kuma.mesh, kuma.zone (if set),
// kuma.workload (if set).
//
// Example:
//   std::string rec;
//   EncodeLogRecord(otel_record, rec);                     // one LogRecord message
//   OtlpRequestBuilder b(EncodeResource(resource_config));
//   b.add(rec);
//   std::string request = b.finish();                      // ExportLogsServiceRequest bytes
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "format/otel_value.h"
#include "sink/otlp_config.h"

namespace meshlog::sink {

// Serialised opentelemetry.proto.resource.v1.Resource for `config`.
std::string EncodeResource(const OtlpResourceConfig& config);

// Appends the serialised opentelemetry.proto.logs.v1.LogRecord for `record` to `out`.
// trace_id is sent only when 16 bytes long, span_id only when 8 bytes long.
void EncodeLogRecord(const format::OtelRecord& record, std::string& out);

// Appends the serialised opentelemetry.proto.common.v1.AnyValue for `value` to `out`.
void EncodeAnyValue(const format::OtelValue& value, std::string& out);

// Bytes a LogRecord of `record_size` bytes adds to a request (field tag + length + record).
size_t FramedRecordSize(size_t record_size);

// Writes the ScopeLogs.log_records field header (tag + length) for a record of `record_size`
// bytes into `out` (at most 6 bytes) and returns its length.
size_t PutFramedRecordHeader(char* out, size_t record_size);

// Accumulates encoded LogRecords and produces one ExportLogsServiceRequest.
class OtlpRequestBuilder {
 public:
  explicit OtlpRequestBuilder(std::string resource) : resource_(std::move(resource)) {}
  void add(std::string_view encoded_record);
  size_t records() const { return records_; }
  // Size of the request finish() would produce.
  size_t requestSize() const;
  bool empty() const { return records_ == 0; }
  // Returns the request bytes and resets the builder for the next batch.
  std::string finish();
  // The request for already framed records (the concatenation of FrameRecordInto() outputs).
  std::string finishWith(std::string_view framed_records) const;

 private:
  std::string resource_;
  std::string framed_records_;  // repeated field 2 of ScopeLogs
  size_t records_ = 0;
};

}  // namespace meshlog::sink
