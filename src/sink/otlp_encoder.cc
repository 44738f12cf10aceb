#include "sink/otlp_encoder.h"

#include <cstring>

namespace meshlog::sink {

namespace {

enum WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLen = 2, kFixed32 = 5 };

size_t VarintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void PutVarint(std::string& out, uint64_t v) {
  char buf[10];
  size_t n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out.append(buf, n);
}

void PutTag(std::string& out, uint32_t field, WireType type) { PutVarint(out, (uint64_t{field} << 3) | type); }

void PutFixed64(std::string& out, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  out.append(buf, 8);
}

void PutBytes(std::string& out, uint32_t field, std::string_view bytes) {
  PutTag(out, field, kLen);
  PutVarint(out, bytes.size());
  out.append(bytes);
}

// proto3 scalar string: omitted when empty.
void PutStringField(std::string& out, uint32_t field, std::string_view s) {
  if (!s.empty()) PutBytes(out, field, s);
}

// Writes a length-delimited sub-message whose content is produced by `fill` (encoded into a
// scratch string first: the length prefix needs the size).
template <typename Fill>
void PutMessage(std::string& out, uint32_t field, Fill&& fill) {
  std::string body;
  fill(body);
  PutBytes(out, field, body);
}

void PutStringKeyValue(std::string& out, uint32_t field, std::string_view key, std::string_view value) {
  // KeyValue { key = 1; value = 2 (AnyValue { string_value = 1 }) }. string_value is in a oneof,
  // so it is present even when empty.
  const size_t any_size = 1 + VarintSize(value.size()) + value.size();
  const size_t kv_size = (key.empty() ? 0 : 1 + VarintSize(key.size()) + key.size()) + 1 + VarintSize(any_size) + any_size;
  PutTag(out, field, kLen);
  PutVarint(out, kv_size);
  PutStringField(out, 1, key);
  PutTag(out, 2, kLen);
  PutVarint(out, any_size);
  PutBytes(out, 1, value);
}

}  // namespace

void EncodeAnyValue(const format::OtelValue& v, std::string& out) {
  using Kind = format::OtelValue::Kind;
  switch (v.kind) {
    case Kind::kEmpty:
      break;
    case Kind::kString:
      PutBytes(out, 1, v.string_value);
      break;
    case Kind::kBool:
      PutTag(out, 2, kVarint);
      PutVarint(out, v.bool_value ? 1 : 0);
      break;
    case Kind::kInt:
      PutTag(out, 3, kVarint);
      PutVarint(out, static_cast<uint64_t>(v.int_value));
      break;
    case Kind::kDouble: {
      PutTag(out, 4, kFixed64);
      uint64_t bits;
      std::memcpy(&bits, &v.double_value, sizeof bits);
      PutFixed64(out, bits);
      break;
    }
    case Kind::kBytes:
      PutBytes(out, 7, v.string_value);
      break;
    case Kind::kArray:
      PutMessage(out, 5, [&](std::string& arr) {
        for (const auto& e : v.array_values) PutMessage(arr, 1, [&](std::string& s) { EncodeAnyValue(e, s); });
      });
      break;
    case Kind::kKvList:
      PutMessage(out, 6, [&](std::string& list) {
        for (const auto& entry : v.kvlist_values) {  // (no structured binding: captured below)
          PutMessage(list, 1, [&](std::string& kv) {
            PutStringField(kv, 1, entry.first);
            PutMessage(kv, 2, [&](std::string& s) { EncodeAnyValue(entry.second, s); });
          });
        }
      });
      break;
  }
}

std::string EncodeResource(const OtlpResourceConfig& c) {
  std::string out;
  PutStringKeyValue(out, 1, "log_name", c.log_name);
  PutStringKeyValue(out, 1, "zone_name", c.zone_name);
  PutStringKeyValue(out, 1, "cluster_name", c.cluster_name);
  PutStringKeyValue(out, 1, "node_name", c.node_name);
  PutStringKeyValue(out, 1, "kuma.mesh", c.kuma_mesh);
  if (!c.kuma_zone.empty()) PutStringKeyValue(out, 1, "kuma.zone", c.kuma_zone);
  if (!c.kuma_workload.empty()) PutStringKeyValue(out, 1, "kuma.workload", c.kuma_workload);
  return out;
}

void EncodeLogRecord(const format::OtelRecord& r, std::string& out) {
  if (r.time_unix_nano != 0) {
    PutTag(out, 1, kFixed64);
    PutFixed64(out, r.time_unix_nano);
  }
  if (r.body.kind != format::OtelValue::Kind::kEmpty) {
    if (r.body.kind == format::OtelValue::Kind::kString) {
      // Fast path for the default body: AnyValue{string_value} without a scratch string.
      const auto& s = r.body.string_value;
      PutTag(out, 5, kLen);
      PutVarint(out, 1 + VarintSize(s.size()) + s.size());
      PutBytes(out, 1, s);
    } else {
      PutMessage(out, 5, [&](std::string& s) { EncodeAnyValue(r.body, s); });
    }
  }
  for (const auto& [key, value] : r.attributes) PutStringKeyValue(out, 6, key, value);
  if (r.trace_id.size() == 16) PutBytes(out, 9, r.trace_id);
  if (r.span_id.size() == 8) PutBytes(out, 10, r.span_id);
}

size_t FramedRecordSize(size_t record_size) { return 1 + VarintSize(record_size) + record_size; }

void OtlpRequestBuilder::add(std::string_view encoded_record) {
  PutBytes(framed_records_, 2, encoded_record);  // ScopeLogs.log_records = 2
  ++records_;
}

size_t OtlpRequestBuilder::requestSize() const {
  const size_t scope_logs = framed_records_.size();
  const size_t resource_logs = FramedRecordSize(resource_.size()) + FramedRecordSize(scope_logs);
  return FramedRecordSize(resource_logs);
}

size_t PutFramedRecordHeader(char* out, size_t record_size) {
  size_t n = 0;
  out[n++] = static_cast<char>((2u << 3) | kLen);
  uint64_t v = record_size;
  while (v >= 0x80) {
    out[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out[n++] = static_cast<char>(v);
  return n;
}

std::string OtlpRequestBuilder::finishWith(std::string_view framed) const {
  const size_t resource_logs = FramedRecordSize(resource_.size()) + FramedRecordSize(framed.size());
  std::string out;
  out.reserve(FramedRecordSize(resource_logs));
  PutTag(out, 1, kLen);
  PutVarint(out, resource_logs);
  PutBytes(out, 1, resource_);
  PutTag(out, 2, kLen);
  PutVarint(out, framed.size());
  out.append(framed);
  return out;
}

std::string OtlpRequestBuilder::finish() {
  const size_t scope_logs = framed_records_.size();
  const size_t resource_logs = FramedRecordSize(resource_.size()) + FramedRecordSize(scope_logs);
  std::string out;
  out.reserve(FramedRecordSize(resource_logs));
  PutTag(out, 1, kLen);  // ExportLogsServiceRequest.resource_logs = 1
  PutVarint(out, resource_logs);
  PutBytes(out, 1, resource_);  // ResourceLogs.resource = 1
  PutTag(out, 2, kLen);         // ResourceLogs.scope_logs = 2
  PutVarint(out, scope_logs);
  out.append(framed_records_);
  framed_records_.clear();
  records_ = 0;
  return out;
}

}  // namespace meshlog::sink
