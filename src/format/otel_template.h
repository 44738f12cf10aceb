// File: otel_template.h
//
// OtelTemplate: the MeshAccessLog OpenTelemetry `body` and `attributes`, compiled once per
// listener (policy.md 4.8, formatter.md 6.2) and rendered into an OtelRecord per request.
//   - Kuma placeholders (%KUMA_*%) are bound in every string leaf, every kvlist key, and every
//     attribute key and value (like Kuma's control plane).
//   - Every string leaf and attribute value is then an Envoy format string; its result is always a
//     string (no typed numbers), missing operators print "-", no omit_empty_values. kvlist keys and
//     attribute keys are not format strings (only Kuma placeholders are replaced in them).
//   - Structure and order are kept (kvlists are NOT sorted). Only string, kvlist and array values
//     may appear in the body template; anything else is Envoy's error "Only string values, nested
//     key value lists and array values are supported in OpenTelemetry access log format.".
//   - A root body of kind kEmpty = no body configured (the record has no body).
//   - Values from traffic are written like plain records (C0 bytes except TAB as \xHH) and, since
//     OTLP strings must be UTF-8, bytes that are not valid UTF-8 as \xHH too.
//   - Record fields: time_unix_nano = start time; trace_id / span_id (raw bytes) from, in order:
//     StreamInfo::trace_id / span_id (hex), the W3C `traceparent` request header
//     ("00-<32 hex trace>-<16 hex span>-<flags>"), the B3 headers `x-b3-traceid` (32 or 16 hex,
//     16 is left-padded with zeros like Envoy) / `x-b3-spanid` (16 hex). Malformed or all-zero
//     ids are left empty.
//
// Example:
//   auto t = OtelTemplate::Compile(OtelValue::String("%KUMA_MESH% %RESPONSE_CODE%"),
//                                  {{"path", "%REQ(:path)%"}}, kuma);
//   OtelRecord r;
//   t.value()->Render(info, r);  // r.body.string_value == "default 200", r.attributes[0].second == "/"
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "format/formatter.h"
#include "format/otel_value.h"

namespace meshlog::format {

class OtelTemplate {
 public:
  using Attributes = std::vector<std::pair<std::string, std::string>>;

  static Compiled<std::shared_ptr<const OtelTemplate>> Compile(const OtelValue& body, const Attributes& attributes,
                                                               const KumaValues& kuma);

  // Fills `record` (all fields are overwritten).
  void Render(const StreamInfo& info, OtelRecord& record) const;
  // Renders only the body (kEmpty when no body is configured).
  OtelValue RenderBody(const StreamInfo& info) const;

  struct Node {
    Node() {}  // NOLINT: see JsonTemplate() (clang 14 + recursive vector<pair<...>>)
    OtelValue::Kind kind = OtelValue::Kind::kEmpty;
    FormatterPtr formatter;                          // kString
    std::vector<Node> elements;                      // kArray
    std::vector<std::pair<std::string, Node>> kvs;   // kKvList (keys already bound)
  };

 private:
  Node body_;
  std::vector<std::pair<std::string, FormatterPtr>> attributes_;
};

// Decodes hex trace/span ids as the OTel record wants them (16 / 8 raw bytes); exposed for tests.
// Returns "" when `hex` is not valid (wrong length, non-hex, all zeros).
std::string TraceIdFromHex(std::string_view hex);
std::string SpanIdFromHex(std::string_view hex);

}  // namespace meshlog::format
