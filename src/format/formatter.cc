// The access-log formatter: compiled Plain and typed-JSON writers.
//
// Why hand-written: this code runs for every request of every listener and is the part of the
// product users compare with Envoy (~400 ns per text record, ~550 ns per typed JSON record). A
// generic JSON library or a printf-style pass would allocate per value and re-parse per record.
// Here the format is parsed once into Pieces (literal + operator), constant JSON is serialised at
// configuration time, values are written straight into the caller's buffer with table-driven
// escaping, and the only per-thread state (a scratch string for computed values, the per-second
// date cache) is reused, so a record costs no heap allocation in steady state.
#include "format/formatter.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "format/escape.h"
#include "format/internal.h"
#include "format/parser.h"

namespace meshlog::format {

namespace {

void ReplaceAll(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

// Shortest round-trip decimal; NaN/Inf are not JSON numbers -> null.
inline void AppendDouble(Writer& out, double d) {
  if (!std::isfinite(d)) {
    out.Append("null", 4);
    return;
  }
  out.AppendDouble(d);
}
inline void AppendDouble(std::string& out, double d) {
  Writer w(out);
  AppendDouble(w, d);
}

std::string& Scratch() {
  thread_local std::string scratch = [] {
    std::string s;
    s.reserve(256);
    return s;
  }();
  return scratch;
}

// ---- Plain ----------------------------------------------------------------------------------------

class PlainFormatter final : public Formatter {
 public:
  PlainFormatter(ParsedFormat parsed, OmitEmptyValues omit, Utf8Check utf8)
      : pieces_(std::move(parsed.pieces)), omit_(static_cast<bool>(omit)), utf8_(utf8) {}

  void format(const StreamInfo& info, std::string& out_string) const override {
    std::string& scratch = Scratch();
    Writer out(out_string);
    for (const Piece& p : pieces_) {
      out.Append(p.literal);
      if (!p.op) continue;
      const Value v = Evaluate(*p.op, info, scratch);
      switch (v.kind) {
        case ValueKind::kMissing:
          if (!omit_) out.Put('-');
          break;
        case ValueKind::kString:
          if (v.from_traffic() || utf8_ == Utf8Check::kYes) {
            AppendPlainSafe(out, v.str(), utf8_);
          } else {
            out.Append(v.str());
          }
          break;
        case ValueKind::kUint: out.AppendUint(v.u); break;
        case ValueKind::kInt: out.AppendInt(v.i); break;
        case ValueKind::kDouble: AppendDouble(out, v.d); break;
      }
    }
  }

 private:
  std::vector<Piece> pieces_;
  bool omit_;
  Utf8Check utf8_;
};

// ---- JSON -----------------------------------------------------------------------------------------

struct JsonNode {
  enum class Kind : uint8_t { kConst, kTyped, kString, kObject, kArray };
  JsonNode() {}  // NOLINT: see JsonTemplate() (clang 14 + recursive vector<pair<...>>)
  Kind kind = Kind::kConst;
  std::string text;                                     // kConst: pre-serialised JSON
  std::vector<Piece> pieces;                            // kTyped: one op; kString: literals JSON-escaped
  std::vector<std::pair<std::string, JsonNode>> fields;  // kObject: `"key":` pre-serialised, sorted
  std::vector<JsonNode> elements;                       // kArray
};

class JsonFormatter final : public Formatter {
 public:
  JsonFormatter(JsonNode root, OmitEmptyValues omit) : root_(std::move(root)), omit_(static_cast<bool>(omit)) {}

  void format(const StreamInfo& info, std::string& out_string) const override {
    std::string& scratch = Scratch();
    Writer out(out_string);
    RenderObject(root_, info, out, scratch, /*is_root=*/true);
    out.Put('\n');
  }

 private:
  // Returns false when the node is omitted (omit_empty_values and no value); the caller then
  // removes whatever it wrote for it.
  bool Render(const JsonNode& n, const StreamInfo& info, Writer& out, std::string& scratch) const {
    switch (n.kind) {
      case JsonNode::Kind::kConst:
        out.Append(n.text);
        return true;
      case JsonNode::Kind::kTyped:
        return RenderTyped(n.pieces[0], info, out, scratch);
      case JsonNode::Kind::kString:
        RenderString(n.pieces, info, out, scratch);
        return true;
      case JsonNode::Kind::kObject:
        return RenderObject(n, info, out, scratch, false);
      case JsonNode::Kind::kArray: {
        out.Put('[');
        bool first = true;
        for (const JsonNode& e : n.elements) {
          const size_t mark = out.size();
          if (!first) out.Put(',');
          if (!Render(e, info, out, scratch)) {
            out.Truncate(mark);
            continue;
          }
          first = false;
        }
        out.Put(']');
        return true;
      }
    }
    return true;
  }

  bool RenderObject(const JsonNode& n, const StreamInfo& info, Writer& out, std::string& scratch,
                    bool is_root) const {
    const size_t start = out.size();
    out.Put('{');
    bool first = true;
    for (const auto& [key, value] : n.fields) {
      const size_t mark = out.size();
      if (!first) out.Put(',');
      out.Append(key);
      if (!Render(value, info, out, scratch)) {
        out.Truncate(mark);
        continue;
      }
      first = false;
    }
    if (first && omit_ && !is_root && !n.fields.empty()) {  // every field dropped: drop the object
      out.Truncate(start);
      return false;
    }
    out.Put('}');
    return true;
  }

  bool RenderTyped(const Piece& p, const StreamInfo& info, Writer& out, std::string& scratch) const {
    const Value v = Evaluate(*p.op, info, scratch);
    if (v.kind == ValueKind::kMissing || v.null_in_json()) {
      if (omit_) return false;
      out.Append("null", 4);
      return true;
    }
    switch (v.kind) {
      case ValueKind::kString: AppendJsonString(out, v.str()); break;
      case ValueKind::kUint: out.AppendUint(v.u); break;
      case ValueKind::kInt: out.AppendInt(v.i); break;
      case ValueKind::kDouble: AppendDouble(out, v.d); break;
      case ValueKind::kMissing: break;
    }
    return true;
  }

  void RenderString(const std::vector<Piece>& pieces, const StreamInfo& info, Writer& out,
                    std::string& scratch) const {
    out.Put('"');
    for (const Piece& p : pieces) {
      out.Append(p.literal);  // already JSON-escaped
      if (!p.op) continue;
      const Value v = Evaluate(*p.op, info, scratch);
      switch (v.kind) {
        case ValueKind::kMissing:
          if (!omit_) out.Put('-');
          break;
        case ValueKind::kString: AppendJsonEscaped(out, v.str()); break;
        case ValueKind::kUint: out.AppendUint(v.u); break;
        case ValueKind::kInt: out.AppendInt(v.i); break;
        case ValueKind::kDouble: AppendDouble(out, v.d); break;
      }
    }
    out.Put('"');
  }

  JsonNode root_;
  bool omit_;
};

std::string EscapedJson(std::string_view s) {
  std::string out;
  AppendJsonEscaped(out, s);
  return out;
}

// Compiles one template node; on error returns false with the message in *error.
bool CompileNode(const JsonTemplate& t, JsonNode& node, std::string* error) {
  switch (t.kind) {
    case JsonTemplate::Kind::kNull:
      node.kind = JsonNode::Kind::kConst;
      node.text = "null";
      return true;
    case JsonTemplate::Kind::kBool:
      node.kind = JsonNode::Kind::kConst;
      node.text = t.bool_value ? "true" : "false";
      return true;
    case JsonTemplate::Kind::kNumber:
      node.kind = JsonNode::Kind::kConst;
      AppendDouble(node.text, t.number_value);
      return true;
    case JsonTemplate::Kind::kString: {
      if (t.string_value.find('%') == std::string::npos) {
        node.kind = JsonNode::Kind::kConst;
        AppendJsonString(node.text, t.string_value);
        return true;
      }
      auto parsed = ParseFormat(t.string_value, error);
      if (!parsed) return false;
      if (parsed->provider_count == 1 && parsed->pieces.size() == 1 && parsed->pieces[0].op) {
        node.kind = JsonNode::Kind::kTyped;
        node.pieces = std::move(parsed->pieces);
        return true;
      }
      if (parsed->provider_count == 1 && !parsed->pieces[0].op) {  // a lone literal ("100%%")
        node.kind = JsonNode::Kind::kConst;
        AppendJsonString(node.text, parsed->pieces[0].literal);
        return true;
      }
      node.kind = JsonNode::Kind::kString;
      node.pieces = std::move(parsed->pieces);
      for (Piece& p : node.pieces) p.literal = EscapedJson(p.literal);
      return true;
    }
    case JsonTemplate::Kind::kObject: {
      node.kind = JsonNode::Kind::kObject;
      // Sorted bytewise; for duplicate keys the last one wins.
      std::vector<const std::pair<std::string, JsonTemplate>*> sorted;
      for (const auto& f : t.object_value) sorted.push_back(&f);
      std::stable_sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
      for (size_t i = 0; i < sorted.size(); ++i) {
        if (i + 1 < sorted.size() && sorted[i + 1]->first == sorted[i]->first) continue;
        JsonNode child;
        if (!CompileNode(sorted[i]->second, child, error)) return false;
        std::string key;
        AppendJsonString(key, sorted[i]->first);
        key.push_back(':');
        node.fields.emplace_back(std::move(key), std::move(child));
      }
      return true;
    }
    case JsonTemplate::Kind::kArray:
      node.kind = JsonNode::Kind::kArray;
      for (const JsonTemplate& e : t.array_value) {
        JsonNode child;
        if (!CompileNode(e, child, error)) return false;
        node.elements.push_back(std::move(child));
      }
      return true;
  }
  return true;
}

}  // namespace

namespace internal {

Compiled<FormatterPtr> CompilePlain(std::string_view format, OmitEmptyValues omit_empty_values, Utf8Check utf8) {
  std::string error;
  auto parsed = ParseFormat(format, &error);
  if (!parsed) return Compiled<FormatterPtr>::Error(std::move(error));
  return FormatterPtr(std::make_shared<const PlainFormatter>(std::move(*parsed), omit_empty_values, utf8));
}

}  // namespace internal

std::string BindKumaPlaceholders(std::string_view format, const KumaValues& values) {
  std::string out(format);
  if (out.find("%KUMA_") == std::string::npos) return out;
  // Go's net.JoinHostPort: IPv6 hosts are bracketed.
  const std::string source_address = values.source_ip.find(':') != std::string::npos
                                         ? "[" + values.source_ip + "]:0"
                                         : values.source_ip + ":0";
  ReplaceAll(out, "%KUMA_SOURCE_ADDRESS%", source_address);
  ReplaceAll(out, "%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%", values.source_ip);
  ReplaceAll(out, "%KUMA_SOURCE_SERVICE%", values.source_service);
  ReplaceAll(out, "%KUMA_DESTINATION_SERVICE%", values.destination_service);
  ReplaceAll(out, "%KUMA_MESH%", values.mesh);
  ReplaceAll(out, "%KUMA_TRAFFIC_DIRECTION%", values.direction);
  ReplaceAll(out, "%KUMA_ZONE%", values.zone);
  ReplaceAll(out, "%KUMA_WORKLOAD%", values.workload);
  return out;
}

std::string_view DefaultHttpFormat() {
  return R"([%START_TIME%] %KUMA_MESH% "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%KUMA_SOURCE_SERVICE%" "%KUMA_DESTINATION_SERVICE%" "%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%" "%UPSTREAM_HOST%")";
}

std::string_view DefaultTcpFormat() {
  return "[%START_TIME%] %RESPONSE_FLAGS% %KUMA_MESH% "
         "%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%(%KUMA_SOURCE_SERVICE%)->%UPSTREAM_HOST%(%KUMA_DESTINATION_SERVICE%) "
         "took %DURATION%ms, sent %BYTES_SENT% bytes, received: %BYTES_RECEIVED% bytes";
}

Compiled<FormatterPtr> CompilePlain(std::string_view format, OmitEmptyValues omit_empty_values) {
  return internal::CompilePlain(format, omit_empty_values, Utf8Check::kNo);
}

std::optional<std::string> ValidateFormat(std::string_view format) {
  std::string error;
  if (ParseFormat(format, &error)) return std::nullopt;
  return error;
}

Compiled<FormatterPtr> CompileJsonTemplate(const JsonTemplate& root, OmitEmptyValues omit_empty_values) {
  if (root.kind != JsonTemplate::Kind::kObject) {
    return Compiled<FormatterPtr>::Error("The root of a JSON format must be an object.");
  }
  JsonNode node;
  std::string error;
  if (!CompileNode(root, node, &error)) return Compiled<FormatterPtr>::Error(std::move(error));
  return FormatterPtr(std::make_shared<const JsonFormatter>(std::move(node), omit_empty_values));
}

Compiled<FormatterPtr> CompileJson(const JsonFields& fields, OmitEmptyValues omit_empty_values) {
  JsonTemplate root = JsonTemplate::Object({});
  root.object_value.reserve(fields.size());
  for (const auto& [key, value] : fields) root.object_value.emplace_back(key, JsonTemplate::String(value));
  return CompileJsonTemplate(root, omit_empty_values);
}

}  // namespace meshlog::format
