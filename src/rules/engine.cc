// The MeshAccessLog policy engine (see engine.h). Section numbers refer to spec/policy.md.
//
// Merging note: a MeshAccessLog `default` has a single field, `backends`, and Kuma merges confs
// with JSON merge-patch in priority order, lists replaced wholesale (§1.2). The merged result is
// therefore the `backends` of the highest-priority relevant entry that defines it, which is what
// the outbound code below selects (one max-scan, no merge loop); that entry is also the provenance.
#include "rules/engine.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <set>
#include <tuple>

#include "policy/violation.h"
#include "rules/labels.h"

namespace meshlog::rules {

using policy::BackendType;
using policy::DataplaneResource;
using policy::MeshAccessLogResource;
using policy::StringMap;
using policy::TargetRef;
using policy::TargetRefKind;

namespace {

constexpr std::string_view kServiceTag = "kuma.io/service";
constexpr std::string_view kProtocolTag = "kuma.io/protocol";

const std::string* Label(const StringMap& labels, std::string_view key) {
  auto it = labels.find(std::string(key));
  return it == labels.end() ? nullptr : &it->second;
}

std::string LabelOr(const StringMap& labels, std::string_view key, std::string fallback = "") {
  const std::string* v = Label(labels, key);
  return v ? *v : fallback;
}

bool IsHttpProtocol(std::string_view p) { return p == "http" || p == "http2" || p == "grpc"; }


// §3.3 top-level kind order.
int KindOrder(TargetRefKind k) {
  switch (k) {
    case TargetRefKind::kMesh: return 1;
    case TargetRefKind::kDataplane: return 2;
    case TargetRefKind::kMeshSubset: return 3;
    case TargetRefKind::kMeshGateway: return 4;
    case TargetRefKind::kMeshService: return 5;
    case TargetRefKind::kMeshExternalService: return 6;
    case TargetRefKind::kMeshMultiZoneService: return 7;
    case TargetRefKind::kMeshServiceSubset: return 8;
    case TargetRefKind::kMeshHTTPRoute: return 9;
  }
  return 0;
}

int OriginOrder(const StringMap& labels) {
  const std::string* o = Label(labels, "kuma.io/origin");
  if (o == nullptr) return 2;
  if (*o == "global") return 1;
  if (*o == "zone") return 3;
  return 2;
}

constexpr std::string_view kSystemNamespace = "kuma-system";

// Kuma's ComputePolicyRole (policy.md §2.5) for a policy without a `kuma.io/policy-role` label:
// Universal and system-namespace policies are `system`; namespaced Kubernetes policies with `from`
// or with neither `to` nor `from` are `workload-owner`; all `to` items MeshService/MeshHTTPRoute
// by name in the same (or omitted) namespace => `producer`; otherwise `consumer` (a mix, which
// Kuma rejects at admission, is treated as consumer).
std::string ComputedRole(const MeshAccessLogResource& mal) {
  if (const std::string* r = Label(mal.meta.labels, "kuma.io/policy-role")) return *r;
  const auto& ns = mal.meta.namespace_;
  if (mal.meta.form != policy::ResourceForm::kKubernetes || !ns || ns->empty() || *ns == kSystemNamespace) {
    return "system";
  }
  const auto& spec = mal.spec;
  const bool has_to = spec.to && !spec.to->empty();
  const bool has_from = spec.from && !spec.from->empty();
  if (has_from || !has_to) return "workload-owner";
  for (const auto& to : *spec.to) {
    const TargetRef& t = to.target_ref;
    const bool producer_item = (t.kind == TargetRefKind::kMeshService || t.kind == TargetRefKind::kMeshHTTPRoute) &&
                               t.name && !t.labels && (!t.namespace_ || *t.namespace_ == *ns);
    if (!producer_item) return "consumer";
  }
  return "producer";
}

int RoleOrder(std::string_view role) {
  if (role == "producer") return 2;
  if (role == "consumer") return 3;
  if (role == "workload-owner") return 4;
  return 1;  // system, missing or unknown
}

// Real-resource `to` kind order (§3.4 b).
int ToKindOrder(const TargetRef& ref) {
  const bool section = ref.section_name.has_value() && !ref.section_name->empty();
  switch (ref.kind.value_or(TargetRefKind::kMesh)) {
    case TargetRefKind::kMesh: return 0;
    case TargetRefKind::kMeshService: return section ? 2 : 1;
    case TargetRefKind::kMeshExternalService: return 3;
    case TargetRefKind::kMeshMultiZoneService: return section ? 5 : 4;
    case TargetRefKind::kMeshHTTPRoute: return 6;
    default: return 7;
  }
}

// Kuma's legacy MeshService name "name_namespace_svc_port".
struct LegacyServiceName {
  std::string name, ns, port;
};
std::optional<LegacyServiceName> ParseLegacyServiceName(std::string_view s) {
  const size_t svc = s.rfind("_svc_");
  if (svc == std::string_view::npos) return std::nullopt;
  std::string_view port = s.substr(svc + 5);
  if (port.empty() || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::string_view head = s.substr(0, svc);
  const size_t us = head.rfind('_');
  if (us == std::string_view::npos || us == 0 || us + 1 == head.size()) return std::nullopt;
  return LegacyServiceName{std::string(head.substr(0, us)), std::string(head.substr(us + 1)), std::string(port)};
}

// Labels a resource is matched by: its own, plus the ones Kuma computes (display name, namespace, mesh).
std::string ResourceKey(std::string_view kind, std::string_view ns, std::string_view name) {
  std::string k(kind);
  k.append("|").append(ns).append("|").append(name);
  return k;
}

}  // namespace

std::string_view ProxyKindName(ProxyKind kind) {
  switch (kind) {
    case ProxyKind::kSidecar: return "sidecar";
    case ProxyKind::kBuiltinGateway: return "builtin_gateway";
    case ProxyKind::kDelegatedGateway: return "delegated_gateway";
  }
  return "sidecar";
}

bool AccessLogConfig::SameAs(const AccessLogConfig& o) const {
  return policy == o.policy && entry == o.entry && inbound == o.inbound && backend == o.backend &&
         format.type == o.format.type && format.plain == o.format.plain && format.json == o.format.json &&
         format.otel_body == o.format.otel_body && format.otel_attributes == o.format.otel_attributes &&
         format.omit_empty_values == o.format.omit_empty_values && match == o.match;
}

// ------------------------------------------------------------------------------------------------
// Free helpers
// ------------------------------------------------------------------------------------------------

std::string MatchToCel(const std::optional<policy::Match>& match) {
  if (!match) return "";
  std::vector<std::string> parts;
  if (match->spiffe_id) {
    const std::string q = policy::GoQuote(match->spiffe_id->value);
    if (match->spiffe_id->type == policy::SpiffeIdMatchType::kPrefix) {
      parts.push_back("connection.uri_san_peer_certificate.startsWith(" + q + ")");
    } else {
      parts.push_back("connection.uri_san_peer_certificate == " + q);
    }
  }
  if (match->sni) parts.push_back("connection.requested_server_name == " + policy::GoQuote(match->sni->value));
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += " && ";
    out += parts[i];
  }
  return out;
}

namespace {

// Standard / URL-safe base64 with optional padding (protojson accepts both).
std::optional<std::string> DecodeBase64(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = val(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (bits >= 6) return std::nullopt;  // a single dangling sextet is not valid base64
  return out;
}

// protojson field name: JSON name or proto name.
std::string_view CanonicalAnyField(std::string_view k) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kNames{{
      {"stringValue", "stringValue"}, {"string_value", "stringValue"},
      {"boolValue", "boolValue"},     {"bool_value", "boolValue"},
      {"intValue", "intValue"},       {"int_value", "intValue"},
      {"doubleValue", "doubleValue"}, {"double_value", "doubleValue"},
      {"bytesValue", "bytesValue"},   {"bytes_value", "bytesValue"},
      {"arrayValue", "arrayValue"},   {"array_value", "arrayValue"},
      {"kvlistValue", "kvlistValue"}, {"kvlist_value", "kvlistValue"},
  }};
  for (const auto& [from, to] : kNames) {
    if (k == from) return to;
  }
  return "";
}

bool ParseAnyValue(const policy::Value& v, format::OtelValue& out, int depth);

// {"values": [...]} of ArrayValue / KeyValueList.
bool ParseValuesList(const policy::Value& v, bool kv, format::OtelValue& out, int depth) {
  if (v.is_null()) return true;  // null message = empty
  if (!v.is_object()) return false;
  for (const auto& m : v.object_members()) {
    if (m.key != "values") return false;
    if (m.value.is_null()) continue;
    if (!m.value.is_array()) return false;
    for (const policy::Value& item : m.value.array_items()) {
      if (kv) {
        if (!item.is_object()) return false;
        std::string key;
        format::OtelValue value;
        for (const auto& km : item.object_members()) {
          if (km.key == "key") {
            if (!km.value.is_string() && !km.value.is_null()) return false;
            key = km.value.string_value();
          } else if (km.key == "value") {
            if (!ParseAnyValue(km.value, value, depth + 1)) return false;
          } else {
            return false;
          }
        }
        out.kvlist_values.emplace_back(std::move(key), std::move(value));
      } else {
        format::OtelValue value;
        if (!ParseAnyValue(item, value, depth + 1)) return false;
        out.array_values.push_back(std::move(value));
      }
    }
  }
  return true;
}

bool ParseAnyValue(const policy::Value& v, format::OtelValue& out, int depth) {
  using Kind = format::OtelValue::Kind;
  out = format::OtelValue{};
  if (depth > 64) return false;
  if (v.is_null()) return true;
  if (!v.is_object()) return false;
  bool seen = false;
  for (const auto& m : v.object_members()) {
    const std::string_view field = CanonicalAnyField(m.key);
    if (field.empty()) return false;  // unknown field
    if (m.value.is_null()) continue;  // null = unset
    if (seen) return false;           // oneof set twice
    seen = true;
    if (field == "stringValue") {
      if (!m.value.is_string()) return false;
      out.kind = Kind::kString;
      out.string_value = m.value.string_value();
    } else if (field == "boolValue") {
      if (!m.value.is_bool()) return false;
      out.kind = Kind::kBool;
      out.bool_value = m.value.bool_value();
    } else if (field == "intValue") {
      out.kind = Kind::kInt;
      if (m.value.is_int()) {
        out.int_value = m.value.int_value();
      } else if (m.value.is_string()) {
        const std::string& s = m.value.string_value();
        auto r = std::from_chars(s.data(), s.data() + s.size(), out.int_value);
        if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return false;
      } else if (m.value.is_double()) {
        const double d = m.value.double_value();
        if (d != static_cast<double>(static_cast<int64_t>(d))) return false;
        out.int_value = static_cast<int64_t>(d);
      } else {
        return false;
      }
    } else if (field == "doubleValue") {
      if (!m.value.is_number()) return false;
      out.kind = Kind::kDouble;
      out.double_value = m.value.double_value();
    } else if (field == "bytesValue") {
      if (!m.value.is_string()) return false;
      auto bytes = DecodeBase64(m.value.string_value());
      if (!bytes) return false;
      out.kind = Kind::kBytes;
      out.string_value = std::move(*bytes);
    } else if (field == "arrayValue") {
      out.kind = Kind::kArray;
      if (!ParseValuesList(m.value, false, out, depth)) return false;
    } else if (field == "kvlistValue") {
      out.kind = Kind::kKvList;
      if (!ParseValuesList(m.value, true, out, depth)) return false;
    }
  }
  return true;
}

void BindOtel(format::OtelValue& v, const format::KumaValues& kuma) {
  using Kind = format::OtelValue::Kind;
  if (v.kind == Kind::kString) v.string_value = format::BindKumaPlaceholders(v.string_value, kuma);
  for (auto& e : v.array_values) BindOtel(e, kuma);
  for (auto& [k, e] : v.kvlist_values) {
    k = format::BindKumaPlaceholders(k, kuma);
    BindOtel(e, kuma);
  }
}

}  // namespace

format::OtelValue ParseOtelBody(const policy::Value& body) {
  format::OtelValue out;
  if (ParseAnyValue(body, out, 0)) return out;
  return format::OtelValue::String(body.ToCanonicalJson());
}

std::string NormaliseOtelEndpoint(std::string_view endpoint) {
  std::string_view host = endpoint;
  std::string_view port;
  if (!endpoint.empty() && endpoint.front() == '[') {
    const size_t close = endpoint.find(']');
    if (close != std::string_view::npos) {
      host = endpoint.substr(1, close - 1);
      if (close + 1 < endpoint.size() && endpoint[close + 1] == ':') port = endpoint.substr(close + 2);
    }
  } else if (std::count(endpoint.begin(), endpoint.end(), ':') == 1) {
    const size_t colon = endpoint.find(':');
    host = endpoint.substr(0, colon);
    port = endpoint.substr(colon + 1);
  }
  uint32_t p = 4317;
  if (!port.empty()) {
    uint32_t parsed = 0;
    auto r = std::from_chars(port.data(), port.data() + port.size(), parsed);
    if (r.ec == std::errc() && r.ptr == port.data() + port.size()) p = parsed;
  }
  return JoinHostPort(host, p);
}

// ------------------------------------------------------------------------------------------------
// MeshIndex: everything about one mesh that does not depend on the dataplane being computed.
// ------------------------------------------------------------------------------------------------

// A `to` entry usable by the real-resource engine (§3.4 b).
struct RealToEntry {
  uint32_t policy = 0;  // index into MeshIndex::policies_
  uint32_t to_index = 0;
  int kind_order = 0;
  std::string section;  // "" = every section
};

struct PolicyInfo {
  MeshAccessLogResource mal;
  TargetRef top;
  TargetRefKind kind = TargetRefKind::kMesh;
  bool shadow = false;
  uint32_t rank = 0;       // §3.3 full order (ascending priority)
  uint32_t attr_rank = 0;  // §3.3 steps 1, 2, 3, 5 only (dense rank)
  uint32_t name_rank = 0;  // display name descending
  std::string zone;        // restrict to this zone ("" = no restriction)
  std::optional<std::string> namespace_restriction;
  bool has_route_to = false;  // skipped by the legacy engine
  std::string ns;             // policy namespace ("" for Universal)
};

class MeshIndex {
 public:
  MeshIndex(std::string mesh, const policy::ResourceSet& world);
  MeshIndex(const MeshIndex&) = delete;  // resource_by_name_ points into the member vectors
  MeshIndex& operator=(const MeshIndex&) = delete;

  const std::string& mesh() const { return mesh_; }
  DataplaneConfig Compute(const DataplaneResource& dp, const ComputeOptions& options) const;

 private:
  friend class Engine;
  struct DpFacts;
  struct Applied;

  void IndexPolicies();
  void IndexToEntries();
  std::vector<std::string> ResolveToKeys(const PolicyInfo& p, const TargetRef& ref) const;
  const policy::MeshGatewayResource* GatewayFor(const DataplaneResource& dp) const;
  void Select(const DpFacts& dp, const ComputeOptions& options, std::vector<Applied>& out) const;
  std::string ServiceProtocol(const std::string& service, const StringMap& outbound_tags) const;
  void AddLogs(const PolicyInfo& p, std::string entry, const policy::Conf& conf,
               const std::optional<policy::Match>& match, bool inbound, const format::KumaValues& kuma,
               const std::string& protocol, const ComputeOptions& options, std::vector<AccessLogConfig>& logs,
               std::set<std::string>& warnings) const;
  void AddInboundLogs(const std::vector<const Applied*>& policies, const format::KumaValues& kuma,
                      const std::string& protocol, const ComputeOptions& options,
                      std::vector<AccessLogConfig>& logs, std::set<std::string>& warnings) const;

  std::string mesh_;
  std::vector<PolicyInfo> policies_;  // in rank order: policies_[i].rank == i
  // Candidate lists by top-level targetRef (policy indices, ascending).
  std::vector<uint32_t> mesh_kind_;
  std::vector<uint32_t> dataplane_any_;
  std::unordered_map<std::string, std::vector<uint32_t>> dataplane_by_name_;
  std::unordered_map<std::string, std::vector<uint32_t>> dataplane_by_label_;  // "k=v" of first label
  std::vector<uint32_t> subset_any_;
  std::unordered_map<std::string, std::vector<uint32_t>> subset_by_tag_;  // "k=v" of first tag
  std::unordered_map<std::string, std::vector<uint32_t>> service_by_name_;  // MeshService, MeshServiceSubset
  std::unordered_map<std::string, std::vector<uint32_t>> gateway_by_name_;

  // `to` entries. Legacy engine (§3.4 a): Mesh entries, and MeshService entries by service name.
  // Entries without `backends` never win a merge and are not indexed.
  std::vector<std::vector<uint32_t>> legacy_mesh_to_;  // per policy: to indices of kind Mesh
  std::unordered_map<std::string, std::vector<std::pair<uint32_t, uint32_t>>> legacy_service_to_;
  // Real-resource engine: entries by resolved resource key ("MeshService|ns|name").
  std::unordered_map<std::string, std::vector<RealToEntry>> real_to_;

  // Other resources of the mesh.
  std::vector<policy::MeshServiceResource> mesh_services_;
  std::vector<policy::MeshExternalServiceResource> mesh_external_services_;
  std::vector<policy::MeshMultiZoneServiceResource> mesh_multi_zone_services_;
  std::vector<policy::MeshGatewayResource> gateways_;
  std::vector<policy::MeshOpenTelemetryBackendResource> otel_backends_;
  // MeshService / MeshExternalService / MeshMultiZoneService by name: (which vector, index).
  std::unordered_multimap<std::string, std::pair<const void*, size_t>> resource_by_name_;
  std::unordered_map<std::string, std::string> service_protocol_;  // kuma.io/service -> protocol
  bool passthrough_enabled_ = true;                                 // Mesh networking.outbound.passthrough
};

MeshIndex::MeshIndex(std::string mesh, const policy::ResourceSet& world) : mesh_(std::move(mesh)) {
  for (const auto& r : world.mesh_access_logs) {
    if (r.meta.mesh != mesh_) continue;
    PolicyInfo p;
    p.mal = r;
    policies_.push_back(std::move(p));
  }
  for (const auto& r : world.mesh_services) {
    if (r.meta.mesh == mesh_) mesh_services_.push_back(r);
  }
  for (const auto& r : world.mesh_external_services) {
    if (r.meta.mesh == mesh_) mesh_external_services_.push_back(r);
  }
  for (const auto& r : world.mesh_multi_zone_services) {
    if (r.meta.mesh == mesh_) mesh_multi_zone_services_.push_back(r);
  }
  for (const auto& r : world.mesh_gateways) {
    if (r.meta.mesh == mesh_) gateways_.push_back(r);
  }
  for (const auto& r : world.mesh_open_telemetry_backends) {
    if (r.meta.mesh == mesh_) otel_backends_.push_back(r);
  }
  auto index_names = [&](const auto& resources) {
    for (size_t i = 0; i < resources.size(); ++i) {
      resource_by_name_.emplace(resources[i].meta.name, std::make_pair(static_cast<const void*>(&resources), i));
    }
  };
  index_names(mesh_services_);
  index_names(mesh_external_services_);
  index_names(mesh_multi_zone_services_);
  // Protocol of each service from the inbounds that serve it; disagreeing inbounds => tcp.
  for (const auto& dp : world.dataplanes) {
    if (dp.meta.mesh != mesh_) continue;
    for (const auto& in : dp.spec.inbound) {
      const std::string* svc = Label(in.tags, kServiceTag);
      if (svc == nullptr) continue;
      const std::string proto = LabelOr(in.tags, kProtocolTag, "tcp");
      auto [it, inserted] = service_protocol_.emplace(*svc, proto);
      if (!inserted && it->second != proto) it->second = "tcp";
    }
  }
  // Mesh resource: networking.outbound.passthrough (default true).
  for (const auto& other : world.others) {
    if (other.meta.type_name != "Mesh" || other.meta.name != mesh_) continue;
    const policy::Value* n = other.spec.raw.Find("networking");
    const policy::Value* o = n ? n->Find("outbound") : nullptr;
    const policy::Value* p = o ? o->Find("passthrough") : nullptr;
    if (p && p->is_bool()) passthrough_enabled_ = p->bool_value();
  }
  IndexPolicies();
  IndexToEntries();
}

void MeshIndex::IndexPolicies() {
  struct Key {
    int kind, dp_spec, dp_section, origin, gw_tags, role;
  };
  std::vector<Key> keys;
  keys.reserve(policies_.size());
  for (PolicyInfo& p : policies_) {
    const auto& meta = p.mal.meta;
    p.top = p.mal.spec.EffectiveTargetRef();
    p.kind = p.top.kind.value_or(TargetRefKind::kMesh);
    p.shadow = LabelOr(meta.labels, "kuma.io/effect") == "shadow";
    p.ns = meta.namespace_.value_or("");
    if (LabelOr(meta.labels, "kuma.io/origin") == "zone") p.zone = LabelOr(meta.labels, "kuma.io/zone");
    const int role = RoleOrder(ComputedRole(p.mal));
    if (role >= 3 && meta.namespace_) p.namespace_restriction = meta.namespace_;
    if (p.mal.spec.to) {
      for (const auto& to : *p.mal.spec.to) {
        if (to.target_ref.kind == TargetRefKind::kMeshHTTPRoute) p.has_route_to = true;
      }
    }
    Key k{};
    k.kind = KindOrder(p.kind);
    if (p.kind == TargetRefKind::kDataplane) {
      k.dp_spec = p.top.name ? 2 : (p.top.labels && !p.top.labels->empty()) ? 1 : 0;
      k.dp_section = p.top.section_name ? 1 : 0;
    }
    k.origin = OriginOrder(meta.labels);
    if (p.kind == TargetRefKind::kMeshGateway) k.gw_tags = p.top.tags ? static_cast<int>(p.top.tags->size()) : 0;
    k.role = role;
    keys.push_back(k);
  }
  std::vector<uint32_t> order(policies_.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  auto attrs = [&](uint32_t i) {
    const Key& k = keys[i];
    return std::make_tuple(k.kind, k.dp_spec, k.dp_section, k.origin, k.role);
  };
  // Display name descending; ties (same name in different namespaces) by namespace, then load order.
  auto name_less = [&](uint32_t a, uint32_t b) {
    const auto& ma = policies_[a].mal.meta;
    const auto& mb = policies_[b].mal.meta;
    const int c = ma.DisplayName().compare(mb.DisplayName());
    if (c != 0) return c > 0;
    if (policies_[a].ns != policies_[b].ns) return policies_[a].ns > policies_[b].ns;
    return ma.creation_order < mb.creation_order;
  };
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const Key& ka = keys[a];
    const Key& kb = keys[b];
    auto ta = std::make_tuple(ka.kind, ka.dp_spec, ka.dp_section, ka.origin, ka.gw_tags, ka.role);
    auto tb = std::make_tuple(kb.kind, kb.dp_spec, kb.dp_section, kb.origin, kb.gw_tags, kb.role);
    if (ta != tb) return ta < tb;
    return name_less(a, b);
  });
  // attr_rank: dense rank by steps 1, 2, 3, 5; name_rank: by display name.
  std::vector<uint32_t> by_attr = order;
  std::stable_sort(by_attr.begin(), by_attr.end(), [&](uint32_t a, uint32_t b) { return attrs(a) < attrs(b); });
  std::vector<uint32_t> attr_rank(policies_.size()), name_rank(policies_.size());
  for (size_t i = 0; i < by_attr.size(); ++i) {
    attr_rank[by_attr[i]] = (i == 0) ? 0 : attr_rank[by_attr[i - 1]] + (attrs(by_attr[i - 1]) != attrs(by_attr[i]) ? 1 : 0);
  }
  std::vector<uint32_t> by_name = order;
  std::stable_sort(by_name.begin(), by_name.end(), name_less);
  for (size_t i = 0; i < by_name.size(); ++i) name_rank[by_name[i]] = static_cast<uint32_t>(i);

  std::vector<PolicyInfo> sorted;
  sorted.reserve(policies_.size());
  for (size_t i = 0; i < order.size(); ++i) {
    PolicyInfo p = std::move(policies_[order[i]]);
    p.rank = static_cast<uint32_t>(i);
    p.attr_rank = attr_rank[order[i]];
    p.name_rank = name_rank[order[i]];
    sorted.push_back(std::move(p));
  }
  policies_ = std::move(sorted);

  for (uint32_t i = 0; i < policies_.size(); ++i) {
    const PolicyInfo& p = policies_[i];
    const TargetRef& t = p.top;
    switch (p.kind) {
      case TargetRefKind::kMesh: mesh_kind_.push_back(i); break;
      case TargetRefKind::kDataplane:
        if (t.name) {
          dataplane_by_name_[*t.name].push_back(i);
        } else if (t.labels && !t.labels->empty()) {
          const auto& [k, v] = *t.labels->begin();
          dataplane_by_label_[k + "=" + v].push_back(i);
        } else {
          dataplane_any_.push_back(i);
        }
        break;
      case TargetRefKind::kMeshSubset:
        if (t.tags && !t.tags->empty()) {
          const auto& [k, v] = *t.tags->begin();
          subset_by_tag_[k + "=" + v].push_back(i);
        } else {
          subset_any_.push_back(i);
        }
        break;
      case TargetRefKind::kMeshService:
      case TargetRefKind::kMeshServiceSubset:
        service_by_name_[t.name.value_or("")].push_back(i);
        break;
      case TargetRefKind::kMeshGateway: gateway_by_name_[t.name.value_or("")].push_back(i); break;
      default: break;  // MeshHTTPRoute / real-resource kinds at top level never select a dataplane here
    }
  }
}

std::vector<std::string> MeshIndex::ResolveToKeys(const PolicyInfo& p, const TargetRef& ref) const {
  std::vector<std::string> keys;
  const TargetRefKind kind = ref.kind.value_or(TargetRefKind::kMesh);
  std::string_view kind_name = policy::TargetRefKindName(kind);
  std::optional<StringMap> labels = ref.labels;
  std::optional<std::string> section = ref.section_name;
  std::string name = ref.name.value_or("");
  std::string ns = ref.namespace_.value_or(p.ns);
  if (!labels && kind == TargetRefKind::kMeshService) {
    if (auto legacy = ParseLegacyServiceName(name)) {  // name_ns_svc_port -> labels + port (§3.4 b)
      labels = StringMap{{"k8s.kuma.io/namespace", legacy->ns}, {"kuma.io/display-name", legacy->name}};
    }
  }
  auto add_matching = [&](const auto& resources) {
    for (const auto& r : resources) {
      const std::string rns = r.meta.namespace_.value_or("");
      if (labels) {
        if (TagsMatch(*labels, EffectiveLabels(r.meta))) keys.push_back(ResourceKey(kind_name, rns, r.meta.name));
      }
    }
  };
  if (labels) {
    if (kind == TargetRefKind::kMeshService) add_matching(mesh_services_);
    if (kind == TargetRefKind::kMeshExternalService) add_matching(mesh_external_services_);
    if (kind == TargetRefKind::kMeshMultiZoneService) add_matching(mesh_multi_zone_services_);
  } else if (!name.empty()) {
    keys.push_back(ResourceKey(kind_name, ns, name));
  }
  return keys;
}

void MeshIndex::IndexToEntries() {
  legacy_mesh_to_.resize(policies_.size());
  for (uint32_t i = 0; i < policies_.size(); ++i) {
    const PolicyInfo& p = policies_[i];
    if (!p.mal.spec.to) continue;
    const auto& tos = *p.mal.spec.to;
    for (uint32_t t = 0; t < tos.size(); ++t) {
      const auto& to = tos[t];
      if (!to.default_conf.backends) continue;
      const TargetRefKind kind = to.target_ref.kind.value_or(TargetRefKind::kMesh);
      // Legacy engine: only Mesh and MeshService (by name); policies with a MeshHTTPRoute entry skipped.
      if (!p.has_route_to) {
        if (kind == TargetRefKind::kMesh) legacy_mesh_to_[i].push_back(t);
        if (kind == TargetRefKind::kMeshService && to.target_ref.name) {
          legacy_service_to_[*to.target_ref.name].emplace_back(i, t);
        }
      }
      // Real-resource engine.
      if (kind == TargetRefKind::kMeshService || kind == TargetRefKind::kMeshExternalService ||
          kind == TargetRefKind::kMeshMultiZoneService) {
        RealToEntry e;
        e.policy = i;
        e.to_index = t;
        e.kind_order = ToKindOrder(to.target_ref);
        e.section = to.target_ref.section_name.value_or("");
        if (kind == TargetRefKind::kMeshService && !to.target_ref.labels && to.target_ref.name) {
          if (auto legacy = ParseLegacyServiceName(*to.target_ref.name); legacy && e.section.empty()) {
            e.section = legacy->port;
            e.kind_order = 2;
          }
        }
        for (std::string& key : ResolveToKeys(p, to.target_ref)) real_to_[key].push_back(e);
      }
    }
  }
}

const policy::MeshGatewayResource* MeshIndex::GatewayFor(const DataplaneResource& dp) const {
  if (!dp.spec.gateway) return nullptr;
  const policy::MeshGatewayResource* best = nullptr;
  size_t best_size = 0;
  for (const auto& gw : gateways_) {
    for (const StringMap& sel : gw.spec.selectors) {
      if (!TagsMatch(sel, dp.spec.gateway->tags)) continue;
      if (best == nullptr || sel.size() > best_size || (sel.size() == best_size && gw.meta.name < best->meta.name)) {
        best = &gw;
        best_size = sel.size();
      }
    }
  }
  return best;
}

std::string MeshIndex::ServiceProtocol(const std::string& service, const StringMap& outbound_tags) const {
  auto it = service_protocol_.find(service);
  if (it != service_protocol_.end()) return it->second;
  return LabelOr(outbound_tags, kProtocolTag, "tcp");
}

// What Compute knows about the dataplane being computed.
struct MeshIndex::DpFacts {
  const DataplaneResource* dp = nullptr;
  ProxyKind proxy = ProxyKind::kSidecar;
  std::string zone, ns, name;
  // Sidecar inbound listeners (deduplicated by address:port): the inbounds sharing each one.
  struct Inbound {
    std::string address;
    uint32_t port = 0;
    std::vector<const policy::DataplaneInbound*> inbounds;
  };
  std::vector<Inbound> inbounds;
  // Builtin gateway listeners (one per port): merged tags of every MeshGateway listener on it.
  const policy::MeshGatewayResource* gateway = nullptr;
  struct GatewayPort {
    uint32_t port = 0;
    std::string protocol;  // as written (HTTP, TCP, ...)
    std::vector<StringMap> merged_tags;
  };
  std::vector<GatewayPort> gateway_ports;
};

// A policy applying to the dataplane and what it selected.
struct MeshIndex::Applied {
  const PolicyInfo* policy = nullptr;
  uint32_t index = 0;
  bool dataplane = false;          // applies to the whole dataplane (its `to` is used)
  std::vector<bool> inbound;       // per DpFacts::inbounds
  std::vector<bool> gateway_port;  // per DpFacts::gateway_ports
};

void MeshIndex::Select(const DpFacts& f, const ComputeOptions& options, std::vector<Applied>& out) const {
  const DataplaneResource& dp = *f.dp;
  // Candidates, deduplicated, then evaluated exactly.
  std::vector<uint32_t> cand(mesh_kind_);
  auto add = [&](const std::vector<uint32_t>* v) {
    if (v) cand.insert(cand.end(), v->begin(), v->end());
  };
  auto find = [](const auto& map, const std::string& key) -> const std::vector<uint32_t>* {
    auto it = map.find(key);
    return it == map.end() ? nullptr : &it->second;
  };
  cand.insert(cand.end(), subset_any_.begin(), subset_any_.end());
  auto add_tags = [&](const StringMap& tags) {
    for (const auto& [k, v] : tags) {
      add(find(subset_by_tag_, k + "=" + v));
      if (k == kServiceTag) add(find(service_by_name_, v));
    }
  };
  if (f.proxy != ProxyKind::kBuiltinGateway) {
    cand.insert(cand.end(), dataplane_any_.begin(), dataplane_any_.end());
    add(find(dataplane_by_name_, f.name));
    for (const auto& [k, v] : dp.meta.labels) add(find(dataplane_by_label_, k + "=" + v));
  }
  for (const auto& in : dp.spec.inbound) add_tags(in.tags);
  if (dp.spec.gateway && f.proxy == ProxyKind::kDelegatedGateway) add_tags(dp.spec.gateway->tags);
  for (const auto& gp : f.gateway_ports) {
    for (const auto& tags : gp.merged_tags) add_tags(tags);
  }
  if (f.gateway) add(find(gateway_by_name_, f.gateway->meta.name));
  std::sort(cand.begin(), cand.end());
  cand.erase(std::unique(cand.begin(), cand.end()), cand.end());

  const bool is_gateway = dp.spec.gateway.has_value();
  out.reserve(cand.size());
  for (uint32_t idx : cand) {
    const PolicyInfo& p = policies_[idx];
    if (p.shadow && !options.include_shadow) continue;
    if (!p.zone.empty() && !f.zone.empty() && p.zone != f.zone) continue;
    if (p.namespace_restriction && *p.namespace_restriction != f.ns) continue;
    const TargetRef& t = p.top;
    if (t.proxy_types && (p.kind == TargetRefKind::kMesh || p.kind == TargetRefKind::kMeshSubset)) {
      const auto want = is_gateway ? policy::ProxyType::kGateway : policy::ProxyType::kSidecar;
      if (std::find(t.proxy_types->begin(), t.proxy_types->end(), want) == t.proxy_types->end()) continue;
    }
    Applied a;
    a.policy = &p;
    a.index = idx;
    a.inbound.assign(f.inbounds.size(), false);
    a.gateway_port.assign(f.gateway_ports.size(), false);
    const StringMap empty;
    // Does a tag set satisfy this policy's top-level targetRef (MeshSubset / MeshService(Subset))?
    auto tags_select = [&](const StringMap& tags) {
      switch (p.kind) {
        case TargetRefKind::kMesh: return true;
        case TargetRefKind::kMeshSubset: return TagsMatch(t.tags.value_or(empty), tags);
        case TargetRefKind::kMeshService: return LabelOr(tags, kServiceTag) == t.name.value_or("");
        case TargetRefKind::kMeshServiceSubset:
          return LabelOr(tags, kServiceTag) == t.name.value_or("") && TagsMatch(t.tags.value_or(empty), tags);
        default: return false;
      }
    };
    switch (f.proxy) {
      case ProxyKind::kSidecar:
      case ProxyKind::kDelegatedGateway: {
        bool dp_selected = false;
        if (p.kind == TargetRefKind::kDataplane) {
          if (t.name) {
            dp_selected = *t.name == f.name;
            const std::string want_ns = t.namespace_.value_or(p.ns);
            if (!want_ns.empty() && !f.ns.empty() && want_ns != f.ns) dp_selected = false;
          } else if (t.labels && !t.labels->empty()) {
            dp_selected = TagsMatch(*t.labels, dp.meta.labels);
          } else {
            dp_selected = true;
          }
          if (dp_selected) {
            for (size_t i = 0; i < f.inbounds.size(); ++i) {
              if (!t.section_name) {
                a.inbound[i] = true;
                continue;
              }
              for (const auto* in : f.inbounds[i].inbounds) {
                if ((in->name && *in->name == *t.section_name) ||
                    (in->port && std::to_string(*in->port) == *t.section_name)) {
                  a.inbound[i] = true;
                }
              }
            }
            a.dataplane = !t.section_name.has_value();
          }
        } else if (p.kind == TargetRefKind::kMesh) {
          a.dataplane = true;
          std::fill(a.inbound.begin(), a.inbound.end(), true);
        } else if (p.kind != TargetRefKind::kMeshGateway) {
          for (size_t i = 0; i < f.inbounds.size(); ++i) {
            for (const auto* in : f.inbounds[i].inbounds) {
              if (tags_select(in->tags)) a.inbound[i] = true;
            }
          }
          if (f.proxy == ProxyKind::kDelegatedGateway && tags_select(dp.spec.gateway->tags)) a.dataplane = true;
        }
        if (std::find(a.inbound.begin(), a.inbound.end(), true) != a.inbound.end()) a.dataplane = true;
        break;
      }
      case ProxyKind::kBuiltinGateway: {
        for (size_t i = 0; i < f.gateway_ports.size(); ++i) {
          for (const StringMap& tags : f.gateway_ports[i].merged_tags) {
            bool sel = false;
            if (p.kind == TargetRefKind::kMeshGateway) {
              sel = f.gateway && t.name == f.gateway->meta.name && TagsMatch(t.tags.value_or(empty), tags);
            } else if (p.kind != TargetRefKind::kDataplane) {
              sel = tags_select(tags);
            }
            if (sel) a.gateway_port[i] = true;
          }
        }
        a.dataplane = std::find(a.gateway_port.begin(), a.gateway_port.end(), true) != a.gateway_port.end();
        break;
      }
    }
    if (a.dataplane) out.push_back(std::move(a));
  }
}

void MeshIndex::AddLogs(const PolicyInfo& p, std::string entry, const policy::Conf& conf,
                        const std::optional<policy::Match>& match, bool inbound, const format::KumaValues& kuma,
                        const std::string& protocol, const ComputeOptions& options,
                        std::vector<AccessLogConfig>& logs, std::set<std::string>& warnings) const {
  if (!conf.backends) return;
  const std::string_view default_format =
      IsHttpProtocol(protocol) ? format::DefaultHttpFormat() : format::DefaultTcpFormat();
  const auto omit = [](bool b) { return format::OmitEmptyValues(b); };
  for (const policy::Backend& b : *conf.backends) {
    if (!b.type) continue;
    AccessLogConfig log;
    log.policy = p.mal.meta.name;
    log.entry = entry;
    log.inbound = inbound;
    log.shadow = p.shadow;
    log.match = match;
    log.backend.type = *b.type;
    const std::optional<policy::Format>* fmt = nullptr;
    if (*b.type == BackendType::kFile && b.file) {
      log.backend.path = b.file->path;
      fmt = &b.file->format;
    } else if (*b.type == BackendType::kTcp && b.tcp) {
      log.backend.address = b.tcp->address;
      fmt = &b.tcp->format;
    } else if (*b.type == BackendType::kOpenTelemetry && b.open_telemetry) {
      const policy::OtelBackend& o = *b.open_telemetry;
      if (o.backend_ref) {
        const policy::MeshOpenTelemetryBackendResource* best = nullptr;
        for (const auto& motb : otel_backends_) {
          if (!TagsMatch(o.backend_ref->labels, motb.meta.labels)) continue;
          if (best == nullptr) {
            best = &motb;
            continue;
          }
          const auto& a = motb.meta;
          const auto& c = best->meta;
          const bool older = (a.creation_time && c.creation_time && *a.creation_time != *c.creation_time)
                                 ? *a.creation_time < *c.creation_time
                                 : a.creation_order < c.creation_order;
          if (older) best = &motb;
        }
        if (best == nullptr) {
          std::string labels;
          for (const auto& [k, v] : o.backend_ref->labels) {
            if (!labels.empty()) labels += ",";
            labels += k + "=" + v;
          }
          warnings.insert("policy " + p.mal.meta.name + " " + entry +
                          ": openTelemetry backendRef {" + labels +
                          "} matches no MeshOpenTelemetryBackend in mesh " + mesh_ + "; backend skipped");
          continue;
        }
        const auto& s = best->spec;
        const std::string host =
            s.endpoint_address && !s.endpoint_address->empty() ? *s.endpoint_address : "127.0.0.1";
        log.backend.endpoint = JoinHostPort(host, s.EffectivePort());
        log.backend.backend_ref = best->meta.name;
        if (s.EffectiveProtocol() == policy::OtelProtocol::kHttp) {
          log.backend.otel_protocol = "http";
          log.backend.path = s.LogsPath();
        } else {
          log.backend.otel_protocol = "grpc";
        }
      } else {
        log.backend.endpoint = NormaliseOtelEndpoint(o.endpoint);
        log.backend.otel_protocol = "grpc";
      }
      log.backend.resource_attributes.emplace_back("kuma.mesh", kuma.mesh);
      if (!kuma.zone.empty()) log.backend.resource_attributes.emplace_back("kuma.zone", kuma.zone);
      if (!kuma.workload.empty()) log.backend.resource_attributes.emplace_back("kuma.workload", kuma.workload);
      // Body: default = the default format WITHOUT "\n"; else the configured AnyValue (§4.8).
      format::OtelValue body_template;
      if (o.body) {
        body_template = ParseOtelBody(*o.body);
        log.format.type = FormatConfig::Type::kOtelBody;
        log.format.otel_body = body_template;
        BindOtel(log.format.otel_body, kuma);
      } else {
        body_template = format::OtelValue::String(std::string(default_format));
        log.format.type = FormatConfig::Type::kPlain;
        log.format.is_default = true;
        log.format.plain = format::BindKumaPlaceholders(default_format, kuma);
      }
      format::OtelTemplate::Attributes attributes;
      if (o.attributes) {
        for (const auto& attr : *o.attributes) {
          attributes.emplace_back(attr.key, attr.value);
          log.format.otel_attributes.emplace_back(format::BindKumaPlaceholders(attr.key, kuma),
                                                  format::BindKumaPlaceholders(attr.value, kuma));
        }
      }
      if (options.compile) {
        auto compiled = format::OtelTemplate::Compile(body_template, attributes, kuma);
        if (compiled.ok()) {
          log.otel = compiled.value();
        } else {
          log.compile_error = compiled.error();
        }
      }
      logs.push_back(std::move(log));
      continue;
    } else {
      continue;  // union field missing: rejected by validation
    }
    // File / Tcp: format selection ignores format.type (§4.3).
    if (!fmt->has_value()) {
      log.format.type = FormatConfig::Type::kPlain;
      log.format.is_default = true;
      log.format.plain = format::BindKumaPlaceholders(default_format, kuma) + "\n";
    } else if ((*fmt)->plain) {
      log.format.type = FormatConfig::Type::kPlain;
      log.format.plain = format::BindKumaPlaceholders(*(*fmt)->plain, kuma) + "\n";
      log.format.omit_empty_values = (*fmt)->omit_empty_values;
    } else if ((*fmt)->json) {
      log.format.type = FormatConfig::Type::kJson;
      for (const auto& jv : *(*fmt)->json) {
        log.format.json.emplace_back(jv.key, format::BindKumaPlaceholders(jv.value, kuma));
      }
      log.format.omit_empty_values = (*fmt)->omit_empty_values;
    } else {
      log.compile_error = "format must have only one type defined: plain, json";
      logs.push_back(std::move(log));
      continue;
    }
    if (options.compile) {
      auto compiled = log.format.type == FormatConfig::Type::kJson
                          ? format::CompileJson(log.format.json, omit(log.format.omit_empty_values))
                          : format::CompilePlain(log.format.plain, omit(log.format.omit_empty_values));
      if (compiled.ok()) {
        log.formatter = compiled.value();
      } else {
        log.compile_error = compiled.error();
      }
    }
    logs.push_back(std::move(log));
  }
}

// Inbound fan-out (§3.5): every rule (or from entry) of every selecting policy, policies in
// priority order, then stable-sorted by match specificity; one access log per backend.
void MeshIndex::AddInboundLogs(const std::vector<const Applied*>& policies, const format::KumaValues& kuma,
                               const std::string& protocol, const ComputeOptions& options,
                               std::vector<AccessLogConfig>& logs, std::set<std::string>& warnings) const {
  struct InRule {
    int specificity;
    const PolicyInfo* policy;
    std::string entry;
    const policy::Conf* conf;
    std::optional<policy::Match> match;
  };
  std::vector<InRule> rules;
  auto specificity = [](const std::optional<policy::Match>& m) {
    if (!m) return 3;
    if (m->spiffe_id) return m->spiffe_id->type == policy::SpiffeIdMatchType::kPrefix ? 1 : 0;
    if (m->sni) return 2;
    return 3;
  };
  for (const Applied* a : policies) {
    const auto& spec = a->policy->mal.spec;
    if (spec.rules && !spec.rules->empty()) {
      for (size_t i = 0; i < spec.rules->size(); ++i) {
        const policy::Rule& r = (*spec.rules)[i];
        const std::string entry = "rules[" + std::to_string(i) + "]";
        if (r.matches && !r.matches->empty()) {
          for (const policy::Match& m : *r.matches) {
            std::optional<policy::Match> match = m;
            if (!m.spiffe_id && !m.sni) match.reset();  // an empty match matches everything
            rules.push_back({specificity(match), a->policy, entry, &r.default_conf, match});
          }
        } else {
          rules.push_back({3, a->policy, entry, &r.default_conf, std::nullopt});
        }
      }
    } else if (spec.from) {
      for (size_t i = 0; i < spec.from->size(); ++i) {
        rules.push_back({3, a->policy, "from[" + std::to_string(i) + "]", &(*spec.from)[i].default_conf, std::nullopt});
      }
    }
  }
  std::stable_sort(rules.begin(), rules.end(),
                   [](const InRule& x, const InRule& y) { return x.specificity < y.specificity; });
  for (const InRule& r : rules) {
    AddLogs(*r.policy, r.entry, *r.conf, r.match, true, kuma, protocol, options, logs, warnings);
  }
}

DataplaneConfig MeshIndex::Compute(const DataplaneResource& dp, const ComputeOptions& options) const {
  DataplaneConfig out;
  out.mesh = dp.meta.mesh;
  out.dataplane = dp.meta.name;

  DpFacts f;
  f.dp = &dp;
  f.name = dp.meta.name;
  f.zone = LabelOr(dp.meta.labels, "kuma.io/zone");
  f.ns = dp.meta.namespace_.value_or(LabelOr(dp.meta.labels, "k8s.kuma.io/namespace"));
  if (dp.spec.gateway) {
    f.proxy = dp.spec.gateway->type == policy::GatewayType::kBuiltin ? ProxyKind::kBuiltinGateway
                                                                     : ProxyKind::kDelegatedGateway;
  }
  out.proxy_kind = f.proxy;

  // Identifying service: alphabetically first kuma.io/service of inbound and gateway tags (§4.2).
  std::string svc;
  auto consider = [&](const StringMap& tags) {
    const std::string* s = Label(tags, kServiceTag);
    if (s && (svc.empty() || *s < svc)) svc = *s;
  };
  for (const auto& in : dp.spec.inbound) consider(in.tags);
  if (dp.spec.gateway) consider(dp.spec.gateway->tags);
  if (svc.empty()) svc = "unknown";

  const std::string source_ip =
      dp.spec.advertised_address && !dp.spec.advertised_address->empty() ? *dp.spec.advertised_address
                                                                          : dp.spec.address;
  format::KumaValues base;
  base.mesh = dp.meta.mesh;
  base.source_ip = source_ip;
  base.zone = f.zone;
  if (const std::string* wl = Label(dp.meta.labels, "kuma.io/workload"); wl && !wl->empty()) {
    base.workload = "kri_wl_" + dp.meta.mesh + "_" + f.zone + "_" + LabelOr(dp.meta.labels, "k8s.kuma.io/namespace", f.ns) +
                    "_" + *wl + "_";
  }
  format::KumaValues inbound_values = base;
  inbound_values.source_service = "unknown";
  inbound_values.destination_service = svc;
  inbound_values.direction = "INBOUND";
  format::KumaValues outbound_values = base;
  outbound_values.source_service = svc;
  outbound_values.direction = "OUTBOUND";

  if (f.proxy == ProxyKind::kSidecar) {
    for (const auto& in : dp.spec.inbound) {
      if (!in.port) continue;
      const std::string addr = in.address.value_or(dp.spec.address);
      auto it = std::find_if(f.inbounds.begin(), f.inbounds.end(),
                             [&](const DpFacts::Inbound& x) { return x.address == addr && x.port == *in.port; });
      if (it == f.inbounds.end()) {
        f.inbounds.push_back({addr, *in.port, {&in}});
      } else {
        it->inbounds.push_back(&in);
      }
    }
  }
  if (f.proxy == ProxyKind::kBuiltinGateway) {
    f.gateway = GatewayFor(dp);
    if (f.gateway == nullptr) {
      out.warnings.push_back("builtin gateway dataplane " + dp.meta.name +
                             ": no MeshGateway in mesh " + mesh_ + " selects it; no gateway listeners");
    } else {
      for (const auto& l : f.gateway->spec.listeners) {
        StringMap merged = dp.spec.gateway->tags;
        for (const auto& [k, v] : f.gateway->spec.tags) merged[k] = v;
        for (const auto& [k, v] : l.tags) merged[k] = v;
        auto it = std::find_if(f.gateway_ports.begin(), f.gateway_ports.end(),
                               [&](const DpFacts::GatewayPort& g) { return g.port == l.port; });
        if (it == f.gateway_ports.end()) {
          f.gateway_ports.push_back({l.port, l.protocol, {std::move(merged)}});
        } else {
          it->merged_tags.push_back(std::move(merged));
        }
      }
    }
  }

  std::vector<Applied> applied;
  Select(f, options, applied);  // in rank order (candidates were sorted by index == rank)
  std::set<std::string> warnings;

  // Legacy `to` winner among Mesh entries of the applying policies (used by every legacy listener).
  struct Winner {
    const PolicyInfo* policy = nullptr;
    uint32_t to_index = 0;
  };
  auto legacy_mesh_winner = [&](const std::vector<const Applied*>& pols) {
    Winner w;
    for (const Applied* a : pols) {  // ascending priority: the last one wins
      const auto& idx = legacy_mesh_to_[a->index];
      if (!idx.empty()) w = {a->policy, idx.back()};
    }
    return w;
  };
  std::vector<const Applied*> dp_policies;
  std::vector<uint8_t> applies(policies_.size(), 0);
  for (const Applied& a : applied) {
    dp_policies.push_back(&a);
    applies[a.index] = 1;
  }
  const Winner dp_mesh_winner = legacy_mesh_winner(dp_policies);
  auto legacy_winner = [&](const std::string& service, Winner w) {
    auto it = legacy_service_to_.find(service);
    if (it == legacy_service_to_.end()) return w;
    for (const auto& [pi, ti] : it->second) {
      if (!applies[pi]) continue;
      const PolicyInfo* p = &policies_[pi];
      if (w.policy == nullptr || p->rank > w.policy->rank || (p->rank == w.policy->rank && ti > w.to_index)) {
        w = {p, ti};
      }
    }
    return w;
  };
  auto emit_to = [&](Winner w, const format::KumaValues& kuma, const std::string& protocol,
                     std::vector<AccessLogConfig>& logs) {
    if (w.policy == nullptr) return;
    const policy::To& to = (*w.policy->mal.spec.to)[w.to_index];
    AddLogs(*w.policy, "to[" + std::to_string(w.to_index) + "]", to.default_conf, std::nullopt, false, kuma, protocol,
            options, logs, warnings);
  };

  // ---- inbound listeners ----
  for (size_t i = 0; i < f.inbounds.size(); ++i) {
    const auto& in = f.inbounds[i];
    ListenerConfig l;
    l.info.kind = ListenerKind::kInbound;
    l.info.address = JoinHostPort(in.address, in.port);
    l.info.name = "inbound:" + l.info.address;
    l.info.protocol = LabelOr(in.inbounds.front()->tags, kProtocolTag, "tcp");
    l.info.kuma = inbound_values;
    std::vector<const Applied*> pols;
    for (const Applied& a : applied) {
      if (a.inbound[i]) pols.push_back(&a);
    }
    AddInboundLogs(pols, inbound_values, l.info.protocol, options, l.access_logs, warnings);
    out.listeners.push_back(std::move(l));
  }

  // ---- outbound listeners (sidecar, delegated gateway) ----
  if (f.proxy != ProxyKind::kBuiltinGateway) {
    // Real-resource engine: the best Mesh entry is shared by every real outbound.
    struct RealWinner {
      const PolicyInfo* policy = nullptr;
      uint32_t to_index = 0;
      int kind_order = 0;
      auto key() const { return std::make_tuple(policy->attr_rank, kind_order, policy->name_rank, to_index); }
    };
    RealWinner real_mesh;
    for (const Applied* a : dp_policies) {
      const auto& spec = a->policy->mal.spec;
      if (!spec.to) continue;
      for (uint32_t t = 0; t < spec.to->size(); ++t) {
        const auto& to = (*spec.to)[t];
        if (to.target_ref.kind.value_or(TargetRefKind::kMesh) != TargetRefKind::kMesh || !to.default_conf.backends) {
          continue;
        }
        RealWinner c{a->policy, t, 0};
        if (real_mesh.policy == nullptr || real_mesh.key() < c.key()) real_mesh = c;
      }
    }
    std::set<std::string> seen;
    for (const auto& ob : dp.spec.outbound) {
      if (!ob.port) continue;
      ListenerConfig l;
      l.info.kind = ListenerKind::kOutbound;
      l.info.address = JoinHostPort(ob.address.value_or("127.0.0.1"), *ob.port);
      if (!seen.insert(l.info.address).second) continue;
      l.info.name = "outbound:" + l.info.address;
      l.info.kuma = outbound_values;
      if (ob.backend_ref && !ob.backend_ref->kind.empty()) {
        // Real resource outbound.
        const auto& ref = *ob.backend_ref;
        std::string key, section_name, section_number, destination = ref.name, protocol;
        auto find_res = [&](const auto& resources) -> decltype(&resources.front()) {
          auto [lo, hi] = resource_by_name_.equal_range(ref.name);
          for (auto it = lo; it != hi; ++it) {
            if (it->second.first != static_cast<const void*>(&resources)) continue;
            const auto& r = resources[it->second.second];
            if (!ref.namespace_ || r.meta.namespace_.value_or("") == *ref.namespace_) return &r;
          }
          return nullptr;
        };
        const policy::ResourceMeta* meta = nullptr;
        const std::vector<policy::ServicePort>* ports = nullptr;
        if (ref.kind == "MeshService") {
          if (const auto* r = find_res(mesh_services_)) meta = &r->meta, ports = &r->spec.ports;
        } else if (ref.kind == "MeshMultiZoneService") {
          if (const auto* r = find_res(mesh_multi_zone_services_)) meta = &r->meta, ports = &r->spec.ports;
        } else if (ref.kind == "MeshExternalService") {
          if (const auto* r = find_res(mesh_external_services_)) meta = &r->meta, protocol = r->spec.match_protocol;
        }
        if (meta) {
          key = ResourceKey(ref.kind, meta->namespace_.value_or(""), meta->name);
          destination = meta->DisplayName();
        } else {
          key = ResourceKey(ref.kind, ref.namespace_.value_or(""), ref.name);
          warnings.insert("outbound " + l.info.address + ": " + ref.kind + " " + ref.name +
                          " not found in mesh " + mesh_);
        }
        if (ref.port) section_number = std::to_string(*ref.port);
        if (ports) {
          for (const auto& sp : *ports) {
            if (ref.port && sp.port == *ref.port) {
              section_name = sp.name.value_or("");
              protocol = sp.app_protocol;
            }
          }
        }
        if (protocol.empty()) protocol = LabelOr(ob.tags, kProtocolTag, "tcp");
        l.info.protocol = protocol;
        l.info.kuma.destination_service = destination;
        RealWinner w = real_mesh;
        if (auto it = real_to_.find(key); it != real_to_.end()) {
          for (const RealToEntry& e : it->second) {
            if (!applies[e.policy]) continue;
            if (!e.section.empty() && e.section != section_name && e.section != section_number) continue;
            RealWinner c{&policies_[e.policy], e.to_index, e.kind_order};
            if (w.policy == nullptr || w.key() < c.key()) w = c;
          }
        }
        emit_to(Winner{w.policy, w.to_index}, l.info.kuma, protocol, l.access_logs);
      } else {
        const std::string service = LabelOr(ob.tags, kServiceTag);
        l.info.protocol = ServiceProtocol(service, ob.tags);
        l.info.kuma.destination_service = service;
        emit_to(legacy_winner(service, dp_mesh_winner), l.info.kuma, l.info.protocol, l.access_logs);
      }
      out.listeners.push_back(std::move(l));
    }
  }

  // ---- builtin gateway listeners (§3.6) ----
  for (size_t i = 0; i < f.gateway_ports.size(); ++i) {
    const auto& gp = f.gateway_ports[i];
    ListenerConfig l;
    l.info.kind = ListenerKind::kGateway;
    std::string proto_upper = gp.protocol;
    for (char& c : proto_upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    l.info.name = "gateway:" + proto_upper + ":" + std::to_string(gp.port);
    l.info.address = JoinHostPort(dp.spec.address, gp.port);
    l.info.protocol = (proto_upper == "HTTP" || proto_upper == "HTTPS") ? "http" : "tcp";
    l.info.kuma = outbound_values;
    l.info.kuma.destination_service = "*";
    l.info.kuma_inbound = inbound_values;
    std::vector<const Applied*> pols;
    for (const Applied& a : applied) {
      if (a.gateway_port[i]) pols.push_back(&a);
    }
    emit_to(legacy_mesh_winner(pols), l.info.kuma, l.info.protocol, l.access_logs);
    AddInboundLogs(pols, inbound_values, l.info.protocol, options, l.access_logs, warnings);
    out.listeners.push_back(std::move(l));
  }

  // ---- outbound passthrough (transparent proxying, §4.2) ----
  if (f.proxy != ProxyKind::kBuiltinGateway && dp.spec.transparent_proxying && passthrough_enabled_) {
    ListenerConfig l;
    l.info.kind = ListenerKind::kPassthrough;
    const bool v6 = source_ip.find(':') != std::string::npos;
    l.info.name = v6 ? "outbound:passthrough:ipv6" : "outbound:passthrough:ipv4";
    l.info.address = JoinHostPort(v6 ? "::" : "0.0.0.0",
                                  dp.spec.transparent_proxying->redirect_port_outbound.value_or(15001));
    l.info.protocol = "tcp";
    l.info.kuma = outbound_values;
    l.info.kuma.destination_service = "external";
    emit_to(legacy_winner("pass_through", dp_mesh_winner), l.info.kuma, "tcp", l.access_logs);
    out.listeners.push_back(std::move(l));
  }

  out.warnings.insert(out.warnings.end(), warnings.begin(), warnings.end());
  return out;
}

// ------------------------------------------------------------------------------------------------
// Engine
// ------------------------------------------------------------------------------------------------

Engine::Engine(const policy::ResourceSet& world) : dataplanes_(world.dataplanes) {
  std::set<std::string> meshes;
  for (const auto& r : world.dataplanes) meshes.insert(r.meta.mesh);
  for (const auto& r : world.mesh_access_logs) meshes.insert(r.meta.mesh);
  for (const std::string& m : meshes) meshes_.emplace(m, std::make_unique<MeshIndex>(m, world));
  empty_ = std::make_unique<MeshIndex>("", policy::ResourceSet{});
}

Engine::~Engine() = default;

const MeshIndex* Engine::IndexFor(std::string_view mesh) const {
  auto it = meshes_.find(mesh);
  return it == meshes_.end() ? nullptr : it->second.get();
}

const policy::DataplaneResource* Engine::FindDataplane(std::string_view mesh, std::string_view name) const {
  for (const auto& dp : dataplanes_) {
    if (dp.meta.mesh == mesh && dp.meta.name == name) return &dp;
  }
  return nullptr;
}

DataplaneConfig Engine::Compute(const policy::DataplaneResource& dp, const ComputeOptions& options) const {
  const MeshIndex* index = IndexFor(dp.meta.mesh);
  if (index == nullptr) {
    return empty_->Compute(dp, options);
  }
  return index->Compute(dp, options);
}

}  // namespace meshlog::rules
