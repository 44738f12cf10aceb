// File: resources.h
//
// The typed in-memory model of every Kuma resource meshlog understands: MeshAccessLog (the policy),
// and the resources a policy engine needs to resolve targetRefs and endpoints: Dataplane,
// MeshService, MeshExternalService, MeshMultiZoneService, MeshGateway and MeshOpenTelemetryBackend.
// Field names follow Kuma's JSON names in snake_case (Kuma v2.14 API, see spec/policy.md §1, §4.10).
//
// Presence matters to Kuma's validator ("nil list" vs "empty list", "unset" vs ""), so every field
// Kuma declares as a pointer / omitempty is a std::optional here; fields Kuma declares as plain
// values (e.g. OpenTelemetry `endpoint`, `omitEmptyValues`, `path`) are plain values with Kuma's
// default. Maps are std::map (sorted by key, which is also the order Kuma's validator visits them).
//
// The model holds no strings where Kuma has an enum: enum fields are `std::optional<Enum>`, where
// nullopt means "absent" (a value outside the enum is reported by the decoder as a schema error and
// also leaves nullopt).
//
// Example (what the decoder produces for the seed's "all-outgoing-traffic" policy):
//   const MeshAccessLogResource& mal = ...;
//   EXPECT_EQ(mal.meta.name, "all-outgoing-traffic");
//   EXPECT_EQ(mal.spec.EffectiveTargetRef().kind, TargetRefKind::kMesh);  // absent => Mesh
//   const To& to = (*mal.spec.to)[0];
//   EXPECT_EQ(to.target_ref.kind, TargetRefKind::kMesh);
//   const Backend& b = (*to.default_conf.backends)[0];
//   EXPECT_EQ(b.type, BackendType::kFile);
//   EXPECT_EQ(b.file->path, "/dev/stdout");
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "policy/value.h"

namespace meshlog::policy {

using StringMap = std::map<std::string, std::string>;

// ------------------------------------------------------------------------------------------------
// Resource metadata (common to every kind)
// ------------------------------------------------------------------------------------------------

enum class ResourceType : uint8_t {
  kMeshAccessLog,
  kDataplane,
  kMeshService,
  kMeshExternalService,
  kMeshMultiZoneService,
  kMeshGateway,
  kMeshOpenTelemetryBackend,
  kOther,  // a Kuma resource type meshlog does not interpret (e.g. Mesh, MeshTimeout); kept, not validated
};

// "MeshAccessLog", "Dataplane", ...; "" for kOther (use ResourceMeta::type_name instead).
std::string_view ResourceTypeName(ResourceType type);
// Inverse of ResourceTypeName; nullopt for anything else.
std::optional<ResourceType> ParseResourceType(std::string_view name);

// Which YAML form a resource was written in.
enum class ResourceForm : uint8_t {
  kUniversal,   // type/name/mesh/labels/spec
  kKubernetes,  // apiVersion/kind/metadata{name,namespace,labels}/spec
};

// Where a resource came from: file path ("-" for stdin, or the name given to DecodeString), the
// 0-based index of the YAML document inside that source, and its first line (1-based).
struct SourceLocation {
  std::string path;
  int document_index = 0;
  int line = 0;
  bool operator==(const SourceLocation&) const = default;
};

struct ResourceMeta {
  ResourceType type = ResourceType::kOther;
  std::string type_name;                // as written: "MeshAccessLog", "Mesh", ...
  std::string name;                     // Universal `name` / Kubernetes `metadata.name`
  std::string mesh = "default";         // Universal `mesh` / label kuma.io/mesh; "default" when absent
  std::optional<std::string> namespace_;  // Kubernetes `metadata.namespace` only
  StringMap labels;                     // Universal `labels` / Kubernetes `metadata.labels`
  ResourceForm form = ResourceForm::kUniversal;
  // `creationTime` (Universal) / `metadata.creationTimestamp` (Kubernetes) exactly as written, when
  // present (RFC 3339). Engines ordering by age fall back to creation_order.
  std::optional<std::string> creation_time;
  // Position of this resource in the whole decode (0, 1, 2, ... across files, in load order).
  // Deterministic stand-in for "creation time" when none is written.
  uint64_t creation_order = 0;
  SourceLocation source;

  // Kuma's display name: label `kuma.io/display-name` if set, else `name`.
  const std::string& DisplayName() const;
};

// ------------------------------------------------------------------------------------------------
// targetRef and matches (api/common/v1alpha1)
// ------------------------------------------------------------------------------------------------

enum class TargetRefKind : uint8_t {
  kMesh,
  kMeshSubset,
  kMeshGateway,
  kMeshService,
  kMeshExternalService,
  kMeshMultiZoneService,
  kMeshServiceSubset,
  kMeshHTTPRoute,
  kDataplane,
};
std::string_view TargetRefKindName(TargetRefKind kind);  // "Mesh", "MeshSubset", ...
std::optional<TargetRefKind> ParseTargetRefKind(std::string_view name);

enum class ProxyType : uint8_t { kSidecar, kGateway };
std::string_view ProxyTypeName(ProxyType type);

struct TargetRef {
  std::optional<TargetRefKind> kind;  // required by the schema; nullopt only if absent/invalid
  std::optional<std::string> name;
  std::optional<std::string> namespace_;
  std::optional<StringMap> labels;
  std::optional<StringMap> tags;
  std::optional<std::string> mesh;
  std::optional<std::vector<ProxyType>> proxy_types;
  std::optional<std::string> section_name;

  bool operator==(const TargetRef&) const = default;
};

enum class SpiffeIdMatchType : uint8_t { kExact, kPrefix };
enum class SniMatchType : uint8_t { kExact };

struct SpiffeIdMatch {
  std::optional<SpiffeIdMatchType> type;
  std::string value;
  bool operator==(const SpiffeIdMatch&) const = default;
};

struct SniMatch {
  std::optional<SniMatchType> type;
  std::string value;
  bool operator==(const SniMatch&) const = default;
};

// One entry of `rules[].matches`. Both set => both must hold.
struct Match {
  std::optional<SpiffeIdMatch> spiffe_id;
  std::optional<SniMatch> sni;
  bool operator==(const Match&) const = default;
};

// ------------------------------------------------------------------------------------------------
// MeshAccessLog (pkg/plugins/policies/meshaccesslog/api/v1alpha1)
// ------------------------------------------------------------------------------------------------

enum class FormatType : uint8_t { kPlain, kJson };
enum class BackendType : uint8_t { kTcp, kFile, kOpenTelemetry };
enum class BackendRefKind : uint8_t { kMeshOpenTelemetryBackend };
std::string_view FormatTypeName(FormatType type);    // "Plain" | "Json"
std::string_view BackendTypeName(BackendType type);  // "Tcp" | "File" | "OpenTelemetry"

struct JsonValue {
  std::string key;
  std::string value;
  bool operator==(const JsonValue&) const = default;
};

struct Format {
  std::optional<FormatType> type;
  std::optional<std::string> plain;
  std::optional<std::vector<JsonValue>> json;  // nullopt = absent, empty = `json: []`
  bool omit_empty_values = false;              // schema default false
  bool operator==(const Format&) const = default;
};

struct FileBackend {
  std::optional<Format> format;  // nullopt => default format
  std::string path;
  bool operator==(const FileBackend&) const = default;
};

struct TcpBackend {
  std::optional<Format> format;  // nullopt => default format
  std::string address;
  bool operator==(const TcpBackend&) const = default;
};

struct OtelAttribute {
  std::string key;
  std::string value;
  bool operator==(const OtelAttribute&) const = default;
};

// `openTelemetry.backendRef`: selects MeshOpenTelemetryBackend resources by labels.
struct BackendResourceRef {
  std::optional<BackendRefKind> kind;
  StringMap labels;
  bool operator==(const BackendResourceRef&) const = default;
};

struct OtelBackend {
  std::optional<std::vector<OtelAttribute>> attributes;
  // Arbitrary JSON/YAML value: an OTLP AnyValue in its protobuf-JSON form
  // ({stringValue|boolValue|intValue|doubleValue|bytesValue|arrayValue|kvlistValue}) or anything
  // else (Kuma then logs the raw JSON text as a string, see policy.md §4.8).
  std::optional<Value> body;
  std::string endpoint;  // deprecated inline "host[:port]"; "" = unset (schema default "")
  std::optional<BackendResourceRef> backend_ref;
  bool operator==(const OtelBackend&) const = default;
};

struct Backend {
  std::optional<BackendType> type;
  std::optional<TcpBackend> tcp;
  std::optional<FileBackend> file;
  std::optional<OtelBackend> open_telemetry;
  bool operator==(const Backend&) const = default;
};

// `default` of a to/from/rule entry.
struct Conf {
  std::optional<std::vector<Backend>> backends;  // nullopt = "must be defined"; [] disables logging
  bool operator==(const Conf&) const = default;
};

struct To {
  TargetRef target_ref;
  Conf default_conf;  // JSON `default`
  bool operator==(const To&) const = default;
};

struct From {
  TargetRef target_ref;
  Conf default_conf;  // JSON `default`
  bool operator==(const From&) const = default;
};

struct Rule {
  std::optional<std::vector<Match>> matches;  // nullopt / empty => catch-all
  Conf default_conf;                          // JSON `default`
  bool operator==(const Rule&) const = default;
};

struct MeshAccessLogSpec {
  std::optional<TargetRef> target_ref;  // absent => {kind: Mesh} (see EffectiveTargetRef)
  std::optional<std::vector<To>> to;
  std::optional<std::vector<From>> from;  // deprecated
  std::optional<std::vector<Rule>> rules;

  // Kuma's GetTargetRef(): the written targetRef, or {kind: Mesh} when absent.
  TargetRef EffectiveTargetRef() const;
  bool operator==(const MeshAccessLogSpec&) const = default;
};

// ------------------------------------------------------------------------------------------------
// Dataplane (api/mesh/v1alpha1/dataplane.proto; Universal form `networking:` at top level)
// ------------------------------------------------------------------------------------------------

struct DataplaneInbound {
  std::optional<uint32_t> port;
  std::optional<uint32_t> service_port;
  std::optional<std::string> service_address;
  std::optional<std::string> address;  // defaults to networking.address
  std::optional<std::string> name;     // inbound name (sectionName target)
  StringMap tags;                      // kuma.io/service, kuma.io/protocol, ...
  bool operator==(const DataplaneInbound&) const = default;
};

// `outbound[].backendRef` (real-resource outbound).
struct OutboundBackendRef {
  std::string kind;  // MeshService | MeshExternalService | MeshMultiZoneService
  std::string name;
  std::optional<std::string> namespace_;
  std::optional<uint32_t> port;
  StringMap labels;
  bool operator==(const OutboundBackendRef&) const = default;
};

struct DataplaneOutbound {
  std::optional<uint32_t> port;
  std::optional<std::string> address;  // defaults to 127.0.0.1
  StringMap tags;                      // legacy: kuma.io/service
  std::optional<OutboundBackendRef> backend_ref;
  bool operator==(const DataplaneOutbound&) const = default;
};

enum class GatewayType : uint8_t { kDelegated, kBuiltin };

struct DataplaneGateway {
  GatewayType type = GatewayType::kDelegated;  // proto default
  StringMap tags;
  bool operator==(const DataplaneGateway&) const = default;
};

struct TransparentProxying {
  std::optional<uint32_t> redirect_port_inbound;
  std::optional<uint32_t> redirect_port_outbound;
  bool operator==(const TransparentProxying&) const = default;
};

struct DataplaneSpec {
  std::string address;  // networking.address
  std::optional<std::string> advertised_address;
  std::vector<DataplaneInbound> inbound;
  std::vector<DataplaneOutbound> outbound;
  std::optional<DataplaneGateway> gateway;
  std::optional<TransparentProxying> transparent_proxying;
  bool operator==(const DataplaneSpec&) const = default;
};

// ------------------------------------------------------------------------------------------------
// MeshService, MeshExternalService, MeshMultiZoneService
// ------------------------------------------------------------------------------------------------

struct ServicePort {
  std::optional<std::string> name;
  uint32_t port = 0;
  // targetPort is int-or-string in Kuma: exactly one of these is set when written.
  std::optional<uint32_t> target_port;
  std::optional<std::string> target_port_name;
  std::string app_protocol = "tcp";
  bool operator==(const ServicePort&) const = default;
};

struct MeshServiceSpec {
  StringMap selector_dataplane_tags;             // spec.selector.dataplaneTags
  std::optional<std::string> selector_dataplane_ref;  // spec.selector.dataplaneRef.name
  std::optional<StringMap> selector_dataplane_labels; // spec.selector.dataplaneLabels (newer form)
  std::vector<ServicePort> ports;
  std::vector<std::string> vips;       // status.vips[].ip
  std::vector<std::string> hostnames;  // status.addresses[].hostname
  bool operator==(const MeshServiceSpec&) const = default;
};

struct ExternalEndpoint {
  std::string address;
  std::optional<uint32_t> port;
  bool operator==(const ExternalEndpoint&) const = default;
};

struct MeshExternalServiceSpec {
  uint32_t match_port = 0;               // spec.match.port
  std::string match_protocol = "tcp";    // spec.match.protocol
  std::vector<ExternalEndpoint> endpoints;
  bool tls_enabled = false;              // spec.tls.enabled
  bool operator==(const MeshExternalServiceSpec&) const = default;
};

struct MeshMultiZoneServiceSpec {
  StringMap selector_mesh_service_labels;  // spec.selector.meshService.matchLabels
  std::vector<ServicePort> ports;
  bool operator==(const MeshMultiZoneServiceSpec&) const = default;
};

// ------------------------------------------------------------------------------------------------
// MeshGateway (builtin gateway configuration; Universal form has `selectors`/`conf` at top level)
// ------------------------------------------------------------------------------------------------

struct GatewayListener {
  uint32_t port = 0;
  std::string protocol;  // HTTP | HTTPS | TCP | TLS (as written)
  std::string hostname = "*";
  StringMap tags;
  bool operator==(const GatewayListener&) const = default;
};

struct MeshGatewaySpec {
  std::vector<StringMap> selectors;  // selectors[].match
  StringMap tags;
  std::vector<GatewayListener> listeners;  // conf.listeners
  bool operator==(const MeshGatewaySpec&) const = default;
};

// ------------------------------------------------------------------------------------------------
// MeshOpenTelemetryBackend (policy.md §4.10)
// ------------------------------------------------------------------------------------------------

enum class OtelProtocol : uint8_t { kGrpc, kHttp };
enum class OtelEnvMode : uint8_t { kDisabled, kOptional, kRequired };
enum class OtelEnvPrecedence : uint8_t { kExplicitFirst, kEnvFirst };

struct MeshOpenTelemetryBackendSpec {
  std::optional<std::string> endpoint_address;  // empty/absent => node-local default (127.0.0.1)
  std::optional<uint32_t> endpoint_port;        // absent => 4317
  std::optional<std::string> endpoint_path;     // HTTP base path (LogsPath() adds "/v1/logs")
  std::optional<OtelProtocol> protocol;         // absent => grpc
  std::optional<OtelEnvMode> env_mode;          // absent => Optional
  std::optional<OtelEnvPrecedence> env_precedence;  // absent => EnvFirst
  std::optional<bool> env_allow_signal_overrides;   // absent => true

  OtelProtocol EffectiveProtocol() const { return protocol.value_or(OtelProtocol::kGrpc); }
  uint32_t EffectivePort() const { return endpoint_port.value_or(4317); }
  // The OTLP/HTTP request path: the base path without trailing '/', with a leading '/', plus
  // "/v1/logs" (absent or "" -> "/v1/logs", "/otel/" -> "/otel/v1/logs", "otel" -> "/otel/v1/logs").
  std::string LogsPath() const {
    std::string p = endpoint_path.value_or("");
    while (!p.empty() && p.back() == '/') p.pop_back();
    if (!p.empty() && p.front() != '/') p.insert(p.begin(), '/');
    return p + "/v1/logs";
  }
  bool operator==(const MeshOpenTelemetryBackendSpec&) const = default;
};

// A resource type meshlog does not interpret: its spec is kept as written.
struct OtherSpec {
  Value raw;  // Kubernetes `spec`, or the Universal document minus type/name/mesh/labels
  bool operator==(const OtherSpec&) const = default;
};

// ------------------------------------------------------------------------------------------------
// Resources
// ------------------------------------------------------------------------------------------------

template <typename Spec>
struct TypedResource {
  ResourceMeta meta;
  Spec spec;
};

using MeshAccessLogResource = TypedResource<MeshAccessLogSpec>;
using DataplaneResource = TypedResource<DataplaneSpec>;
using MeshServiceResource = TypedResource<MeshServiceSpec>;
using MeshExternalServiceResource = TypedResource<MeshExternalServiceSpec>;
using MeshMultiZoneServiceResource = TypedResource<MeshMultiZoneServiceSpec>;
using MeshGatewayResource = TypedResource<MeshGatewaySpec>;
using MeshOpenTelemetryBackendResource = TypedResource<MeshOpenTelemetryBackendSpec>;
using OtherResource = TypedResource<OtherSpec>;

// Any one decoded resource.
using AnyResource = std::variant<MeshAccessLogResource, DataplaneResource, MeshServiceResource,
                                 MeshExternalServiceResource, MeshMultiZoneServiceResource,
                                 MeshGatewayResource, MeshOpenTelemetryBackendResource, OtherResource>;

const ResourceMeta& MetaOf(const AnyResource& r);

// All resources of a mesh world, grouped by kind, each list in creation order. This is what the
// policy engine consumes (see decode.h: CollectResources).
struct ResourceSet {
  std::vector<MeshAccessLogResource> mesh_access_logs;
  std::vector<DataplaneResource> dataplanes;
  std::vector<MeshServiceResource> mesh_services;
  std::vector<MeshExternalServiceResource> mesh_external_services;
  std::vector<MeshMultiZoneServiceResource> mesh_multi_zone_services;
  std::vector<MeshGatewayResource> mesh_gateways;
  std::vector<MeshOpenTelemetryBackendResource> mesh_open_telemetry_backends;
  std::vector<OtherResource> others;

  void Add(AnyResource r);
};

}  // namespace meshlog::policy
