#include "policy/decode.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "policy/patterns.h"

namespace meshlog::policy {

std::string SourceError::ToString() const {
  if (line > 0) return path + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
  return path + ": " + message;
}

void DecodeResult::Append(DecodeResult&& other) {
  for (auto& d : other.documents) documents.push_back(std::move(d));
  for (auto& e : other.errors) errors.push_back(std::move(e));
}

namespace {

// ------------------------------------------------------------------------------------------------
// YAML -> Value, with YAML 1.1 scalar typing as go-yaml v2 (used by Kuma through sigs.k8s.io/yaml)
// ------------------------------------------------------------------------------------------------

struct ConvertError : std::runtime_error {
  ConvertError(const std::string& msg, Mark m) : std::runtime_error(msg), mark(m) {}
  Mark mark;
};

Mark ToMark(const YAML::Mark& m) {
  if (m.is_null() || m.line < 0) return Mark{};
  return Mark{m.line + 1, m.column + 1};
}

bool IsDigitIn(char c, int base) {
  if (base == 16) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  if (base == 10) return c >= '0' && c <= '9';
  if (base == 8) return c >= '0' && c <= '7';
  return c == '0' || c == '1';
}

// Go's strconv.ParseInt(s, 0, 64) after underscores were removed. Sets overflow when the value is a
// valid integer outside int64 (go-yaml then tries uint64, and otherwise falls back to float/string).
bool ParseGoInt(std::string_view s, int64_t& out, bool& overflow) {
  overflow = false;
  if (s.empty()) return false;
  bool neg = false;
  size_t i = 0;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    i = 1;
  }
  int base = 10;
  if (i >= s.size()) return false;
  if (s.size() - i >= 2 && s[i] == '0') {
    const char p = s[i + 1];
    if (p == 'x' || p == 'X') base = 16, i += 2;
    else if (p == 'o' || p == 'O') base = 8, i += 2;
    else if (p == 'b' || p == 'B') base = 2, i += 2;
    else base = 8, i += 1;
  }
  if (i >= s.size()) return false;
  unsigned __int128 v = 0;
  for (; i < s.size(); ++i) {
    if (!IsDigitIn(s[i], base)) return false;
    const char c = s[i];
    const int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : c - 'A' + 10;
    v = v * static_cast<unsigned>(base) + static_cast<unsigned>(d);
    if (v > (static_cast<unsigned __int128>(1) << 64)) {
      overflow = true;
      v = static_cast<unsigned __int128>(1) << 64;
    }
  }
  const unsigned __int128 limit = neg ? (static_cast<unsigned __int128>(1) << 63)
                                      : (static_cast<unsigned __int128>(1) << 63) - 1;
  if (overflow || v > limit) {
    overflow = true;
    return false;
  }
  out = neg ? static_cast<int64_t>(-static_cast<__int128>(v)) : static_cast<int64_t>(v);
  return true;
}

// go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool IsYamlStyleFloat(std::string_view s) {
  size_t i = 0;
  auto digits = [&]() {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

Value ResolvePlainScalar(const std::string& s) {
  static constexpr std::array<std::string_view, 5> kNull{"", "~", "null", "Null", "NULL"};
  static constexpr std::array<std::string_view, 11> kTrue{"y", "Y", "yes", "Yes", "YES", "true",
                                                          "True", "TRUE", "on", "On", "ON"};
  static constexpr std::array<std::string_view, 11> kFalse{"n", "N", "no", "No", "NO", "false",
                                                           "False", "FALSE", "off", "Off", "OFF"};
  for (auto n : kNull) if (s == n) return Value::Null();
  for (auto t : kTrue) if (s == t) return Value::Bool(true);
  for (auto f : kFalse) if (s == f) return Value::Bool(false);
  const char c = s[0];
  if (!(c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9'))) return Value::String(s);
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf" || s == "+.Inf" || s == "+.INF")
    return Value::Double(std::numeric_limits<double>::infinity());
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return Value::Double(-std::numeric_limits<double>::infinity());
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return Value::Double(std::numeric_limits<double>::quiet_NaN());
  std::string plain;
  plain.reserve(s.size());
  for (char ch : s) {
    if (ch != '_') plain += ch;
  }
  int64_t iv = 0;
  bool overflow = false;
  if (ParseGoInt(plain, iv, overflow)) return Value::Int(iv);
  if (overflow) {
    // A valid integer beyond int64: go-yaml yields uint64 or float64; both are JSON numbers.
    return Value::Double(std::strtod(plain.c_str(), nullptr));
  }
  if (IsYamlStyleFloat(plain)) return Value::Double(std::strtod(plain.c_str(), nullptr));
  return Value::String(s);
}

// Builds Value trees straight from yaml-cpp's parser events (no YAML::Node graph): anchors and
// aliases are resolved here with a node budget (alias bombs) and a depth limit, and a document
// that makes no progress is detected (yaml-cpp 0.7 loops forever on a stray ',' at block level).
class ValueBuilder : public YAML::EventHandler {
 public:
  explicit ValueBuilder(size_t& node_budget) : budget_(node_budget) {}

  bool has_root() const { return has_root_; }
  Value TakeRoot() { return std::move(root_); }
  const YAML::Mark& document_mark() const { return doc_mark_; }

  void OnDocumentStart(const YAML::Mark& mark) override { doc_mark_ = mark; }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    last_scalar_is_merge_key_ = false;
    Value v;
    v.mark = ToMark(mark);
    Complete(std::move(v), anchor, "null", 1);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) throw ConvertError("alias refers to an anchor that is not complete", ToMark(mark));
    const size_t nodes = it->second.second;
    Charge(nodes, mark);
    last_scalar_is_merge_key_ = false;
    Value copy = it->second.first;
    Complete(std::move(copy), 0, KeyText(it->second.first), nodes);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor, const std::string& value) override {
    Charge(1, mark);
    Value v;
    if (tag == "!" || tag == "tag:yaml.org,2002:str" || tag == "tag:yaml.org,2002:binary") {
      v = Value::String(value);
    } else if (tag == "tag:yaml.org,2002:null") {
      v = Value::Null();
    } else {
      v = ResolvePlainScalar(value);
    }
    v.mark = ToMark(mark);
    last_scalar_is_merge_key_ = tag == "?" && value == "<<";
    Complete(std::move(v), anchor, value, 0);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(Value::MakeArray({}), mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    Open(Value::MakeObject({}), mark, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    Value value;
    YAML::anchor_t anchor = 0;
    size_t nodes = 1;  // size of the subtree, for alias accounting
    bool have_key = false;
    bool merge = false;  // the pending key is a plain `<<`
    std::string key;
  };

  static std::string KeyText(const Value& v) {
    switch (v.kind()) {
      case Value::Kind::kString: return v.string_value();
      case Value::Kind::kNull: return "null";
      case Value::Kind::kBool: return v.bool_value() ? "true" : "false";
      case Value::Kind::kInt: return std::to_string(v.int_value());
      default: return "";
    }
  }

  void Charge(size_t n, const YAML::Mark& mark) {
    if (n > budget_) throw ConvertError("document too large (alias expansion?)", ToMark(mark));
    budget_ -= n;
  }

  void Open(Value v, const YAML::Mark& mark, YAML::anchor_t anchor) {
    Charge(1, mark);
    if (static_cast<int>(stack_.size()) >= kMaxValueDepth) throw ConvertError("document nested too deeply", ToMark(mark));
    v.mark = ToMark(mark);
    Frame f;
    f.value = std::move(v);
    f.anchor = anchor;
    stack_.push_back(std::move(f));
  }

  void Close() {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    if (f.value.is_object() && f.have_key) {
      // A key without a value cannot happen with a well-formed event stream; keep it as null.
      f.value.mutable_object_members().push_back({f.key, Value()});
    }
    const bool collection = true;
    Complete(std::move(f.value), f.anchor, std::string(), f.nodes, collection);
  }

  // A node is complete: remember its anchor, then attach it to its parent (or make it the root).
  // `raw` is the scalar text used when the node is a mapping key.
  void Complete(Value v, YAML::anchor_t anchor, const std::string& raw, size_t nodes, bool collection = false) {
    if (nodes == 0) nodes = 1;
    if (anchor != 0) anchors_[anchor] = {v, nodes};
    if (stack_.empty()) {
      root_ = std::move(v);
      has_root_ = true;
      return;
    }
    Frame& parent = stack_.back();
    parent.nodes += nodes;
    if (parent.value.is_array()) {
      parent.value.mutable_array_items().push_back(std::move(v));
      return;
    }
    if (!parent.have_key) {
      if (collection) throw ConvertError("mapping keys must be scalars", v.mark);
      parent.key = raw;
      parent.merge = last_scalar_is_merge_key_;
      parent.have_key = true;
      return;
    }
    parent.have_key = false;
    auto& members = parent.value.mutable_object_members();
    if (parent.merge) {
      // YAML merge key (`<<: *anchor` or `<<: [*a, *b]`): copy the keys not already present.
      parent.merge = false;
      parent.key.clear();
      auto merge_one = [&](const Value& src) {
        if (!src.is_object()) throw ConvertError("map merge requires a mapping or a list of mappings", v.mark);
        for (const auto& m : src.object_members()) {
          auto found = std::find_if(members.begin(), members.end(), [&](const Value::Member& e) { return e.key == m.key; });
          if (found == members.end()) members.push_back(m);
        }
      };
      if (v.is_array()) {
        for (const Value& item : v.array_items()) merge_one(item);
      } else {
        merge_one(v);
      }
      return;
    }
    // Duplicate keys: the last one wins (go-yaml v2 / JSON decoders), at the first position.
    auto it = std::find_if(members.begin(), members.end(), [&](const Value::Member& m) { return m.key == parent.key; });
    if (it != members.end()) {
      it->value = std::move(v);
    } else {
      members.push_back({std::move(parent.key), std::move(v)});
    }
    parent.key.clear();
  }

  size_t& budget_;
  YAML::Mark doc_mark_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, std::pair<Value, size_t>> anchors_;
  Value root_;
  bool has_root_ = false;
  bool last_scalar_is_merge_key_ = false;
};

// ------------------------------------------------------------------------------------------------
// Schema checks in Kuma's words
// ------------------------------------------------------------------------------------------------

std::string Join(std::initializer_list<std::string_view> items, std::string_view sep) {
  std::string out;
  bool first = true;
  for (auto s : items) {
    if (!first) out += sep;
    first = false;
    out += s;
  }
  return out;
}

std::string ChildPath(const std::string& parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  return parent + "." + std::string(key);
}

std::string IndexPath(const std::string& parent, size_t i) { return parent + "[" + std::to_string(i) + "]"; }

class Schema {
 public:
  Schema(std::vector<Violation>& out, bool strict) : out_(out), strict_(strict) {}

  bool strict() const { return strict_; }

  // A kube-openapi error "<path> in body <rest>", turned into a violation the way Kuma's
  // toValidationError does: split at the first space; the first word is the field when it starts
  // with "spec.", otherwise the field is empty and the message is the whole text.
  void Fail(const std::string& path, const std::string& rest) {
    const std::string text = path + " in body " + rest;
    const size_t sp = text.find(' ');
    const std::string first = text.substr(0, sp);
    if (sp != std::string::npos && first.rfind("spec.", 0) == 0) {
      out_.push_back({first, text.substr(sp + 1)});
    } else {
      out_.push_back({"", text});
    }
  }
  void TypeError(const std::string& path, std::string_view expected, const Value& v) {
    Fail(path, "must be of type " + std::string(expected) + ": \"" + std::string(v.JsonTypeName()) + "\"");
  }
  void Required(const std::string& object_path, std::string_view key) {
    Fail(object_path + "." + std::string(key), "is required");
  }
  void EnumFail(const std::string& path, std::initializer_list<std::string_view> values) {
    Fail(path, "should be one of [" + Join(values, " ") + "]");
  }
  void Unknown(const std::string& path, std::string_view key) {
    out_.push_back({ChildPath(path, key), "unknown field " + GoQuote(key)});
  }
  void Add(Violation v) { out_.push_back(std::move(v)); }

 private:
  std::vector<Violation>& out_;
  bool strict_;
};

// An object node being decoded: checks the type, hands out properties, and at Finish() reports
// missing required properties and (in strict mode) unknown ones.
class ObjectScope {
 public:
  ObjectScope(Schema& s, const Value& v, std::string path, std::initializer_list<std::string_view> known)
      : s_(s), v_(v), path_(std::move(path)), known_(known) {
    ok_ = v.is_object();
    if (!ok_) s_.TypeError(path_, "object", v);
  }
  bool ok() const { return ok_; }
  const Value* Get(std::string_view key) const { return ok_ ? v_.Find(key) : nullptr; }
  std::string Path(std::string_view key) const { return ChildPath(path_, key); }
  const std::string& path() const { return path_; }
  void Finish(std::initializer_list<std::string_view> required = {}) {
    if (!ok_) return;
    for (auto r : required) {
      if (v_.Find(r) == nullptr) s_.Required(path_, r);
    }
    if (!s_.strict()) return;
    for (const auto& m : v_.object_members()) {
      if (std::find(known_.begin(), known_.end(), m.key) == known_.end()) s_.Unknown(path_, m.key);
    }
  }

 private:
  Schema& s_;
  const Value& v_;
  std::string path_;
  std::vector<std::string_view> known_;
  bool ok_ = false;
};

std::optional<std::string> ReadString(Schema& s, const Value* v, const std::string& path, bool min_length_1 = false) {
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) {
    s.TypeError(path, "string", *v);
    return std::nullopt;
  }
  if (min_length_1 && v->string_value().empty()) {
    s.Fail(path, "should be at least 1 chars long");
    return std::nullopt;
  }
  return v->string_value();
}

// A string with a default: absent or null => default (Kubernetes structural defaulting).
std::optional<std::string> ReadDefaultedString(Schema& s, const Value* v, const std::string& path, std::string def) {
  if (v == nullptr || v->is_null()) return def;
  return ReadString(s, v, path);
}

template <typename E, size_t N>
std::optional<E> ReadEnum(Schema& s, const Value* v, const std::string& path,
                          const std::array<std::pair<std::string_view, E>, N>& values) {
  if (v == nullptr) return std::nullopt;
  auto names = [&] {
    std::string out = "[";
    for (size_t i = 0; i < N; ++i) {
      if (i) out += ' ';
      out += values[i].first;
    }
    return out + "]";
  };
  if (!v->is_string()) {
    s.TypeError(path, "string", *v);
    s.Fail(path, "should be one of " + names());
    return std::nullopt;
  }
  for (const auto& [name, e] : values) {
    if (v->string_value() == name) return e;
  }
  s.Fail(path, "should be one of " + names());
  return std::nullopt;
}

std::optional<bool> ReadBool(Schema& s, const Value* v, const std::string& path) {
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) {
    s.TypeError(path, "boolean", *v);
    return std::nullopt;
  }
  return v->bool_value();
}

// Integer in [0, max]; JSON numbers that are integral count as integers (kube-openapi isFloatInt).
std::optional<uint32_t> ReadUint(Schema& s, const Value* v, const std::string& path, uint32_t max = 0xFFFFFFFFu) {
  if (v == nullptr) return std::nullopt;
  double d = 0;
  if (v->is_int()) {
    d = static_cast<double>(v->int_value());
  } else if (v->is_double() && std::isfinite(v->double_value()) && v->double_value() == std::floor(v->double_value())) {
    d = v->double_value();
  } else {
    s.TypeError(path, "integer", *v);
    return std::nullopt;
  }
  if (d < 0) {
    s.Fail(path, "should be greater than or equal to 0");
    return std::nullopt;
  }
  if (d > max) {
    s.Fail(path, "should be less than or equal to " + std::to_string(max));
    return std::nullopt;
  }
  return static_cast<uint32_t>(d);
}

std::optional<StringMap> ReadStringMap(Schema& s, const Value* v, const std::string& path) {
  if (v == nullptr) return std::nullopt;
  if (!v->is_object()) {
    s.TypeError(path, "object", *v);
    return std::nullopt;
  }
  StringMap out;
  bool ok = true;
  for (const auto& m : v->object_members()) {
    if (!m.value.is_string()) {
      s.TypeError(path + "." + m.key, "string", m.value);
      ok = false;
      continue;
    }
    out[m.key] = m.value.string_value();
  }
  if (!ok) return std::nullopt;
  return out;
}

// Iterates an array property; reports a type error when it is not an array.
template <typename F>
bool ForEachItem(Schema& s, const Value* v, const std::string& path, F&& f) {
  if (v == nullptr) return false;
  if (!v->is_array()) {
    s.TypeError(path, "array", *v);
    return false;
  }
  const auto& items = v->array_items();
  for (size_t i = 0; i < items.size(); ++i) f(items[i], IndexPath(path, i));
  return true;
}

// ------------------------------------------------------------------------------------------------
// MeshAccessLog
// ------------------------------------------------------------------------------------------------

constexpr std::array<std::pair<std::string_view, TargetRefKind>, 9> kTargetRefKindEnum{{
    {"Mesh", TargetRefKind::kMesh},
    {"MeshSubset", TargetRefKind::kMeshSubset},
    {"MeshGateway", TargetRefKind::kMeshGateway},
    {"MeshService", TargetRefKind::kMeshService},
    {"MeshExternalService", TargetRefKind::kMeshExternalService},
    {"MeshMultiZoneService", TargetRefKind::kMeshMultiZoneService},
    {"MeshServiceSubset", TargetRefKind::kMeshServiceSubset},
    {"MeshHTTPRoute", TargetRefKind::kMeshHTTPRoute},
    {"Dataplane", TargetRefKind::kDataplane},
}};
constexpr std::array<std::pair<std::string_view, ProxyType>, 2> kProxyTypeEnum{{
    {"Sidecar", ProxyType::kSidecar},
    {"Gateway", ProxyType::kGateway},
}};
constexpr std::array<std::pair<std::string_view, BackendType>, 3> kBackendTypeEnum{{
    {"Tcp", BackendType::kTcp},
    {"File", BackendType::kFile},
    {"OpenTelemetry", BackendType::kOpenTelemetry},
}};
constexpr std::array<std::pair<std::string_view, FormatType>, 2> kFormatTypeEnum{{
    {"Plain", FormatType::kPlain},
    {"Json", FormatType::kJson},
}};
constexpr std::array<std::pair<std::string_view, BackendRefKind>, 1> kBackendRefKindEnum{{
    {"MeshOpenTelemetryBackend", BackendRefKind::kMeshOpenTelemetryBackend},
}};
constexpr std::array<std::pair<std::string_view, SpiffeIdMatchType>, 2> kSpiffeIdMatchTypeEnum{{
    {"Exact", SpiffeIdMatchType::kExact},
    {"Prefix", SpiffeIdMatchType::kPrefix},
}};
constexpr std::array<std::pair<std::string_view, SniMatchType>, 1> kSniMatchTypeEnum{{
    {"Exact", SniMatchType::kExact},
}};

TargetRef DecodeTargetRef(Schema& s, const Value& v, const std::string& path) {
  TargetRef ref;
  ObjectScope o(s, v, path, {"kind", "labels", "mesh", "name", "namespace", "proxyTypes", "sectionName", "tags"});
  if (!o.ok()) return ref;
  ref.kind = ReadEnum(s, o.Get("kind"), o.Path("kind"), kTargetRefKindEnum);
  ref.labels = ReadStringMap(s, o.Get("labels"), o.Path("labels"));
  ref.mesh = ReadString(s, o.Get("mesh"), o.Path("mesh"));
  ref.name = ReadString(s, o.Get("name"), o.Path("name"));
  ref.namespace_ = ReadString(s, o.Get("namespace"), o.Path("namespace"));
  {
    std::vector<ProxyType> types;
    bool all_ok = true;
    if (ForEachItem(s, o.Get("proxyTypes"), o.Path("proxyTypes"), [&](const Value& item, const std::string& p) {
          auto t = ReadEnum(s, &item, p, kProxyTypeEnum);
          if (t) types.push_back(*t);
          else all_ok = false;
        }) && all_ok) {
      ref.proxy_types = std::move(types);
    }
  }
  ref.section_name = ReadString(s, o.Get("sectionName"), o.Path("sectionName"));
  ref.tags = ReadStringMap(s, o.Get("tags"), o.Path("tags"));
  o.Finish({"kind"});
  return ref;
}

std::optional<Format> DecodeFormat(Schema& s, const Value* v, const std::string& path) {
  if (v == nullptr) return std::nullopt;
  Format f;
  ObjectScope o(s, *v, path, {"json", "omitEmptyValues", "plain", "type"});
  if (!o.ok()) return std::nullopt;
  {
    std::vector<JsonValue> json;
    if (ForEachItem(s, o.Get("json"), o.Path("json"), [&](const Value& item, const std::string& p) {
          ObjectScope io(s, item, p, {"key", "value"});
          JsonValue jv;
          if (io.ok()) {
            jv.key = ReadString(s, io.Get("key"), io.Path("key")).value_or("");
            jv.value = ReadString(s, io.Get("value"), io.Path("value")).value_or("");
          }
          io.Finish({"key", "value"});
          json.push_back(std::move(jv));
        })) {
      f.json = std::move(json);
    }
  }
  {
    const Value* omit = o.Get("omitEmptyValues");
    if (omit != nullptr && !omit->is_null()) f.omit_empty_values = ReadBool(s, omit, o.Path("omitEmptyValues")).value_or(false);
  }
  f.plain = ReadString(s, o.Get("plain"), o.Path("plain"));
  f.type = ReadEnum(s, o.Get("type"), o.Path("type"), kFormatTypeEnum);
  o.Finish({"type"});
  return f;
}

std::optional<OtelBackend> DecodeOtel(Schema& s, const Value* v, const std::string& path) {
  if (v == nullptr) return std::nullopt;
  OtelBackend otel;
  ObjectScope o(s, *v, path, {"attributes", "backendRef", "body", "endpoint"});
  if (!o.ok()) return std::nullopt;
  {
    std::vector<OtelAttribute> attrs;
    if (ForEachItem(s, o.Get("attributes"), o.Path("attributes"), [&](const Value& item, const std::string& p) {
          ObjectScope io(s, item, p, {"key", "value"});
          OtelAttribute a;
          if (io.ok()) {
            auto key = ReadString(s, io.Get("key"), io.Path("key"));
            if (key && !MatchesOtelAttributeKeySchemaPattern(*key)) {
              s.Fail(io.Path("key"), "should match '^[a-z]([a-z0-9]|[._][a-z0-9])*$'");
            }
            a.key = key.value_or("");
            a.value = ReadString(s, io.Get("value"), io.Path("value")).value_or("");
          }
          io.Finish({"key", "value"});
          attrs.push_back(std::move(a));
        })) {
      otel.attributes = std::move(attrs);
    }
  }
  if (const Value* ref = o.Get("backendRef")) {
    ObjectScope ro(s, *ref, o.Path("backendRef"), {"kind", "labels"});
    if (ro.ok()) {
      BackendResourceRef br;
      br.kind = ReadEnum(s, ro.Get("kind"), ro.Path("kind"), kBackendRefKindEnum);
      br.labels = ReadStringMap(s, ro.Get("labels"), ro.Path("labels")).value_or(StringMap{});
      otel.backend_ref = std::move(br);
    }
    ro.Finish({"kind"});
  }
  // A null body unmarshals to a nil *apiextensionsv1.JSON in Kuma: same as no body.
  if (const Value* body = o.Get("body"); body != nullptr && !body->is_null()) otel.body = *body;
  otel.endpoint = ReadDefaultedString(s, o.Get("endpoint"), o.Path("endpoint"), "").value_or("");
  o.Finish();
  return otel;
}

Backend DecodeBackend(Schema& s, const Value& v, const std::string& path) {
  Backend b;
  ObjectScope o(s, v, path, {"file", "openTelemetry", "tcp", "type"});
  if (!o.ok()) return b;
  if (const Value* file = o.Get("file")) {
    ObjectScope fo(s, *file, o.Path("file"), {"format", "path"});
    if (fo.ok()) {
      FileBackend fb;
      fb.format = DecodeFormat(s, fo.Get("format"), fo.Path("format"));
      fb.path = ReadString(s, fo.Get("path"), fo.Path("path"), /*min_length_1=*/true).value_or("");
      b.file = std::move(fb);
    }
    fo.Finish({"path"});
  }
  b.open_telemetry = DecodeOtel(s, o.Get("openTelemetry"), o.Path("openTelemetry"));
  if (const Value* tcp = o.Get("tcp")) {
    ObjectScope to(s, *tcp, o.Path("tcp"), {"address", "format"});
    if (to.ok()) {
      TcpBackend tb;
      tb.address = ReadString(s, to.Get("address"), to.Path("address"), /*min_length_1=*/true).value_or("");
      tb.format = DecodeFormat(s, to.Get("format"), to.Path("format"));
      b.tcp = std::move(tb);
    }
    to.Finish({"address"});
  }
  b.type = ReadEnum(s, o.Get("type"), o.Path("type"), kBackendTypeEnum);
  o.Finish({"type"});
  return b;
}

Conf DecodeConf(Schema& s, const Value* v, const std::string& path) {
  Conf conf;
  if (v == nullptr) return conf;
  ObjectScope o(s, *v, path, {"backends"});
  if (!o.ok()) return conf;
  std::vector<Backend> backends;
  if (ForEachItem(s, o.Get("backends"), o.Path("backends"), [&](const Value& item, const std::string& p) {
        backends.push_back(DecodeBackend(s, item, p));
      })) {
    conf.backends = std::move(backends);
  }
  o.Finish();
  return conf;
}

Match DecodeMatch(Schema& s, const Value& v, const std::string& path) {
  Match m;
  ObjectScope o(s, v, path, {"sni", "spiffeID"});
  if (!o.ok()) return m;
  if (const Value* sni = o.Get("sni")) {
    ObjectScope so(s, *sni, o.Path("sni"), {"type", "value"});
    if (so.ok()) {
      SniMatch sm;
      sm.type = ReadEnum(s, so.Get("type"), so.Path("type"), kSniMatchTypeEnum);
      sm.value = ReadString(s, so.Get("value"), so.Path("value")).value_or("");
      m.sni = std::move(sm);
    }
    so.Finish({"type", "value"});
  }
  if (const Value* sid = o.Get("spiffeID")) {
    ObjectScope so(s, *sid, o.Path("spiffeID"), {"type", "value"});
    if (so.ok()) {
      SpiffeIdMatch sm;
      sm.type = ReadEnum(s, so.Get("type"), so.Path("type"), kSpiffeIdMatchTypeEnum);
      sm.value = ReadString(s, so.Get("value"), so.Path("value")).value_or("");
      m.spiffe_id = std::move(sm);
    }
    so.Finish({"type", "value"});
  }
  o.Finish();
  return m;
}

MeshAccessLogSpec DecodeMeshAccessLogSpec(Schema& s, const Value& v, const std::string& path) {
  MeshAccessLogSpec spec;
  ObjectScope o(s, v, path, {"from", "rules", "targetRef", "to"});
  if (!o.ok()) return spec;
  {
    std::vector<From> from;
    if (ForEachItem(s, o.Get("from"), o.Path("from"), [&](const Value& item, const std::string& p) {
          From f;
          ObjectScope io(s, item, p, {"default", "targetRef"});
          if (io.ok()) {
            f.default_conf = DecodeConf(s, io.Get("default"), io.Path("default"));
            if (const Value* tr = io.Get("targetRef")) f.target_ref = DecodeTargetRef(s, *tr, io.Path("targetRef"));
          }
          io.Finish({"default", "targetRef"});
          from.push_back(std::move(f));
        })) {
      spec.from = std::move(from);
    }
  }
  {
    std::vector<Rule> rules;
    if (ForEachItem(s, o.Get("rules"), o.Path("rules"), [&](const Value& item, const std::string& p) {
          Rule r;
          ObjectScope io(s, item, p, {"default", "matches"});
          if (io.ok()) {
            r.default_conf = DecodeConf(s, io.Get("default"), io.Path("default"));
            std::vector<Match> matches;
            if (ForEachItem(s, io.Get("matches"), io.Path("matches"), [&](const Value& mi, const std::string& mp) {
                  matches.push_back(DecodeMatch(s, mi, mp));
                })) {
              r.matches = std::move(matches);
            }
          }
          io.Finish({"default"});
          rules.push_back(std::move(r));
        })) {
      spec.rules = std::move(rules);
    }
  }
  if (const Value* tr = o.Get("targetRef")) spec.target_ref = DecodeTargetRef(s, *tr, o.Path("targetRef"));
  {
    std::vector<To> to;
    if (ForEachItem(s, o.Get("to"), o.Path("to"), [&](const Value& item, const std::string& p) {
          To t;
          ObjectScope io(s, item, p, {"default", "targetRef"});
          if (io.ok()) {
            t.default_conf = DecodeConf(s, io.Get("default"), io.Path("default"));
            if (const Value* tr = io.Get("targetRef")) t.target_ref = DecodeTargetRef(s, *tr, io.Path("targetRef"));
          }
          io.Finish({"default", "targetRef"});
          to.push_back(std::move(t));
        })) {
      spec.to = std::move(to);
    }
  }
  o.Finish();
  return spec;
}

// ------------------------------------------------------------------------------------------------
// Other kinds (lenient: unknown fields are allowed, known ones are type-checked)
// ------------------------------------------------------------------------------------------------

DataplaneSpec DecodeDataplaneSpec(Schema& s, const Value& root, const std::string& root_path) {
  DataplaneSpec dp;
  const Value* networking = root.Find("networking");
  if (networking == nullptr) {
    s.Add({ChildPath(root_path, "networking"), "must be defined"});
    return dp;
  }
  ObjectScope n(s, *networking, ChildPath(root_path, "networking"), {});
  if (!n.ok()) return dp;
  dp.address = ReadString(s, n.Get("address"), n.Path("address")).value_or("");
  dp.advertised_address = ReadString(s, n.Get("advertisedAddress"), n.Path("advertisedAddress"));
  ForEachItem(s, n.Get("inbound"), n.Path("inbound"), [&](const Value& item, const std::string& p) {
    ObjectScope io(s, item, p, {});
    DataplaneInbound in;
    if (io.ok()) {
      in.port = ReadUint(s, io.Get("port"), io.Path("port"), 65535);
      in.service_port = ReadUint(s, io.Get("servicePort"), io.Path("servicePort"), 65535);
      in.service_address = ReadString(s, io.Get("serviceAddress"), io.Path("serviceAddress"));
      in.address = ReadString(s, io.Get("address"), io.Path("address"));
      in.name = ReadString(s, io.Get("name"), io.Path("name"));
      in.tags = ReadStringMap(s, io.Get("tags"), io.Path("tags")).value_or(StringMap{});
    }
    dp.inbound.push_back(std::move(in));
  });
  ForEachItem(s, n.Get("outbound"), n.Path("outbound"), [&](const Value& item, const std::string& p) {
    ObjectScope oo(s, item, p, {});
    DataplaneOutbound out;
    if (oo.ok()) {
      out.port = ReadUint(s, oo.Get("port"), oo.Path("port"), 65535);
      out.address = ReadString(s, oo.Get("address"), oo.Path("address"));
      out.tags = ReadStringMap(s, oo.Get("tags"), oo.Path("tags")).value_or(StringMap{});
      if (const Value* br = oo.Get("backendRef")) {
        ObjectScope bo(s, *br, oo.Path("backendRef"), {});
        if (bo.ok()) {
          OutboundBackendRef ref;
          ref.kind = ReadString(s, bo.Get("kind"), bo.Path("kind")).value_or("");
          ref.name = ReadString(s, bo.Get("name"), bo.Path("name")).value_or("");
          ref.namespace_ = ReadString(s, bo.Get("namespace"), bo.Path("namespace"));
          ref.port = ReadUint(s, bo.Get("port"), bo.Path("port"), 65535);
          ref.labels = ReadStringMap(s, bo.Get("labels"), bo.Path("labels")).value_or(StringMap{});
          out.backend_ref = std::move(ref);
        }
      }
    }
    dp.outbound.push_back(std::move(out));
  });
  if (const Value* gw = n.Get("gateway")) {
    ObjectScope go(s, *gw, n.Path("gateway"), {});
    if (go.ok()) {
      DataplaneGateway g;
      static constexpr std::array<std::pair<std::string_view, GatewayType>, 2> kGatewayTypes{{
          {"DELEGATED", GatewayType::kDelegated},
          {"BUILTIN", GatewayType::kBuiltin},
      }};
      g.type = ReadEnum(s, go.Get("type"), go.Path("type"), kGatewayTypes).value_or(GatewayType::kDelegated);
      g.tags = ReadStringMap(s, go.Get("tags"), go.Path("tags")).value_or(StringMap{});
      dp.gateway = std::move(g);
    }
  }
  if (const Value* tp = n.Get("transparentProxying")) {
    ObjectScope to(s, *tp, n.Path("transparentProxying"), {});
    if (to.ok()) {
      TransparentProxying t;
      t.redirect_port_inbound = ReadUint(s, to.Get("redirectPortInbound"), to.Path("redirectPortInbound"), 65535);
      t.redirect_port_outbound = ReadUint(s, to.Get("redirectPortOutbound"), to.Path("redirectPortOutbound"), 65535);
      dp.transparent_proxying = std::move(t);
    }
  }
  return dp;
}

std::vector<ServicePort> DecodePorts(Schema& s, const Value* v, const std::string& path) {
  std::vector<ServicePort> ports;
  ForEachItem(s, v, path, [&](const Value& item, const std::string& p) {
    ObjectScope po(s, item, p, {});
    ServicePort sp;
    if (po.ok()) {
      sp.name = ReadString(s, po.Get("name"), po.Path("name"));
      sp.port = ReadUint(s, po.Get("port"), po.Path("port"), 65535).value_or(0);
      if (const Value* tp = po.Get("targetPort")) {
        if (tp->is_string()) sp.target_port_name = tp->string_value();
        else sp.target_port = ReadUint(s, tp, po.Path("targetPort"), 65535);
      }
      sp.app_protocol = ReadString(s, po.Get("appProtocol"), po.Path("appProtocol")).value_or("tcp");
    }
    ports.push_back(std::move(sp));
  });
  return ports;
}

MeshServiceSpec DecodeMeshServiceSpec(Schema& s, const Value* spec, const Value* status, const std::string& path) {
  MeshServiceSpec ms;
  if (spec != nullptr) {
    ObjectScope o(s, *spec, path, {});
    if (o.ok()) {
      if (const Value* sel = o.Get("selector")) {
        ObjectScope so(s, *sel, o.Path("selector"), {});
        if (so.ok()) {
          ms.selector_dataplane_tags = ReadStringMap(s, so.Get("dataplaneTags"), so.Path("dataplaneTags")).value_or(StringMap{});
          ms.selector_dataplane_labels = ReadStringMap(s, so.Get("dataplaneLabels"), so.Path("dataplaneLabels"));
          if (const Value* ref = so.Get("dataplaneRef")) {
            ObjectScope ro(s, *ref, so.Path("dataplaneRef"), {});
            if (ro.ok()) ms.selector_dataplane_ref = ReadString(s, ro.Get("name"), ro.Path("name"));
          }
        }
      }
      ms.ports = DecodePorts(s, o.Get("ports"), o.Path("ports"));
    }
  }
  if (status != nullptr && status->is_object()) {
    for (const Value& vip : status->Find("vips") ? status->Find("vips")->array_items() : Value::Array{}) {
      if (const Value* ip = vip.Find("ip"); ip && ip->is_string()) ms.vips.push_back(ip->string_value());
    }
    for (const Value& a : status->Find("addresses") ? status->Find("addresses")->array_items() : Value::Array{}) {
      if (const Value* h = a.Find("hostname"); h && h->is_string()) ms.hostnames.push_back(h->string_value());
    }
  }
  return ms;
}

MeshExternalServiceSpec DecodeMeshExternalServiceSpec(Schema& s, const Value* spec, const std::string& path) {
  MeshExternalServiceSpec mes;
  if (spec == nullptr) return mes;
  ObjectScope o(s, *spec, path, {});
  if (!o.ok()) return mes;
  if (const Value* m = o.Get("match")) {
    ObjectScope mo(s, *m, o.Path("match"), {});
    if (mo.ok()) {
      mes.match_port = ReadUint(s, mo.Get("port"), mo.Path("port"), 65535).value_or(0);
      mes.match_protocol = ReadString(s, mo.Get("protocol"), mo.Path("protocol")).value_or("tcp");
    }
  }
  ForEachItem(s, o.Get("endpoints"), o.Path("endpoints"), [&](const Value& item, const std::string& p) {
    ObjectScope eo(s, item, p, {});
    ExternalEndpoint e;
    if (eo.ok()) {
      e.address = ReadString(s, eo.Get("address"), eo.Path("address")).value_or("");
      e.port = ReadUint(s, eo.Get("port"), eo.Path("port"), 65535);
    }
    mes.endpoints.push_back(std::move(e));
  });
  if (const Value* tls = o.Get("tls")) {
    ObjectScope to(s, *tls, o.Path("tls"), {});
    if (to.ok()) mes.tls_enabled = ReadBool(s, to.Get("enabled"), to.Path("enabled")).value_or(false);
  }
  return mes;
}

MeshMultiZoneServiceSpec DecodeMeshMultiZoneServiceSpec(Schema& s, const Value* spec, const std::string& path) {
  MeshMultiZoneServiceSpec mmzs;
  if (spec == nullptr) return mmzs;
  ObjectScope o(s, *spec, path, {});
  if (!o.ok()) return mmzs;
  if (const Value* sel = o.Get("selector")) {
    ObjectScope so(s, *sel, o.Path("selector"), {});
    if (so.ok()) {
      if (const Value* ms = so.Get("meshService")) {
        ObjectScope mo(s, *ms, so.Path("meshService"), {});
        if (mo.ok()) {
          mmzs.selector_mesh_service_labels = ReadStringMap(s, mo.Get("matchLabels"), mo.Path("matchLabels")).value_or(StringMap{});
        }
      }
    }
  }
  mmzs.ports = DecodePorts(s, o.Get("ports"), o.Path("ports"));
  return mmzs;
}

MeshGatewaySpec DecodeMeshGatewaySpec(Schema& s, const Value& root, const std::string& root_path) {
  MeshGatewaySpec gw;
  const Value* selectors = root.Find("selectors");
  ForEachItem(s, selectors, ChildPath(root_path, "selectors"), [&](const Value& item, const std::string& p) {
    ObjectScope so(s, item, p, {});
    if (so.ok()) gw.selectors.push_back(ReadStringMap(s, so.Get("match"), so.Path("match")).value_or(StringMap{}));
  });
  gw.tags = ReadStringMap(s, root.Find("tags"), ChildPath(root_path, "tags")).value_or(StringMap{});
  if (const Value* conf = root.Find("conf")) {
    ObjectScope co(s, *conf, ChildPath(root_path, "conf"), {});
    if (co.ok()) {
      ForEachItem(s, co.Get("listeners"), co.Path("listeners"), [&](const Value& item, const std::string& p) {
        ObjectScope lo(s, item, p, {});
        GatewayListener l;
        if (lo.ok()) {
          l.port = ReadUint(s, lo.Get("port"), lo.Path("port"), 65535).value_or(0);
          l.protocol = ReadString(s, lo.Get("protocol"), lo.Path("protocol")).value_or("");
          l.hostname = ReadString(s, lo.Get("hostname"), lo.Path("hostname")).value_or("*");
          l.tags = ReadStringMap(s, lo.Get("tags"), lo.Path("tags")).value_or(StringMap{});
        }
        gw.listeners.push_back(std::move(l));
      });
    }
  }
  return gw;
}

MeshOpenTelemetryBackendSpec DecodeMotbSpec(Schema& s, const Value* spec, const std::string& path) {
  MeshOpenTelemetryBackendSpec motb;
  if (spec == nullptr || spec->is_null()) return motb;
  ObjectScope o(s, *spec, path, {});
  if (!o.ok()) return motb;
  if (const Value* ep = o.Get("endpoint")) {
    ObjectScope eo(s, *ep, o.Path("endpoint"), {});
    if (eo.ok()) {
      motb.endpoint_address = ReadString(s, eo.Get("address"), eo.Path("address"));
      motb.endpoint_port = ReadUint(s, eo.Get("port"), eo.Path("port"), 65535);
      motb.endpoint_path = ReadString(s, eo.Get("path"), eo.Path("path"));
    }
  }
  static constexpr std::array<std::pair<std::string_view, OtelProtocol>, 2> kProtocols{{
      {"grpc", OtelProtocol::kGrpc},
      {"http", OtelProtocol::kHttp},
  }};
  motb.protocol = ReadEnum(s, o.Get("protocol"), o.Path("protocol"), kProtocols);
  if (const Value* env = o.Get("env")) {
    ObjectScope eo(s, *env, o.Path("env"), {});
    if (eo.ok()) {
      static constexpr std::array<std::pair<std::string_view, OtelEnvMode>, 3> kModes{{
          {"Disabled", OtelEnvMode::kDisabled},
          {"Optional", OtelEnvMode::kOptional},
          {"Required", OtelEnvMode::kRequired},
      }};
      static constexpr std::array<std::pair<std::string_view, OtelEnvPrecedence>, 2> kPrecedence{{
          {"ExplicitFirst", OtelEnvPrecedence::kExplicitFirst},
          {"EnvFirst", OtelEnvPrecedence::kEnvFirst},
      }};
      motb.env_mode = ReadEnum(s, eo.Get("mode"), eo.Path("mode"), kModes);
      motb.env_precedence = ReadEnum(s, eo.Get("precedence"), eo.Path("precedence"), kPrecedence);
      motb.env_allow_signal_overrides = ReadBool(s, eo.Get("allowSignalOverrides"), eo.Path("allowSignalOverrides"));
    }
  }
  return motb;
}

// ------------------------------------------------------------------------------------------------
// Documents
// ------------------------------------------------------------------------------------------------

constexpr std::string_view kKumaApiVersion = "kuma.io/v1alpha1";

constexpr std::array<std::string_view, 64> kKnownKumaTypes{
    "CircuitBreaker", "Config", "Dataplane", "DataplaneInsight", "DataplaneOverview", "DoNothingPolicy",
    "ExternalService", "FaultInjection", "GlobalSecret", "HealthCheck", "HostnameGenerator", "Mesh",
    "MeshAccessLog", "MeshCircuitBreaker", "MeshExternalService", "MeshFaultInjection", "MeshGateway",
    "MeshGatewayRoute", "MeshHTTPRoute", "MeshHealthCheck", "MeshIdentity", "MeshInsight",
    "MeshLoadBalancingStrategy", "MeshMetric", "MeshMultiZoneService", "MeshOpenTelemetryBackend",
    "MeshPassthrough", "MeshProxyPatch", "MeshRateLimit", "MeshRetry", "MeshService", "MeshTCPRoute",
    "MeshTLS", "MeshTimeout", "MeshTrace", "MeshTrafficPermission", "MeshTrust", "MeshZoneAddress",
    "ProxyTemplate", "RateLimit", "Retry", "Secret", "ServiceInsight", "ServiceOverview", "Timeout",
    "TrafficLog", "TrafficPermission", "TrafficRoute", "TrafficTrace", "VirtualOutbound", "Workload",
    "Zone", "ZoneEgress", "ZoneEgressInsight", "ZoneEgressOverview", "ZoneIngress", "ZoneIngressInsight",
    "ZoneIngressOverview", "ZoneInsight", "ZoneOverview", "MeshGlobalRateLimit", "MeshOPA", "OPAPolicy",
    "AccessAudit",
};

// Fills the Universal metadata (type/name/mesh/labels/creationTime) and checks Kuma's top-level
// schema for new-style resources.
void DecodeUniversalMeta(Schema& s, const Value& doc, ResourceMeta& meta) {
  meta.form = ResourceForm::kUniversal;
  meta.name = ReadString(s, doc.Find("name"), "name").value_or("");
  meta.mesh = ReadDefaultedString(s, doc.Find("mesh"), "mesh", "default").value_or("default");
  meta.labels = ReadStringMap(s, doc.Find("labels"), "labels").value_or(StringMap{});
  if (const Value* ct = doc.Find("creationTime"); ct && ct->is_string()) meta.creation_time = ct->string_value();
}

void DecodeKubernetesMeta(Schema& s, const Value& doc, ResourceMeta& meta) {
  meta.form = ResourceForm::kKubernetes;
  if (const Value* api = doc.Find("apiVersion"); api == nullptr || !api->is_string() || api->string_value() != kKumaApiVersion) {
    s.Add({"apiVersion", "must be \"kuma.io/v1alpha1\""});
  }
  const Value* md = doc.Find("metadata");
  if (md == nullptr || !md->is_object()) {
    s.Add({"metadata.name", "Required value: name or generateName is required"});
  } else {
    const Value* name = md->Find("name");
    if (name == nullptr || !name->is_string() || name->string_value().empty()) {
      s.Add({"metadata.name", "Required value: name or generateName is required"});
    } else {
      meta.name = name->string_value();
    }
    if (const Value* ns = md->Find("namespace"); ns && ns->is_string()) meta.namespace_ = ns->string_value();
    if (const Value* labels = md->Find("labels"); labels && !labels->is_null()) {
      meta.labels = ReadStringMap(s, labels, "metadata.labels").value_or(StringMap{});
    }
    if (const Value* ct = md->Find("creationTimestamp"); ct && ct->is_string()) meta.creation_time = ct->string_value();
  }
  meta.mesh = "default";
  if (const Value* mesh = doc.Find("mesh"); mesh && mesh->is_string() && !mesh->string_value().empty()) {
    meta.mesh = mesh->string_value();
  }
  if (auto it = meta.labels.find("kuma.io/mesh"); it != meta.labels.end() && !it->second.empty()) meta.mesh = it->second;
}

// Universal legacy resources (Dataplane, MeshGateway) keep their fields at the top level.
Value UniversalLegacySpec(const Value& doc) {
  Value::Object members;
  for (const auto& m : doc.object_members()) {
    if (m.key == "type" || m.key == "name" || m.key == "mesh" || m.key == "labels" || m.key == "creationTime" ||
        m.key == "modificationTime") {
      continue;
    }
    members.push_back(m);
  }
  Value v = Value::MakeObject(std::move(members));
  v.mark = doc.mark;
  return v;
}

}  // namespace

bool IsKnownKumaType(std::string_view type_name) {
  return std::find(kKnownKumaTypes.begin(), kKnownKumaTypes.end(), type_name) != kKnownKumaTypes.end();
}

DecodedDocument DecodeDocument(const Value& doc, const SourceLocation& where, uint64_t creation_order) {
  std::vector<Violation> violations;
  std::vector<std::string> warnings;
  ResourceMeta meta;
  meta.source = where;
  meta.creation_order = creation_order;

  auto other = [&](Value raw) {
    OtherResource r{meta, OtherSpec{std::move(raw)}};
    return DecodedDocument{AnyResource(std::move(r)), std::move(violations), std::move(warnings)};
  };

  if (!doc.is_object()) {
    violations.push_back({"", "document must be a YAML mapping describing a resource, got " +
                                  std::string(doc.JsonTypeName())});
    return other(doc);
  }

  const bool kubernetes = doc.Find("type") == nullptr && (doc.Find("kind") != nullptr || doc.Find("apiVersion") != nullptr);
  const Value* type_value = doc.Find(kubernetes ? "kind" : "type");
  if (type_value == nullptr || !type_value->is_string() || type_value->string_value().empty()) {
    meta.form = kubernetes ? ResourceForm::kKubernetes : ResourceForm::kUniversal;
    if (const Value* n = doc.Find("name"); n && n->is_string()) meta.name = n->string_value();
    violations.push_back({kubernetes ? "kind" : "type", "must be defined"});
    return other(doc);
  }
  meta.type_name = type_value->string_value();
  const std::optional<ResourceType> type = ParseResourceType(meta.type_name);
  meta.type = type.value_or(ResourceType::kOther);

  // MeshAccessLog's schema is known completely: unknown fields are errors. Other kinds: lenient.
  const bool strict = meta.type == ResourceType::kMeshAccessLog;
  Schema s(violations, strict);

  if (kubernetes) {
    DecodeKubernetesMeta(s, doc, meta);
    if (strict) {
      for (const auto& m : doc.object_members()) {
        if (m.key != "apiVersion" && m.key != "kind" && m.key != "metadata" && m.key != "spec" && m.key != "status" &&
            m.key != "mesh") {
          s.Unknown("", m.key);
        }
      }
    }
  } else {
    DecodeUniversalMeta(s, doc, meta);
    if (strict) {
      if (doc.Find("name") == nullptr) s.Required("", "name");
      if (doc.Find("spec") == nullptr) s.Required("", "spec");
      for (const auto& m : doc.object_members()) {
        static constexpr std::array<std::string_view, 9> kTop{"type",   "mesh",  "kri",  "name",   "labels",
                                                              "spec",   "creationTime", "modificationTime", "status"};
        if (std::find(kTop.begin(), kTop.end(), m.key) == kTop.end()) s.Unknown("", m.key);
      }
    }
  }

  const Value* spec = doc.Find("spec");
  switch (meta.type) {
    case ResourceType::kMeshAccessLog: {
      MeshAccessLogSpec mal;
      if (spec != nullptr) mal = DecodeMeshAccessLogSpec(s, *spec, "spec");
      return {AnyResource(MeshAccessLogResource{meta, std::move(mal)}), std::move(violations), std::move(warnings)};
    }
    case ResourceType::kDataplane: {
      const Value root = kubernetes ? (spec ? *spec : Value::MakeObject({})) : UniversalLegacySpec(doc);
      DataplaneSpec dp = DecodeDataplaneSpec(s, root, kubernetes ? "spec" : "");
      return {AnyResource(DataplaneResource{meta, std::move(dp)}), std::move(violations), std::move(warnings)};
    }
    case ResourceType::kMeshService: {
      MeshServiceSpec ms = DecodeMeshServiceSpec(s, spec, doc.Find("status"), "spec");
      return {AnyResource(MeshServiceResource{meta, std::move(ms)}), std::move(violations), std::move(warnings)};
    }
    case ResourceType::kMeshExternalService: {
      MeshExternalServiceSpec mes = DecodeMeshExternalServiceSpec(s, spec, "spec");
      return {AnyResource(MeshExternalServiceResource{meta, std::move(mes)}), std::move(violations), std::move(warnings)};
    }
    case ResourceType::kMeshMultiZoneService: {
      MeshMultiZoneServiceSpec mmzs = DecodeMeshMultiZoneServiceSpec(s, spec, "spec");
      return {AnyResource(MeshMultiZoneServiceResource{meta, std::move(mmzs)}), std::move(violations),
              std::move(warnings)};
    }
    case ResourceType::kMeshGateway: {
      const Value root = kubernetes ? (spec ? *spec : Value::MakeObject({})) : UniversalLegacySpec(doc);
      MeshGatewaySpec gw = DecodeMeshGatewaySpec(s, root, kubernetes ? "spec" : "");
      return {AnyResource(MeshGatewayResource{meta, std::move(gw)}), std::move(violations), std::move(warnings)};
    }
    case ResourceType::kMeshOpenTelemetryBackend: {
      MeshOpenTelemetryBackendSpec motb = DecodeMotbSpec(s, spec, "spec");
      return {AnyResource(MeshOpenTelemetryBackendResource{meta, std::move(motb)}), std::move(violations),
              std::move(warnings)};
    }
    case ResourceType::kOther:
      break;
  }
  if (IsKnownKumaType(meta.type_name)) {
    warnings.push_back("resource type " + GoQuote(meta.type_name) + " is not interpreted by meshlog; not validated");
  } else {
    violations.push_back({kubernetes ? "kind" : "type", "unknown resource type " + GoQuote(meta.type_name)});
  }
  return other(kubernetes ? (spec ? *spec : Value()) : UniversalLegacySpec(doc));
}

std::vector<ParsedDocument> ParseYamlDocuments(std::string_view text, std::string_view source_name,
                                               std::vector<SourceError>& errors) {
  std::vector<ParsedDocument> docs;
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  size_t budget = kMaxValueNodes;
  int last_pos = -1;
  for (int index = 0;; ++index) {
    ValueBuilder builder(budget);
    try {
      if (!parser.HandleNextDocument(builder)) break;
    } catch (const ConvertError& e) {
      errors.push_back({std::string(source_name), e.mark.line, e.mark.column, e.what()});
      break;
    } catch (const YAML::Exception& e) {
      const Mark m = ToMark(e.mark);
      errors.push_back({std::string(source_name), m.line, m.column, "YAML syntax error: " + e.msg});
      break;
    } catch (const std::exception& e) {
      errors.push_back({std::string(source_name), 0, 0, std::string("YAML syntax error: ") + e.what()});
      break;
    }
    const YAML::Mark& start = builder.document_mark();
    if (start.pos == last_pos) {
      // The parser did not advance: a token that cannot start a node (e.g. a stray ',').
      const Mark m = ToMark(start);
      errors.push_back({std::string(source_name), m.line, m.column, "YAML syntax error: unexpected token"});
      break;
    }
    last_pos = start.pos;
    if (!builder.has_root()) continue;
    Value root = builder.TakeRoot();
    if (root.is_null()) continue;  // empty document (e.g. only comments, or a trailing ---)
    docs.push_back({index, std::move(root)});
  }
  return docs;
}

DecodeResult DecodeYaml(std::string_view text, std::string_view source_name, uint64_t first_creation_order) {
  DecodeResult result;
  std::vector<ParsedDocument> docs = ParseYamlDocuments(text, source_name, result.errors);
  uint64_t order = first_creation_order;
  for (const ParsedDocument& d : docs) {
    SourceLocation where{std::string(source_name), d.index, d.value.mark.line};
    result.documents.push_back(DecodeDocument(d.value, where, order++));
  }
  return result;
}

ResourceSet CollectResources(const DecodeResult& result) {
  ResourceSet set;
  for (const DecodedDocument& d : result.documents) set.Add(d.resource);
  return set;
}

}  // namespace meshlog::policy
