#include "format/otel_template.h"

#include "format/internal.h"

namespace meshlog::format {

namespace {

constexpr char kUnsupported[] =
    "Only string values, nested key value lists and array values are supported in OpenTelemetry access log "
    "format.";

bool CompileNode(const OtelValue& v, const KumaValues& kuma, OtelTemplate::Node& node, std::string* error) {
  node.kind = v.kind;
  switch (v.kind) {
    case OtelValue::Kind::kString: {
      auto compiled = internal::CompilePlain(BindKumaPlaceholders(v.string_value, kuma), OmitEmptyValues::no,
                                             Utf8Check::kYes);
      if (!compiled.ok()) {
        *error = compiled.error();
        return false;
      }
      node.formatter = compiled.value();
      return true;
    }
    case OtelValue::Kind::kArray:
      for (const OtelValue& e : v.array_values) {
        OtelTemplate::Node child;
        if (!CompileNode(e, kuma, child, error)) return false;
        node.elements.push_back(std::move(child));
      }
      return true;
    case OtelValue::Kind::kKvList:
      for (const auto& [key, value] : v.kvlist_values) {
        OtelTemplate::Node child;
        if (!CompileNode(value, kuma, child, error)) return false;
        node.kvs.emplace_back(BindKumaPlaceholders(key, kuma), std::move(child));
      }
      return true;
    default:
      *error = kUnsupported;
      return false;
  }
}

OtelValue RenderNode(const OtelTemplate::Node& node, const StreamInfo& info) {
  OtelValue out;
  out.kind = node.kind;
  switch (node.kind) {
    case OtelValue::Kind::kString:
      node.formatter->format(info, out.string_value);
      break;
    case OtelValue::Kind::kArray:
      out.array_values.reserve(node.elements.size());
      for (const auto& e : node.elements) out.array_values.push_back(RenderNode(e, info));
      break;
    case OtelValue::Kind::kKvList:
      out.kvlist_values.reserve(node.kvs.size());
      for (const auto& [key, value] : node.kvs) out.kvlist_values.emplace_back(key, RenderNode(value, info));
      break;
    default:
      break;
  }
  return out;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string DecodeHex(std::string_view hex, size_t out_bytes) {
  if (hex.size() > out_bytes * 2 || hex.size() % 2 != 0 || hex.empty()) return {};
  std::string out(out_bytes - hex.size() / 2, '\0');  // left-pad with zero bytes
  bool nonzero = false;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = Hex(hex[i]);
    const int lo = Hex(hex[i + 1]);
    if (hi < 0 || lo < 0) return {};
    const auto b = static_cast<char>(hi * 16 + lo);
    nonzero = nonzero || b != 0;
    out.push_back(b);
  }
  return nonzero ? out : std::string();
}

}  // namespace

std::string TraceIdFromHex(std::string_view hex) {
  if (hex.size() != 32 && hex.size() != 16) return {};
  return DecodeHex(hex, 16);
}

std::string SpanIdFromHex(std::string_view hex) {
  if (hex.size() != 16) return {};
  return DecodeHex(hex, 8);
}

Compiled<std::shared_ptr<const OtelTemplate>> OtelTemplate::Compile(const OtelValue& body,
                                                                     const Attributes& attributes,
                                                                     const KumaValues& kuma) {
  auto t = std::make_shared<OtelTemplate>();
  std::string error;
  if (body.kind != OtelValue::Kind::kEmpty && !CompileNode(body, kuma, t->body_, &error)) {
    return Compiled<std::shared_ptr<const OtelTemplate>>::Error(std::move(error));
  }
  for (const auto& [key, value] : attributes) {
    auto compiled =
        internal::CompilePlain(BindKumaPlaceholders(value, kuma), OmitEmptyValues::no, Utf8Check::kYes);
    if (!compiled.ok()) return Compiled<std::shared_ptr<const OtelTemplate>>::Error(compiled.error());
    t->attributes_.emplace_back(BindKumaPlaceholders(key, kuma), compiled.value());
  }
  return std::shared_ptr<const OtelTemplate>(std::move(t));
}

OtelValue OtelTemplate::RenderBody(const StreamInfo& info) const { return RenderNode(body_, info); }

void OtelTemplate::Render(const StreamInfo& info, OtelRecord& record) const {
  record.time_unix_nano = static_cast<uint64_t>(info.start_time.time_since_epoch().count());
  record.body = RenderBody(info);
  record.attributes.clear();
  record.attributes.reserve(attributes_.size());
  for (const auto& [key, formatter] : attributes_) {
    std::string value;
    formatter->format(info, value);
    record.attributes.emplace_back(key, std::move(value));
  }
  record.trace_id.clear();
  record.span_id.clear();
  if (!info.trace_id.empty()) {
    record.trace_id = TraceIdFromHex(info.trace_id);
    record.span_id = SpanIdFromHex(info.span_id);
    return;
  }
  if (info.request_headers == nullptr) return;
  if (const auto tp = info.request_headers->get("traceparent"); tp && tp->size() >= 55 && (*tp)[2] == '-' &&
                                                                (*tp)[35] == '-' && (*tp)[52] == '-') {
    record.trace_id = TraceIdFromHex(tp->substr(3, 32));
    record.span_id = record.trace_id.empty() ? std::string() : SpanIdFromHex(tp->substr(36, 16));
    if (!record.trace_id.empty()) return;
  }
  if (const auto b3 = info.request_headers->get("x-b3-traceid"); b3) {
    record.trace_id = TraceIdFromHex(*b3);
    if (!record.trace_id.empty()) {
      const auto span = info.request_headers->get("x-b3-spanid");
      if (span) record.span_id = SpanIdFromHex(*span);
    }
  }
}

}  // namespace meshlog::format
