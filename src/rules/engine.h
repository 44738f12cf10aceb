// File: engine.h
//
// The MeshAccessLog policy engine: given the resources of a mesh world (policy::ResourceSet), it
// computes for every listener of a dataplane which access logs it writes, with which backend,
// format (Kuma placeholders already bound) and match filter, and which policy entry produced each
// one. This is the job Kuma's control plane does before it configures Envoy (spec/policy.md §3, §4;
// Kuma v2.14 semantics).
//
// Design for scale:
//   - Engine's constructor builds one immutable MeshIndex per mesh ONCE: policies ranked by Kuma's
//     ordering (§3.3) and indexed by top-level targetRef (kind, name, first label/tag), services'
//     protocols, MeshService/MES/MMZS by name, MeshOpenTelemetryBackends, MeshGateways.
//   - Compute(dp) reads only the index and that one dataplane: computing one dataplane never touches
//     another, so recomputing a changed dataplane is a single Compute() call (Engine is immutable
//     and Compute is const: safe to call from several threads).
//
// Example (rules/world.h's LoadWorld does the loading + validation + Engine construction):
//   policy::ResourceSet world = policy::CollectResources(policy::LoadPaths({"mesh/"}));
//   rules::Engine engine(world);
//   const policy::DataplaneResource* dp = engine.FindDataplane("default", "web-1");
//   rules::DataplaneConfig config = engine.Compute(*dp);
//   for (const rules::ListenerConfig& l : config.listeners)
//     for (const rules::AccessLogConfig& log : l.access_logs)
//       // log.backend.type == policy::BackendType::kFile, log.backend.path == "/tmp/in.log",
//       // log.format.plain == "[%START_TIME%] default ... \n", log.formatter->format(info, out)
//       ...;
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "format/formatter.h"
#include "format/otel_template.h"
#include "format/otel_value.h"
#include "policy/resources.h"
#include "policy/value.h"

namespace meshlog::rules {

enum class ProxyKind : uint8_t { kSidecar, kBuiltinGateway, kDelegatedGateway };
std::string_view ProxyKindName(ProxyKind kind);  // "sidecar" | "builtin_gateway" | "delegated_gateway"

enum class ListenerKind : uint8_t { kInbound, kOutbound, kGateway, kPassthrough };

// One listener of a dataplane and the values its %KUMA_*% placeholders take (policy.md §4.2).
struct ListenerInfo {
  ListenerKind kind = ListenerKind::kInbound;
  std::string name;      // "inbound:127.0.0.1:20001", "outbound:127.0.0.1:10002",
                         // "gateway:HTTP:8080", "outbound:passthrough:ipv4"
  std::string address;   // "127.0.0.1:20001"
  std::string protocol;  // kuma.io/protocol value: "http", "tcp", "grpc", ...; default "tcp"
  // Placeholder values of the listener's OUTBOUND side. Inbound listeners: INBOUND values only.
  // Builtin gateway listeners carry both: `kuma` for the `to` logs (OUTBOUND, destination "*") and
  // `kuma_inbound` for the `rules`/`from` logs (INBOUND, source "unknown").
  format::KumaValues kuma;
  std::optional<format::KumaValues> kuma_inbound;  // gateway listeners only
};

// Where a record goes.
struct BackendConfig {
  policy::BackendType type = policy::BackendType::kFile;
  std::string path;     // File: file path. OpenTelemetry over HTTP: full request path ("/v1/logs").
  std::string address;  // Tcp: "host:port"
  // OpenTelemetry:
  std::string endpoint;       // "host:port"
  std::string otel_protocol;  // "grpc" | "http"
  std::string backend_ref;    // name of the MeshOpenTelemetryBackend used, "" for inline endpoint
  // OTLP resource attributes (policy.md §4.8): kuma.mesh, then kuma.zone and kuma.workload when
  // the dataplane has them.
  std::vector<std::pair<std::string, std::string>> resource_attributes;
  bool operator==(const BackendConfig&) const = default;
};

// The format of a File/Tcp record, or the body of an OpenTelemetry record, placeholders bound.
struct FormatConfig {
  enum class Type : uint8_t { kPlain, kJson, kOtelBody };
  Type type = Type::kPlain;
  bool is_default = false;  // Kuma's default format by protocol (policy.md §4.3)
  // kPlain: the bound format; File/Tcp get Kuma's trailing "\n", an OpenTelemetry default body not.
  std::string plain;
  std::vector<std::pair<std::string, std::string>> json;  // kJson: key -> bound value, in order
  format::OtelValue otel_body;  // kOtelBody: the configured body, string leaves/kv keys bound
  std::vector<std::pair<std::string, std::string>> otel_attributes;  // OpenTelemetry: bound, in order
  bool omit_empty_values = false;
};

// One access log of one listener.
struct AccessLogConfig {
  std::string policy;     // MeshAccessLog name
  std::string entry;      // "to[0]", "rules[1]", "from[0]"
  bool inbound = false;   // produced by rules/from (INBOUND values) rather than to (OUTBOUND)
  bool shadow = false;    // the policy is a shadow policy (kuma.io/effect: shadow)
  BackendConfig backend;
  FormatConfig format;
  std::optional<policy::Match> match;  // inbound rule match: the log fires only for matching traffic
  // Compiled by the formatter library when ComputeOptions::compile is set:
  format::FormatterPtr formatter;                          // File / Tcp
  std::shared_ptr<const format::OtelTemplate> otel;        // OpenTelemetry
  std::string compile_error;                               // non-empty: the formatter rejected it

  // Same policy entry, backend, format and match (compiled parts ignored).
  bool SameAs(const AccessLogConfig& other) const;
};

struct ListenerConfig {
  ListenerInfo info;
  std::vector<AccessLogConfig> access_logs;  // in the order they are written
};

struct DataplaneConfig {
  std::string mesh;
  std::string dataplane;
  ProxyKind proxy_kind = ProxyKind::kSidecar;
  // Listeners in order: inbound, outbound, gateway, passthrough.
  std::vector<ListenerConfig> listeners;
  std::vector<std::string> warnings;  // e.g. an OpenTelemetry backendRef that matches no backend
};

struct ComputeOptions {
  bool include_shadow = false;  // apply shadow policies (kuma.io/effect: shadow) too
  bool compile = true;          // compile formatters (CompilePlain / CompileJson / OtelTemplate)
};

// Kuma's envoy CEL filter for an inbound rule match (policy.md §4.6); "" for a catch-all.
//   MatchToCel({spiffeID: {Exact, "spiffe://a/b"}}) == R"(connection.uri_san_peer_certificate == "spiffe://a/b")"
std::string MatchToCel(const std::optional<policy::Match>& match);

// Converts a MeshAccessLog OpenTelemetry `body` (protobuf-JSON AnyValue) into an OtelValue the way
// Kuma does (policy.md §4.8): a valid AnyValue keeps its structure; anything else becomes a string
// holding the raw JSON text. No placeholder is bound here.
//   ParseOtelBody({kvlistValue: {values: [{key: mesh, value: {stringValue: x}}]}}) -> KvList{mesh: "x"}
//   ParseOtelBody("%KUMA_MESH%")  -> String("\"%KUMA_MESH%\"")   (quotes kept)
format::OtelValue ParseOtelBody(const policy::Value& body);

// Inline OpenTelemetry endpoint "host[:port]" -> "host:port" (default port 4317; a bare IPv6
// address is all host and gets brackets).
std::string NormaliseOtelEndpoint(std::string_view endpoint);

class MeshIndex;

class Engine {
 public:
  // Indexes `world` (copied: the engine owns what it needs). Invalid resources should be filtered
  // out before (meshlog inspect refuses to compute on invalid input).
  explicit Engine(const policy::ResourceSet& world);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // The dataplane named `name` in `mesh`, or nullptr.
  const policy::DataplaneResource* FindDataplane(std::string_view mesh, std::string_view name) const;
  // Every dataplane, in load order.
  const std::vector<policy::DataplaneResource>& dataplanes() const { return dataplanes_; }

  // Computes the access-log configuration of every listener of `dp` (which need not be one of
  // dataplanes(): pass a changed dataplane to recompute only it).
  DataplaneConfig Compute(const policy::DataplaneResource& dp, const ComputeOptions& options = {}) const;

 private:
  const MeshIndex* IndexFor(std::string_view mesh) const;

  std::vector<policy::DataplaneResource> dataplanes_;
  std::map<std::string, std::unique_ptr<MeshIndex>, std::less<>> meshes_;
  std::unique_ptr<MeshIndex> empty_;
};

}  // namespace meshlog::rules
