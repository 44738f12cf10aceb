// File: otel_value.h
//
// OtelValue: an OpenTelemetry AnyValue held in memory (the MeshAccessLog OpenTelemetry `body` and
// attribute values). Used twice: as a template whose string leaves are format strings
// (format/otel_template.h compiles it) and as the rendered value the OTLP sink serialises.
//
// Example:
//   OtelValue body = OtelValue::KvList({{"mesh", OtelValue::String("%KUMA_MESH%")}});
//   EXPECT_EQ(body.kind, OtelValue::Kind::kKvList);
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace meshlog::format {

struct OtelValue {
  enum class Kind : uint8_t { kEmpty, kString, kBool, kInt, kDouble, kBytes, kArray, kKvList };
  Kind kind = Kind::kEmpty;
  std::string string_value;  // kString; raw bytes for kBytes (decoded from base64)
  bool bool_value = false;
  int64_t int_value = 0;
  double double_value = 0;
  std::vector<OtelValue> array_values;                         // kArray
  std::vector<std::pair<std::string, OtelValue>> kvlist_values;  // kKvList, order kept

  static OtelValue String(std::string s) {
    OtelValue v;
    v.kind = Kind::kString;
    v.string_value = std::move(s);
    return v;
  }
  static OtelValue KvList(std::vector<std::pair<std::string, OtelValue>> kv) {
    OtelValue v;
    v.kind = Kind::kKvList;
    v.kvlist_values = std::move(kv);
    return v;
  }
  static OtelValue Array(std::vector<OtelValue> values) {
    OtelValue v;
    v.kind = Kind::kArray;
    v.array_values = std::move(values);
    return v;
  }
  bool operator==(const OtelValue&) const = default;
};

// One rendered OpenTelemetry log record, ready for the OTLP sink.
struct OtelRecord {
  uint64_t time_unix_nano = 0;
  OtelValue body;  // kEmpty = no body
  std::vector<std::pair<std::string, std::string>> attributes;  // string values, config order
  std::string trace_id;  // 16 raw bytes or empty
  std::string span_id;   // 8 raw bytes or empty
};

}  // namespace meshlog::format
