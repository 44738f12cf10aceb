// Tests of the policy engine, written from spec/policy.md: the plugin goldens of §5, the worked
// examples E1-E6 of §9, the selection rules of §3.2, every ordering tie-break of §3.3, both `to`
// engines of §3.4, the inbound fan-out of §3.5, gateways (§3.6, §3.7), placeholders (§4.1, §4.2),
// formats (§4.3) and OpenTelemetry endpoints (§4.8, §4.10).
#include "rules/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "format/stream_info.h"
#include "policy/decode.h"

namespace meshlog::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

policy::ResourceSet World(const std::string& yaml) {
  policy::DecodeResult r = policy::DecodeYaml(yaml, "test.yaml");
  EXPECT_THAT(r.errors, IsEmpty());
  for (const auto& d : r.documents) {
    EXPECT_THAT(d.schema_violations, IsEmpty()) << d.meta().name;
  }
  return policy::CollectResources(r);
}

// The plugin-test dataplane of §5: `backend` (mesh default), inbound 127.0.0.1:17777 http,
// tag-based outbounds other-service-http :27777 (http) and other-service-tcp :37777 (tcp).
const char* kBackendDp = R"(
type: Dataplane
name: backend
mesh: default
networking:
  address: 127.0.0.1
  inbound:
  - port: 17777
    tags: {kuma.io/service: backend, kuma.io/protocol: http}
  outbound:
  - port: 27777
    tags: {kuma.io/service: other-service-http}
  - port: 37777
    tags: {kuma.io/service: other-service-tcp}
---
type: Dataplane
name: other-http-1
mesh: default
networking:
  address: 127.0.0.2
  inbound:
  - port: 8080
    tags: {kuma.io/service: other-service-http, kuma.io/protocol: http}
---
type: Dataplane
name: other-tcp-1
mesh: default
networking:
  address: 127.0.0.3
  inbound:
  - port: 8080
    tags: {kuma.io/service: other-service-tcp}
)";

struct Fixture {
  explicit Fixture(const std::string& yaml, ComputeOptions options = {}) : engine(World(yaml)) {
    const auto* dp = engine.FindDataplane("default", "backend");
    if (dp == nullptr) dp = &engine.dataplanes().front();
    config = engine.Compute(*dp, options);
  }
  const ListenerConfig& L(const std::string& name) const {
    for (const auto& l : config.listeners) {
      if (l.info.name == name) return l;
    }
    ADD_FAILURE() << "no listener " << name;
    static ListenerConfig none;
    return none;
  }
  std::vector<std::string> Paths(const std::string& listener) const {
    std::vector<std::string> out;
    for (const auto& log : L(listener).access_logs) {
      out.push_back(log.backend.type == policy::BackendType::kTcp ? log.backend.address : log.backend.path);
    }
    return out;
  }
  Engine engine;
  DataplaneConfig config;
};

constexpr const char* kIn = "inbound:127.0.0.1:17777";
constexpr const char* kOutHttp = "outbound:127.0.0.1:27777";
constexpr const char* kOutTcp = "outbound:127.0.0.1:37777";

std::string Mal(const std::string& name, const std::string& spec, const std::string& labels = "{}") {
  return "---\ntype: MeshAccessLog\nname: " + name + "\nmesh: default\nlabels: " + labels + "\nspec:\n" + spec;
}

std::string ToMesh(const std::string& path) {
  return "  to:\n  - targetRef: {kind: Mesh}\n    default:\n      backends:\n      - type: File\n        file: {path: " +
         path + "}\n";
}

// `to` one entry targeting the Mesh; `backends` is the YAML list under its `default.backends:`,
// indented by six spaces. For use as the `spec` of Mal().
std::string ToMeshBackends(const std::string& backends) {
  return "  to:\n  - targetRef: {kind: Mesh}\n    default:\n      backends:\n" + backends;
}

// Dataplane `backend` (mesh default) in zone-1, namespace kuma-demo, with workload label `backend`:
// one inbound 127.0.0.1:17777 tagged `inbound_tags` and a tag-based outbound other-service-tcp :37777.
std::string WorkloadDp(const std::string& inbound_tags) {
  return R"(
type: Dataplane
name: backend
mesh: default
labels: {kuma.io/zone: zone-1, k8s.kuma.io/namespace: kuma-demo, kuma.io/workload: backend}
networking:
  address: 127.0.0.1
  inbound:
  - port: 17777
    tags: )" + inbound_tags + R"(
  outbound:
  - port: 37777
    tags: {kuma.io/service: other-service-tcp}
)";
}

std::string ToSvc(const std::string& svc, const std::string& path) {
  return "  to:\n  - targetRef: {kind: MeshService, name: " + svc +
         "}\n    default:\n      backends:\n      - type: File\n        file: {path: " + path + "}\n";
}

// ---- listeners and placeholder values (§4.2) ------------------------------------------------------

TEST(Listeners, SidecarInboundOutboundInOrderWithProtocolsAndValues) {
  Fixture f(kBackendDp);
  EXPECT_EQ(f.config.proxy_kind, ProxyKind::kSidecar);
  ASSERT_THAT(f.config.listeners, SizeIs(3));
  const auto& in = f.config.listeners[0].info;
  EXPECT_EQ(in.name, kIn);
  EXPECT_EQ(in.address, "127.0.0.1:17777");
  EXPECT_EQ(in.protocol, "http");
  EXPECT_EQ(in.kuma.direction, "INBOUND");
  EXPECT_EQ(in.kuma.source_service, "unknown");
  EXPECT_EQ(in.kuma.destination_service, "backend");
  EXPECT_EQ(in.kuma.source_ip, "127.0.0.1");
  const auto& out = f.config.listeners[1].info;
  EXPECT_EQ(out.name, kOutHttp);
  EXPECT_EQ(out.protocol, "http");  // the protocol of the service's inbounds
  EXPECT_EQ(out.kuma.direction, "OUTBOUND");
  EXPECT_EQ(out.kuma.source_service, "backend");
  EXPECT_EQ(out.kuma.destination_service, "other-service-http");
  EXPECT_EQ(f.config.listeners[2].info.protocol, "tcp");  // no kuma.io/protocol => tcp
}

TEST(Listeners, DuplicatePortInboundsAreOneListenerWithFirstServiceAsDestination) {
  // golden inbound_route_duplicate_port: backend + backend-canary on the same port -> one logger, dest backend.
  Fixture f(std::string(R"(
type: Dataplane
name: backend
mesh: default
networking:
  address: 127.0.0.1
  inbound:
  - port: 17777
    tags: {kuma.io/service: backend-canary, kuma.io/protocol: http}
  - port: 17777
    tags: {kuma.io/service: backend, kuma.io/protocol: http}
)") + Mal("all", "  rules:\n  - default:\n      backends:\n      - type: File\n        file: {path: /tmp/in}\n"));
  ASSERT_THAT(f.config.listeners, SizeIs(1));
  EXPECT_EQ(f.config.listeners[0].info.kuma.destination_service, "backend");
  EXPECT_THAT(f.Paths(kIn), ElementsAre("/tmp/in"));
}

TEST(Listeners, AdvertisedAddressIsTheSourceAddress) {
  Fixture f(R"(
type: Dataplane
name: backend
mesh: default
networking:
  address: 10.0.0.1
  advertisedAddress: 192.168.0.1
  inbound:
  - port: 80
    tags: {kuma.io/service: b}
)");
  EXPECT_EQ(f.config.listeners[0].info.name, "inbound:10.0.0.1:80");
  EXPECT_EQ(f.config.listeners[0].info.kuma.source_ip, "192.168.0.1");
}

TEST(Listeners, PassthroughWithTransparentProxyingHasExternalDestinationAndTcpFormat) {
  Fixture f(std::string(R"(
type: Dataplane
name: backend
mesh: default
networking:
  address: 10.0.0.1
  inbound:
  - port: 80
    tags: {kuma.io/service: web, kuma.io/protocol: http}
  transparentProxying: {redirectPortInbound: 15006, redirectPortOutbound: 15001}
)") + Mal("out", ToMesh("/tmp/out")));
  ASSERT_THAT(f.config.listeners, SizeIs(2));
  const auto& pt = f.config.listeners[1];
  EXPECT_EQ(pt.info.kind, ListenerKind::kPassthrough);
  EXPECT_EQ(pt.info.name, "outbound:passthrough:ipv4");
  EXPECT_EQ(pt.info.protocol, "tcp");
  EXPECT_EQ(pt.info.kuma.destination_service, "external");
  EXPECT_EQ(pt.info.kuma.source_service, "web");
  ASSERT_THAT(pt.access_logs, SizeIs(1));
  EXPECT_EQ(pt.access_logs[0].format.plain,
            "[%START_TIME%] %RESPONSE_FLAGS% default 10.0.0.1(web)->%UPSTREAM_HOST%(external) took %DURATION%ms, "
            "sent %BYTES_SENT% bytes, received: %BYTES_RECEIVED% bytes\n");
}

TEST(Listeners, NoPassthroughWhenMeshDisablesIt) {
  Fixture f(R"(
type: Mesh
name: default
networking: {outbound: {passthrough: false}}
---
type: Dataplane
name: backend
mesh: default
networking:
  address: 10.0.0.1
  inbound:
  - port: 80
    tags: {kuma.io/service: web}
  transparentProxying: {redirectPortOutbound: 15001}
)");
  ASSERT_THAT(f.config.listeners, SizeIs(1));
}

TEST(Placeholders, WorkloadIdentityAndAllPlaceholders) {
  // golden outbound_file_workload_identity.
  Fixture f(WorkloadDp("{kuma.io/service: backend, kuma.io/protocol: http}") + Mal("wl", ToMeshBackends(R"(      - type: File
        file:
          path: /tmp/log
          format: {type: Plain, plain: "%KUMA_MESH% %KUMA_ZONE% %KUMA_WORKLOAD%"}
      - type: File
        file:
          path: /tmp/log2
          format: {type: Plain, plain: "%KUMA_SOURCE_ADDRESS% %KUMA_SOURCE_ADDRESS_WITHOUT_PORT% %KUMA_SOURCE_SERVICE% %KUMA_DESTINATION_SERVICE% %KUMA_TRAFFIC_DIRECTION%"}
)")));
  const auto& logs = f.L(kOutTcp).access_logs;
  ASSERT_THAT(logs, SizeIs(2));
  EXPECT_EQ(logs[0].format.plain, "default zone-1 kri_wl_default_zone-1_kuma-demo_backend_\n");
  EXPECT_EQ(logs[1].format.plain, "127.0.0.1:0 127.0.0.1 backend other-service-tcp OUTBOUND\n");
}

TEST(Placeholders, OtelWorkloadIdentity) {
  // golden outbound_otel_workload_identity: body, attributes (keys too) and resource attributes.
  Fixture f(WorkloadDp("{kuma.io/service: backend}") + Mal("wl", ToMeshBackends(R"(      - type: OpenTelemetry
        openTelemetry:
          endpoint: otel-collector
          body: {stringValue: "%KUMA_MESH% %KUMA_ZONE% %KUMA_WORKLOAD%"}
          attributes: [{key: static.zone, value: "%KUMA_ZONE%"}]
)")));
  const auto& log = f.L(kOutTcp).access_logs.at(0);
  EXPECT_EQ(log.format.otel_body, format::OtelValue::String("default zone-1 kri_wl_default_zone-1_kuma-demo_backend_"));
  EXPECT_THAT(log.format.otel_attributes, ElementsAre(std::pair<std::string, std::string>{"static.zone", "zone-1"}));
  EXPECT_THAT(log.backend.resource_attributes,
              ElementsAre(std::pair<std::string, std::string>{"kuma.mesh", "default"},
                          std::pair<std::string, std::string>{"kuma.zone", "zone-1"},
                          std::pair<std::string, std::string>{"kuma.workload", "kri_wl_default_zone-1_kuma-demo_backend_"}));
}

TEST(Placeholders, IdentifyingServiceIsAlphabeticallyFirst) {
  Fixture f(R"(
type: Dataplane
name: backend
mesh: default
networking:
  address: 127.0.0.1
  inbound:
  - port: 1
    tags: {kuma.io/service: zeta}
  - port: 2
    tags: {kuma.io/service: alpha}
  outbound:
  - port: 3
    tags: {kuma.io/service: x}
)");
  EXPECT_EQ(f.config.listeners[0].info.kuma.destination_service, "alpha");
  EXPECT_EQ(f.config.listeners[1].info.kuma.destination_service, "alpha");
  EXPECT_EQ(f.config.listeners[2].info.kuma.source_service, "alpha");
}

// ---- formats (§4.3) --------------------------------------------------------------------------------

TEST(Formats, DefaultPlainJsonAndNewlines) {
  Fixture f(std::string(kBackendDp) + Mal("fmt", ToMeshBackends(R"(      - type: File
        file: {path: /tmp/default}
      - type: File
        file:
          path: /tmp/plain
          format: {type: Plain, plain: "custom format [%START_TIME%] %RESPONSE_FLAGS%", omitEmptyValues: true}
      - type: File
        file:
          path: /tmp/json
          format:
            type: Json
            json: [{key: duration, value: "%DURATION%"}, {key: dst, value: "%KUMA_DESTINATION_SERVICE%"}]
      - type: Tcp
        tcp: {address: "logging.backend:5000"}
)")));
  // basic_outbound: HTTP default with "backend" "other-service-http" "127.0.0.1", plus "\n".
  const auto& http = f.L(kOutHttp).access_logs;
  ASSERT_THAT(http, SizeIs(4));
  EXPECT_TRUE(http[0].format.is_default);
  EXPECT_EQ(http[0].format.plain,
            R"([%START_TIME%] default "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "backend" "other-service-http" "127.0.0.1" "%UPSTREAM_HOST%")"
            "\n");
  // outbound_file_backend_default_format (tcp outbound).
  const auto& tcp = f.L(kOutTcp).access_logs;
  EXPECT_EQ(tcp[0].format.plain,
            "[%START_TIME%] %RESPONSE_FLAGS% default 127.0.0.1(backend)->%UPSTREAM_HOST%(other-service-tcp) took "
            "%DURATION%ms, sent %BYTES_SENT% bytes, received: %BYTES_RECEIVED% bytes\n");
  EXPECT_FALSE(tcp[0].format.omit_empty_values);
  // outbound_file_backend_plain_format.
  EXPECT_EQ(tcp[1].format.type, FormatConfig::Type::kPlain);
  EXPECT_EQ(tcp[1].format.plain, "custom format [%START_TIME%] %RESPONSE_FLAGS%\n");
  EXPECT_TRUE(tcp[1].format.omit_empty_values);
  // outbound_file_backend_json_format: values bound, no newline added.
  EXPECT_EQ(tcp[2].format.type, FormatConfig::Type::kJson);
  EXPECT_THAT(tcp[2].format.json, ElementsAre(std::pair<std::string, std::string>{"duration", "%DURATION%"},
                                              std::pair<std::string, std::string>{"dst", "other-service-tcp"}));
  // outbound_tcp_backend_default_format: the TCP backend's message is the default + "\n".
  EXPECT_EQ(tcp[3].backend.type, policy::BackendType::kTcp);
  EXPECT_EQ(tcp[3].backend.address, "logging.backend:5000");
  EXPECT_EQ(tcp[3].format.plain, tcp[0].format.plain);
  // Every format compiled.
  for (const auto& log : tcp) {
    EXPECT_NE(log.formatter, nullptr) << log.compile_error;
    EXPECT_EQ(log.compile_error, "");
  }
}

TEST(Formats, CompiledFormatterRendersTheBoundFormat) {
  Fixture f(std::string(kBackendDp) + Mal("fmt", ToMeshBackends(R"(      - type: File
        file:
          path: /tmp/plain
          format: {type: Plain, plain: "%KUMA_MESH% %KUMA_DESTINATION_SERVICE%"}
)")));
  const auto& log = f.L(kOutTcp).access_logs.at(0);
  ASSERT_NE(log.formatter, nullptr);
  format::StreamInfo info;
  std::string out;
  log.formatter->format(info, out);
  EXPECT_EQ(out, "default other-service-tcp\n");
}

TEST(Formats, NoCompileWhenNotAsked) {
  ComputeOptions o;
  o.compile = false;
  Fixture f(std::string(kBackendDp) + Mal("m", ToMesh("/tmp/a")), o);
  EXPECT_EQ(f.L(kOutTcp).access_logs.at(0).formatter, nullptr);
  EXPECT_EQ(f.L(kOutTcp).access_logs.at(0).format.plain.back(), '\n');
}

// ---- OpenTelemetry (§4.8, §4.10) -------------------------------------------------------------------

TEST(OpenTelemetry, InlineEndpointDefaultPortAndBodies) {
  // golden outbound_otel_backend_plain_format{,_1,_2}.
  Fixture f(std::string(kBackendDp) + Mal("otel", ToMeshBackends(R"(      - type: OpenTelemetry
        openTelemetry: {endpoint: otel-collector}
      - type: OpenTelemetry
        openTelemetry:
          endpoint: otel-collector
          body: {stringValue: "%KUMA_MESH%"}
      - type: OpenTelemetry
        openTelemetry:
          endpoint: "other-otel-collector:5317"
          body: {kvlistValue: {values: [{key: mesh, value: {stringValue: "%KUMA_MESH%"}}]}}
          attributes: [{key: dst, value: "%KUMA_DESTINATION_SERVICE% %START_TIME%"}]
)")));
  const auto& logs = f.L(kOutTcp).access_logs;
  ASSERT_THAT(logs, SizeIs(3));
  EXPECT_EQ(logs[0].backend.endpoint, "otel-collector:4317");
  EXPECT_EQ(logs[0].backend.otel_protocol, "grpc");
  EXPECT_TRUE(logs[0].format.is_default);
  EXPECT_EQ(logs[0].format.plain,  // default TCP format, no "\n"
            "[%START_TIME%] %RESPONSE_FLAGS% default 127.0.0.1(backend)->%UPSTREAM_HOST%(other-service-tcp) took "
            "%DURATION%ms, sent %BYTES_SENT% bytes, received: %BYTES_RECEIVED% bytes");
  EXPECT_EQ(logs[1].format.type, FormatConfig::Type::kOtelBody);
  EXPECT_EQ(logs[1].format.otel_body, format::OtelValue::String("default"));
  EXPECT_EQ(logs[2].backend.endpoint, "other-otel-collector:5317");
  EXPECT_EQ(logs[2].format.otel_body,
            format::OtelValue::KvList({{"mesh", format::OtelValue::String("default")}}));
  EXPECT_THAT(logs[2].format.otel_attributes,
              ElementsAre(std::pair<std::string, std::string>{"dst", "other-service-tcp %START_TIME%"}));
  for (const auto& log : logs) EXPECT_NE(log.otel, nullptr) << log.compile_error;
}

TEST(OpenTelemetry, BackendRefLabelsMatchOldestWinsAndNoneIsSkippedWithWarning) {
  Fixture f(std::string(kBackendDp) + R"(
---
type: MeshOpenTelemetryBackend
name: newer
mesh: default
labels: {team: obs}
creationTime: "2026-02-01T00:00:00Z"
spec:
  endpoint: {address: newer.collector, port: 4318}
  protocol: http
---
type: MeshOpenTelemetryBackend
name: older
mesh: default
labels: {team: obs, env: prod}
creationTime: "2026-01-01T00:00:00Z"
spec:
  endpoint: {address: older.collector, port: 4318, path: /otlp/}
  protocol: http
---
type: MeshOpenTelemetryBackend
name: defaults
mesh: default
labels: {kind: defaults}
spec: {}
)" + Mal("otel", ToMeshBackends(R"(      - type: OpenTelemetry
        openTelemetry: {backendRef: {kind: MeshOpenTelemetryBackend, labels: {team: obs}}}
      - type: OpenTelemetry
        openTelemetry: {backendRef: {kind: MeshOpenTelemetryBackend, labels: {team: nobody}}}
      - type: OpenTelemetry
        openTelemetry: {backendRef: {kind: MeshOpenTelemetryBackend, labels: {kind: defaults}}}
)")));
  const auto& logs = f.L(kOutTcp).access_logs;
  ASSERT_THAT(logs, SizeIs(2));  // the dangling ref is skipped
  EXPECT_EQ(logs[0].backend.backend_ref, "older");
  EXPECT_EQ(logs[0].backend.endpoint, "older.collector:4318");
  EXPECT_EQ(logs[0].backend.otel_protocol, "http");
  EXPECT_EQ(logs[0].backend.path, "/otlp/v1/logs");
  EXPECT_EQ(logs[1].backend.endpoint, "127.0.0.1:4317");  // MOTB defaults
  EXPECT_THAT(logs[0].backend.resource_attributes,
              ElementsAre(std::pair<std::string, std::string>{"kuma.mesh", "default"}));
  EXPECT_EQ(logs[1].backend.otel_protocol, "grpc");
  ASSERT_THAT(f.config.warnings, SizeIs(1));
  EXPECT_THAT(f.config.warnings[0], HasSubstr("team=nobody"));
  EXPECT_THAT(f.config.warnings[0], HasSubstr("skipped"));
}

TEST(OpenTelemetry, BackendRefOldestByLoadOrderWithoutCreationTime) {
  Fixture f(std::string(kBackendDp) + R"(
---
type: MeshOpenTelemetryBackend
name: b-first
mesh: default
labels: {team: obs}
spec: {endpoint: {address: first}}
---
type: MeshOpenTelemetryBackend
name: a-second
mesh: default
labels: {team: obs}
spec: {endpoint: {address: second}}
)" + Mal("otel", ToMeshBackends(R"(      - type: OpenTelemetry
        openTelemetry: {backendRef: {kind: MeshOpenTelemetryBackend, labels: {team: obs}}}
)")));
  EXPECT_EQ(f.L(kOutTcp).access_logs.at(0).backend.endpoint, "first:4317");
}

TEST(OpenTelemetry, ParseBody) {
  using policy::Value;
  using format::OtelValue;
  EXPECT_EQ(ParseOtelBody(Value::MakeObject({{"stringValue", Value::String("x")}})), OtelValue::String("x"));
  OtelValue i = ParseOtelBody(Value::MakeObject({{"intValue", Value::String("123")}}));
  EXPECT_EQ(i.kind, OtelValue::Kind::kInt);
  EXPECT_EQ(i.int_value, 123);
  OtelValue b = ParseOtelBody(Value::MakeObject({{"bytesValue", Value::String("aGVsbG8=")}}));
  EXPECT_EQ(b.kind, OtelValue::Kind::kBytes);
  EXPECT_EQ(b.string_value, "hello");
  OtelValue arr = ParseOtelBody(Value::MakeObject(
      {{"arrayValue", Value::MakeObject({{"values", Value::MakeArray({Value::MakeObject({{"boolValue", Value::Bool(true)}})})}})}}));
  ASSERT_EQ(arr.kind, OtelValue::Kind::kArray);
  EXPECT_TRUE(arr.array_values.at(0).bool_value);
  // Not an AnyValue: the raw JSON text (quotes kept for a scalar string, §4.8 [inferred]).
  EXPECT_EQ(ParseOtelBody(Value::String("%KUMA_MESH%")), OtelValue::String("\"%KUMA_MESH%\""));
  // The seed's mis-indented kvlist: {kvlistValue: null, values: [...]} has an unknown field.
  Value seed = Value::MakeObject({{"kvlistValue", Value::Null()}, {"values", Value::MakeArray({})}});
  EXPECT_EQ(ParseOtelBody(seed), OtelValue::String(R"({"kvlistValue":null,"values":[]})"));
  // oneof set twice.
  EXPECT_EQ(ParseOtelBody(Value::MakeObject({{"stringValue", Value::String("a")}, {"boolValue", Value::Bool(true)}})).kind,
            OtelValue::Kind::kString);
  EXPECT_EQ(ParseOtelBody(Value::MakeObject({{"stringValue", Value::String("a")}, {"boolValue", Value::Bool(true)}})).string_value,
            R"({"boolValue":true,"stringValue":"a"})");
}

TEST(OpenTelemetry, NormaliseEndpoint) {
  EXPECT_EQ(NormaliseOtelEndpoint("otel-collector"), "otel-collector:4317");
  EXPECT_EQ(NormaliseOtelEndpoint("otel:5317"), "otel:5317");
  EXPECT_EQ(NormaliseOtelEndpoint("otel:"), "otel:4317");
  EXPECT_EQ(NormaliseOtelEndpoint("[::1]:9000"), "[::1]:9000");
  EXPECT_EQ(NormaliseOtelEndpoint("[::1]"), "[::1]:4317");
  EXPECT_EQ(NormaliseOtelEndpoint("fd00::1"), "[fd00::1]:4317");  // bare IPv6 = host only
}

// ---- selection (§3.2) ---------------------------------------------------------------------------

// A web dataplane with labels and two named inbounds, used by the selection tests.
const char* kWebDp = R"(
type: Dataplane
name: web-1
mesh: default
labels: {app: web, version: v1}
networking:
  address: 10.0.0.1
  inbound:
  - port: 8080
    name: http
    tags: {kuma.io/service: web, kuma.io/protocol: http, version: v1}
  - port: 9090
    name: metrics
    tags: {kuma.io/service: web-metrics}
  outbound:
  - port: 10001
    tags: {kuma.io/service: db}
)";

std::string RulesTo(const std::string& path) {
  return "  rules:\n  - default:\n      backends:\n      - type: File\n        file: {path: " + path + "}\n";
}

struct Sel {
  explicit Sel(const std::string& policies, ComputeOptions o = {}) : f(std::string(kWebDp) + policies, o) {}
  std::vector<std::string> http() const { return f.Paths("inbound:10.0.0.1:8080"); }
  std::vector<std::string> metrics() const { return f.Paths("inbound:10.0.0.1:9090"); }
  std::vector<std::string> out() const { return f.Paths("outbound:127.0.0.1:10001"); }
  Fixture f;
};

TEST(Selection, MeshSelectsEverything) {
  Sel s(Mal("p", RulesTo("/in") + ToMesh("/out").substr(0)));
  EXPECT_THAT(s.http(), ElementsAre("/in"));
  EXPECT_THAT(s.metrics(), ElementsAre("/in"));
  EXPECT_THAT(s.out(), ElementsAre("/out"));
}

TEST(Selection, DataplaneByNameLabelsAndSectionName) {
  Sel s(Mal("by-name", "  targetRef: {kind: Dataplane, name: web-1}\n" + RulesTo("/name")) +
        Mal("by-other-name", "  targetRef: {kind: Dataplane, name: web-2}\n" + RulesTo("/other")) +
        Mal("by-labels", "  targetRef: {kind: Dataplane, labels: {app: web}}\n" + RulesTo("/labels")) +
        Mal("by-wrong-labels", "  targetRef: {kind: Dataplane, labels: {app: web, version: v2}}\n" + RulesTo("/wrong")) +
        Mal("section-name", "  targetRef: {kind: Dataplane, name: web-1, sectionName: metrics}\n" + RulesTo("/sec")) +
        Mal("section-port", "  targetRef: {kind: Dataplane, labels: {app: web}, sectionName: \"8080\"}\n" +
                                RulesTo("/port")));
  // Order: by labels < by labels+section < by name < by name+section (§3.3 step 2).
  EXPECT_THAT(s.http(), ElementsAre("/labels", "/port", "/name"));
  EXPECT_THAT(s.metrics(), ElementsAre("/labels", "/name", "/sec"));
}

TEST(Selection, MeshSubsetMeshServiceAndMeshServiceSubsetSelectInbounds) {
  Sel s(Mal("subset", "  targetRef: {kind: MeshSubset, tags: {version: v1}}\n" + RulesTo("/subset")) +
        Mal("svc", "  targetRef: {kind: MeshService, name: web-metrics}\n" + RulesTo("/svc")) +
        Mal("svc-subset", "  targetRef: {kind: MeshServiceSubset, name: web, tags: {version: v1}}\n" + RulesTo("/ss")) +
        Mal("svc-subset-no", "  targetRef: {kind: MeshServiceSubset, name: web, tags: {version: v2}}\n" + RulesTo("/no")));
  EXPECT_THAT(s.http(), ElementsAre("/subset", "/ss"));
  EXPECT_THAT(s.metrics(), ElementsAre("/svc"));
}

TEST(Selection, InboundSelectingPolicyAppliesItsToToTheWholeDataplane) {
  Sel s(Mal("svc", "  targetRef: {kind: MeshService, name: web-metrics}\n" + ToMesh("/out")) +
        Mal("svc-other", "  targetRef: {kind: MeshService, name: nope}\n" + ToMesh("/nope")));
  EXPECT_THAT(s.out(), ElementsAre("/out"));
}

TEST(Selection, ProxyTypes) {
  Sel s(Mal("sidecars", "  targetRef: {kind: Mesh, proxyTypes: [Sidecar]}\n" + RulesTo("/sidecar")) +
        Mal("gateways", "  targetRef: {kind: Mesh, proxyTypes: [Gateway]}\n" + RulesTo("/gateway")));
  EXPECT_THAT(s.http(), ElementsAre("/sidecar"));
}

TEST(Selection, ShadowPoliciesIgnoredUnlessAsked) {
  const std::string p = Mal("shadow", RulesTo("/shadow"), "{kuma.io/effect: shadow}") + Mal("real", RulesTo("/real"));
  EXPECT_THAT(Sel(p).http(), ElementsAre("/real"));
  ComputeOptions o;
  o.include_shadow = true;
  Sel with(p, o);
  EXPECT_THAT(with.http(), ElementsAre("/shadow", "/real"));  // names descending: "shadow" > "real"
  EXPECT_TRUE(with.f.L("inbound:10.0.0.1:8080").access_logs[0].shadow);
}

TEST(Selection, ZoneAndNamespaceFilters) {
  const std::string dp = R"(
type: Dataplane
name: web-1
mesh: default
labels: {kuma.io/zone: zone-1, k8s.kuma.io/namespace: shop}
networking:
  address: 10.0.0.1
  inbound:
  - port: 8080
    tags: {kuma.io/service: web}
)";
  auto k8s_mal = [](const std::string& name, const std::string& ns, const std::string& role, const std::string& path) {
    return "---\napiVersion: kuma.io/v1alpha1\nkind: MeshAccessLog\nmetadata:\n  name: " + name + "\n  namespace: " +
           ns + "\n  labels: {kuma.io/mesh: default, kuma.io/policy-role: " + role + "}\nspec:\n" + RulesTo(path);
  };
  Fixture f(dp + Mal("zone-2", RulesTo("/zone2"), "{kuma.io/origin: zone, kuma.io/zone: zone-2}") +
            Mal("zone-1", RulesTo("/zone1"), "{kuma.io/origin: zone, kuma.io/zone: zone-1}") +
            k8s_mal("owner-same", "shop", "workload-owner", "/same") +
            k8s_mal("owner-other", "bank", "workload-owner", "/other") +
            k8s_mal("system", "kuma-system", "system", "/system"));
  // origin (zone last) is compared before role (workload-owner after system).
  EXPECT_THAT(f.Paths("inbound:10.0.0.1:8080"), ElementsAre("/system", "/same", "/zone1"));
}

TEST(Selection, KubernetesRolesAreComputedWhenTheLabelIsMissing) {
  // policy.md §2.5 ComputePolicyRole: rules-only policies in a namespace are workload-owner and,
  // like consumer policies, apply only to dataplanes of their namespace; kuma-system is system.
  const std::string dp = R"(
apiVersion: kuma.io/v1alpha1
kind: Dataplane
metadata: {name: web-1, namespace: shop, labels: {kuma.io/mesh: default}}
spec:
  networking:
    address: 10.0.0.1
    inbound:
    - port: 8080
      tags: {kuma.io/service: web_shop_svc_8080}
    outbound:
    - port: 10001
      tags: {kuma.io/service: api_shop_svc_80}
)";
  auto k8s = [](const std::string& name, const std::string& ns, const std::string& spec) {
    return "---\napiVersion: kuma.io/v1alpha1\nkind: MeshAccessLog\nmetadata:\n  name: " + name +
           "\n  namespace: " + ns + "\n  labels: {kuma.io/mesh: default}\nspec:\n" + spec;
  };
  Fixture f(dp + k8s("same-ns", "shop", RulesTo("/same")) + k8s("other-ns", "bank", RulesTo("/other")) +
            k8s("system", "kuma-system", RulesTo("/system")) +
            // producer (to MeshService by name) ranks below consumer (to Mesh), whatever the names.
            k8s("a-producer", "shop", ToSvc("api_shop_svc_80", "/producer")) +
            k8s("z-consumer", "shop", ToMesh("/consumer")) +
            k8s("consumer-elsewhere", "bank", ToMesh("/elsewhere")));
  EXPECT_THAT(f.Paths("inbound:10.0.0.1:8080"), ElementsAre("/system", "/same"));
  EXPECT_THAT(f.Paths("outbound:127.0.0.1:10001"), ElementsAre("/consumer"));
}

// ---- ordering (§3.3): each tie-break decides which `to: Mesh` entry wins -------------------------

std::string WinnerOf(const std::string& policies) {
  Fixture f(std::string(kBackendDp) + policies);
  auto paths = f.Paths(kOutTcp);
  return paths.empty() ? "" : paths[0];
}

TEST(Ordering, TopLevelKind) {
  EXPECT_EQ(WinnerOf(Mal("a-mesh", ToMesh("/mesh")) +
                     Mal("z-dp", "  targetRef: {kind: Dataplane, name: backend}\n" + ToMesh("/dp"))),
            "/dp");
  EXPECT_EQ(WinnerOf(Mal("a-dp", "  targetRef: {kind: Dataplane, name: backend}\n" + ToMesh("/dp")) +
                     Mal("z-subset", "  targetRef: {kind: MeshSubset, tags: {kuma.io/service: backend}}\n" + ToMesh("/subset"))),
            "/subset");
  EXPECT_EQ(WinnerOf(Mal("a-subset", "  targetRef: {kind: MeshSubset, tags: {kuma.io/service: backend}}\n" + ToMesh("/subset")) +
                     Mal("z-svc", "  targetRef: {kind: MeshService, name: backend}\n" + ToMesh("/svc"))),
            "/svc");
  EXPECT_EQ(WinnerOf(Mal("a-svc", "  targetRef: {kind: MeshService, name: backend}\n" + ToMesh("/svc")) +
                     Mal("z-ss", "  targetRef: {kind: MeshServiceSubset, name: backend, tags: {kuma.io/protocol: http}}\n" +
                                     ToMesh("/ss"))),
            "/ss");
}

TEST(Ordering, DataplaneByNameBeatsLabelsBeatsBare) {
  const std::string dp = R"(
type: Dataplane
name: backend
mesh: default
labels: {app: backend}
networking:
  address: 127.0.0.1
  inbound:
  - port: 17777
    tags: {kuma.io/service: backend}
  outbound:
  - port: 37777
    tags: {kuma.io/service: other-service-tcp}
)";
  Fixture f(dp + Mal("a-bare", "  targetRef: {kind: Dataplane}\n" + ToMesh("/bare")) +
            Mal("b-labels", "  targetRef: {kind: Dataplane, labels: {app: backend}}\n" + ToMesh("/labels")));
  EXPECT_THAT(f.Paths(kOutTcp), ElementsAre("/labels"));
  Fixture g(dp + Mal("a-labels", "  targetRef: {kind: Dataplane, labels: {app: backend}}\n" + ToMesh("/labels")) +
            Mal("b-name", "  targetRef: {kind: Dataplane, name: backend}\n" + ToMesh("/name")));
  EXPECT_THAT(g.Paths(kOutTcp), ElementsAre("/name"));
}

TEST(Ordering, SectionNameBeatsNoSectionName) {
  // Inbound policies (sectionName needs one): order shows in the fan-out order.
  Sel s(Mal("a-plain", "  targetRef: {kind: Dataplane, name: web-1}\n" + RulesTo("/plain")) +
        Mal("z-section", "  targetRef: {kind: Dataplane, name: web-1, sectionName: http}\n" + RulesTo("/section")));
  EXPECT_THAT(s.http(), ElementsAre("/plain", "/section"));
}

TEST(Ordering, OriginZoneBeatsUnsetBeatsGlobal) {
  EXPECT_EQ(WinnerOf(Mal("a-unset", ToMesh("/unset")) + Mal("z-global", ToMesh("/global"), "{kuma.io/origin: global}")),
            "/unset");
  EXPECT_EQ(WinnerOf(Mal("a-unset", ToMesh("/unset")) + Mal("z-zone", ToMesh("/zone"), "{kuma.io/origin: zone}")),
            "/zone");
}

TEST(Ordering, RoleOrder) {
  EXPECT_EQ(WinnerOf(Mal("a-system", ToMesh("/system")) +
                     Mal("z-producer", ToMesh("/producer"), "{kuma.io/policy-role: producer}")),
            "/producer");
  EXPECT_EQ(WinnerOf(Mal("a-producer", ToMesh("/producer"), "{kuma.io/policy-role: producer}") +
                     Mal("z-consumer", ToMesh("/consumer"), "{kuma.io/policy-role: consumer}")),
            "/consumer");
}

TEST(Ordering, DisplayNameSmallestWinsAndDisplayNameLabelCounts) {
  EXPECT_EQ(WinnerOf(Mal("b", ToMesh("/b")) + Mal("a", ToMesh("/a")) + Mal("c", ToMesh("/c"))), "/a");
  // kuma.io/display-name overrides the name for ordering.
  EXPECT_EQ(WinnerOf(Mal("a", ToMesh("/a"), "{kuma.io/display-name: zz}") + Mal("b", ToMesh("/b"))), "/b");
}

TEST(Ordering, MeshGatewayWithMoreTagsWins) {
  const std::string gw = R"(
type: Dataplane
name: gw-1
mesh: default
networking:
  address: 10.0.0.9
  gateway: {type: BUILTIN, tags: {kuma.io/service: edge}}
---
type: MeshGateway
name: edge
mesh: default
selectors: [{match: {kuma.io/service: edge}}]
conf:
  listeners:
  - port: 8080
    protocol: HTTP
    tags: {port: http-8080}
)";
  Fixture f(gw + Mal("a-gw", "  targetRef: {kind: MeshGateway, name: edge}\n" + ToMesh("/gw")) +
            Mal("z-gw-tags", "  targetRef: {kind: MeshGateway, name: edge, tags: {port: http-8080}}\n" + ToMesh("/tags")));
  EXPECT_THAT(f.Paths("gateway:HTTP:8080"), ElementsAre("/tags"));
}

// ---- outbound `to`, legacy engine (§3.4 a) ---------------------------------------------------------

TEST(LegacyTo, E3SameTopLevelOrderedByNamesOnly) {
  EXPECT_EQ(WinnerOf(Mal("z-all", ToMesh("/a")) + Mal("a-svc", ToSvc("other-service-tcp", "/b"))), "/b");
  EXPECT_EQ(WinnerOf(Mal("a-all", ToMesh("/a")) + Mal("z-svc", ToSvc("other-service-tcp", "/b"))), "/a");
}

TEST(LegacyTo, MeshServiceEntryAppliesOnlyToItsService) {
  // golden outbound_route_without_match: a rule for kuma.io/service=other -> no log on other-service-http.
  Fixture f(std::string(kBackendDp) + Mal("p", ToSvc("other", "/other")));
  EXPECT_THAT(f.Paths(kOutHttp), IsEmpty());
  Fixture g(std::string(kBackendDp) + Mal("p", ToMesh("/all") + ToSvc("other-service-http", "/svc").substr(6)));
  EXPECT_THAT(g.Paths(kOutHttp), ElementsAre("/svc"));
  EXPECT_THAT(g.Paths(kOutTcp), ElementsAre("/all"));
  EXPECT_EQ(g.L(kOutHttp).access_logs[0].entry, "to[1]");
}

TEST(LegacyTo, E4EmptyBackendsDisable) {
  Fixture f(std::string(kBackendDp) + Mal("z-all", ToMesh("/a")) +
            Mal("a-off", "  to:\n  - targetRef: {kind: MeshService, name: other-service-tcp}\n    default: {backends: []}\n"));
  EXPECT_THAT(f.Paths(kOutTcp), IsEmpty());
  EXPECT_THAT(f.Paths(kOutHttp), ElementsAre("/a"));
}

TEST(LegacyTo, HigherPriorityListReplacesNoAppend) {
  Fixture f(std::string(kBackendDp) +
            Mal("z-two", "  to:\n  - targetRef: {kind: Mesh}\n    default:\n      backends:\n      - type: File\n"
                         "        file: {path: /1}\n      - type: File\n        file: {path: /2}\n") +
            Mal("a-one", ToMesh("/3")));
  EXPECT_THAT(f.Paths(kOutTcp), ElementsAre("/3"));
}

TEST(LegacyTo, PolicyWithMeshHTTPRouteEntryIsSkipped) {
  Fixture f(std::string(kBackendDp) + Mal("z-base", ToMesh("/base")) +
            Mal("a-route", ToMesh("/route-policy") +
                               "  - targetRef: {kind: MeshHTTPRoute, name: r}\n    default:\n      backends: []\n"));
  EXPECT_THAT(f.Paths(kOutTcp), ElementsAre("/base"));
}

// ---- outbound `to`, real-resource engine (§3.4 b) --------------------------------------------------

const char* kRealWorld = R"(
type: Dataplane
name: web-1
mesh: default
labels: {app: web}
networking:
  address: 10.0.0.1
  inbound:
  - port: 8080
    tags: {kuma.io/service: web, kuma.io/protocol: http}
  outbound:
  - port: 20001
    backendRef: {kind: MeshService, name: web-backend, port: 80}
  - port: 20002
    backendRef: {kind: MeshService, name: web-backend, port: 9000}
  - port: 20003
    backendRef: {kind: MeshService, name: other, port: 80}
  - port: 20004
    backendRef: {kind: MeshExternalService, name: httpbin}
  - port: 20005
    backendRef: {kind: MeshMultiZoneService, name: global-db, port: 5432}
---
type: MeshService
name: web-backend
mesh: default
labels: {team: payments}
spec:
  selector: {dataplaneTags: {kuma.io/service: web-backend}}
  ports:
  - {name: http, port: 80, targetPort: 8080, appProtocol: http}
  - {name: admin, port: 9000, targetPort: 9000}
---
type: MeshService
name: other
mesh: default
spec:
  ports:
  - {port: 80, targetPort: 80, appProtocol: http}
---
type: MeshExternalService
name: httpbin
mesh: default
spec:
  match: {type: HostnameGenerator, port: 443, protocol: http}
  endpoints: [{address: httpbin.org, port: 443}]
---
type: MeshMultiZoneService
name: global-db
mesh: default
spec:
  selector: {meshService: {matchLabels: {app: db}}}
  ports: [{port: 5432, appProtocol: tcp}]
)";

struct Real {
  explicit Real(const std::string& policies) : f(std::string(kRealWorld) + policies) {}
  std::vector<std::string> at(int port) const { return f.Paths("outbound:127.0.0.1:" + std::to_string(port)); }
  Fixture f;
};

TEST(RealTo, ListenerValuesFromTheResource) {
  Real r("");
  const auto& l = r.f.L("outbound:127.0.0.1:20001").info;
  EXPECT_EQ(l.kuma.destination_service, "web-backend");
  EXPECT_EQ(l.protocol, "http");
  EXPECT_EQ(r.f.L("outbound:127.0.0.1:20002").info.protocol, "tcp");
  EXPECT_EQ(r.f.L("outbound:127.0.0.1:20004").info.kuma.destination_service, "httpbin");
  EXPECT_EQ(r.f.L("outbound:127.0.0.1:20004").info.protocol, "http");
  EXPECT_EQ(r.f.L("outbound:127.0.0.1:20005").info.kuma.destination_service, "global-db");
}

TEST(RealTo, E1DataplaneTopLevelWinsForItsService) {
  Real r(Mal("p1", ToMesh("/a")) +
         Mal("p2", "  targetRef: {kind: Dataplane, labels: {app: web}}\n" + ToSvc("web-backend", "/b")));
  EXPECT_THAT(r.at(20001), ElementsAre("/b"));
  EXPECT_THAT(r.at(20002), ElementsAre("/b"));  // no sectionName: every port
  EXPECT_THAT(r.at(20003), ElementsAre("/a"));
  EXPECT_THAT(r.at(20004), ElementsAre("/a"));
  EXPECT_EQ(r.f.L("outbound:127.0.0.1:20001").access_logs[0].policy, "p2");
}

TEST(RealTo, E2SameTopLevelToKindBeforeName) {
  Real r(Mal("z-all", ToMesh("/a")) + Mal("a-svc", ToSvc("web-backend", "/b")));
  EXPECT_THAT(r.at(20001), ElementsAre("/b"));
  // Unlike the legacy engine (E3), swapping names does not change the winner.
  Real s(Mal("a-all", ToMesh("/a")) + Mal("z-svc", ToSvc("web-backend", "/b")));
  EXPECT_THAT(s.at(20001), ElementsAre("/b"));
}

TEST(RealTo, TopLevelSpecificityBeforeToKind) {
  Real r(Mal("svc", ToSvc("web-backend", "/svc")) +
         Mal("dp", "  targetRef: {kind: Dataplane, name: web-1}\n" + ToMesh("/dp-mesh")));
  EXPECT_THAT(r.at(20001), ElementsAre("/dp-mesh"));
}

TEST(RealTo, SectionNameSelectsAPortAndBeatsSectionless) {
  Real r(Mal("a-sectionless", ToSvc("web-backend", "/all-ports")) +
         Mal("z-section", "  to:\n  - targetRef: {kind: MeshService, name: web-backend, sectionName: http}\n"
                          "    default:\n      backends:\n      - type: File\n        file: {path: /http-port}\n"));
  EXPECT_THAT(r.at(20001), ElementsAre("/http-port"));
  EXPECT_THAT(r.at(20002), ElementsAre("/all-ports"));
}

TEST(RealTo, LabelsMeshExternalServiceAndMultiZoneService) {
  Real r(Mal("p", R"(  to:
  - targetRef: {kind: MeshService, labels: {team: payments}}
    default:
      backends: [{type: File, file: {path: /by-labels}}]
  - targetRef: {kind: MeshExternalService, name: httpbin}
    default:
      backends: [{type: File, file: {path: /mes}}]
  - targetRef: {kind: MeshMultiZoneService, name: global-db}
    default:
      backends: [{type: File, file: {path: /mmzs}}]
)"));
  EXPECT_THAT(r.at(20001), ElementsAre("/by-labels"));
  EXPECT_THAT(r.at(20003), IsEmpty());
  EXPECT_THAT(r.at(20004), ElementsAre("/mes"));
  EXPECT_THAT(r.at(20005), ElementsAre("/mmzs"));
}

TEST(RealTo, E4EmptyBackendsDisable) {
  Real r(Mal("z-all", ToMesh("/a")) +
         Mal("a-off", "  to:\n  - targetRef: {kind: MeshService, name: web-backend}\n    default: {backends: []}\n"));
  EXPECT_THAT(r.at(20001), IsEmpty());
  EXPECT_THAT(r.at(20003), ElementsAre("/a"));
}

TEST(RealTo, LegacyKubernetesNameIsTranslatedToLabelsAndPort) {
  const std::string world = R"(
type: Dataplane
name: frontend-1
mesh: default
networking:
  address: 10.0.0.1
  inbound:
  - port: 8080
    tags: {kuma.io/service: frontend}
  outbound:
  - port: 20001
    backendRef: {kind: MeshService, name: backend, namespace: kuma-demo, port: 8080}
---
apiVersion: kuma.io/v1alpha1
kind: MeshService
metadata: {name: backend, namespace: kuma-demo, labels: {kuma.io/mesh: default}}
spec:
  ports: [{name: http, port: 8080, targetPort: 8080, appProtocol: http}]
)";
  Fixture f(world + Mal("p", ToSvc("backend_kuma-demo_svc_8080", "/legacy-name")));
  EXPECT_THAT(f.Paths("outbound:127.0.0.1:20001"), ElementsAre("/legacy-name"));
}

// ---- inbound fan-out (§3.5) ---------------------------------------------------------------------

TEST(Inbound, E5SpiffeRuleFirstThenCatchAllBothFire) {
  Sel s(Mal("p1", RulesTo("/a")) + Mal("p2", R"(  targetRef: {kind: Dataplane, name: web-1}
  rules:
  - matches: [{spiffeID: {type: Exact, value: "spiffe://m/ns/x/sa/y"}}]
    default:
      backends: [{type: Tcp, tcp: {address: "logs:5000"}}]
)"));
  const auto& logs = s.f.L("inbound:10.0.0.1:8080").access_logs;
  ASSERT_THAT(logs, SizeIs(2));
  EXPECT_EQ(logs[0].backend.address, "logs:5000");
  EXPECT_EQ(MatchToCel(logs[0].match), R"(connection.uri_san_peer_certificate == "spiffe://m/ns/x/sa/y")");
  EXPECT_EQ(logs[0].entry, "rules[0]");
  EXPECT_EQ(logs[1].backend.path, "/a");
  EXPECT_FALSE(logs[1].match.has_value());
  // HTTP inbound: HTTP default format with INBOUND values, whatever the backend.
  EXPECT_NE(logs[0].format.plain.find(R"("unknown" "web" "10.0.0.1")"), std::string::npos);
  EXPECT_NE(logs[1].format.plain.find(R"("unknown" "web" "10.0.0.1")"), std::string::npos);
}

TEST(Inbound, SpecificityOrderAndOneRulePerMatch) {
  Sel s(Mal("p", R"(  rules:
  - default:
      backends: [{type: File, file: {path: /catch-all}}]
  - matches:
    - sni: {type: Exact, value: a.example.com}
    - spiffeID: {type: Prefix, value: "spiffe://m/ns/x"}
    default:
      backends: [{type: File, file: {path: /multi}}]
  - matches: [{spiffeID: {type: Exact, value: "spiffe://m/ns/x/sa/y"}, sni: {type: Exact, value: b.example.com}}]
    default:
      backends: [{type: File, file: {path: /exact}}]
)"));
  const auto& logs = s.f.L("inbound:10.0.0.1:8080").access_logs;
  ASSERT_THAT(logs, SizeIs(4));
  EXPECT_EQ(logs[0].backend.path, "/exact");
  EXPECT_EQ(MatchToCel(logs[0].match),
            R"(connection.uri_san_peer_certificate == "spiffe://m/ns/x/sa/y" && connection.requested_server_name == "b.example.com")");
  EXPECT_EQ(logs[1].backend.path, "/multi");
  EXPECT_EQ(MatchToCel(logs[1].match), R"(connection.uri_san_peer_certificate.startsWith("spiffe://m/ns/x"))");
  EXPECT_EQ(logs[2].backend.path, "/multi");
  EXPECT_EQ(MatchToCel(logs[2].match), R"(connection.requested_server_name == "a.example.com")");
  EXPECT_EQ(logs[3].backend.path, "/catch-all");
  EXPECT_EQ(logs[3].entry, "rules[0]");
}

TEST(Inbound, EveryPolicyLogsNoMergeAndFromBecomesRules) {
  Sel s(Mal("a", RulesTo("/a")) + Mal("b", "  from:\n  - targetRef: {kind: Mesh}\n    default:\n      backends:\n"
                                           "      - type: File\n        file: {path: /b}\n"));
  EXPECT_THAT(s.http(), ElementsAre("/b", "/a"));  // names descending: b before a
  EXPECT_EQ(s.f.L("inbound:10.0.0.1:8080").access_logs[0].entry, "from[0]");
}

TEST(Inbound, E6FromAndToInOnePolicy) {
  Sel s(Mal("both", ToMesh("/out") + "  from:\n  - targetRef: {kind: Mesh}\n    default:\n      backends:\n"
                                     "      - type: File\n        file: {path: /in}\n"));
  EXPECT_THAT(s.http(), ElementsAre("/in"));
  EXPECT_THAT(s.out(), ElementsAre("/out"));
  EXPECT_TRUE(s.f.L("inbound:10.0.0.1:8080").access_logs[0].inbound);
  EXPECT_FALSE(s.f.L("outbound:127.0.0.1:10001").access_logs[0].inbound);
}

TEST(Inbound, MatchToCelQuotesLikeGo) {
  policy::Match m;
  m.spiffe_id = policy::SpiffeIdMatch{policy::SpiffeIdMatchType::kExact, "spiffe://\"weird\"/sa"};
  EXPECT_EQ(MatchToCel(m), R"(connection.uri_san_peer_certificate == "spiffe://\"weird\"/sa")");
  EXPECT_EQ(MatchToCel(std::nullopt), "");
}

// ---- gateways (§3.6, §3.7) ----------------------------------------------------------------------

TEST(Gateway, BuiltinToFirstThenInbound) {
  // golden basic-gateway: HTTP:8080, `to` File /tmp/to-log (src gateway, dst *) then inbound /tmp/from-log.
  Fixture f(std::string(R"(
type: Dataplane
name: gateway-1
mesh: default
networking:
  address: 192.168.1.1
  gateway: {type: BUILTIN, tags: {kuma.io/service: gateway}}
---
type: MeshGateway
name: gateway
mesh: default
selectors: [{match: {kuma.io/service: gateway}}]
conf:
  listeners:
  - {port: 8080, protocol: HTTP}
  - {port: 9000, protocol: TCP, tags: {name: tcp}}
)") + Mal("gw", "  targetRef: {kind: MeshGateway, name: gateway}\n" + ToMesh("/tmp/to-log") +
                    "  - targetRef: {kind: MeshService, name: ignored}\n    default:\n      backends: [{type: File, file: {path: /never}}]\n" +
                    "  from:\n  - targetRef: {kind: Mesh}\n    default:\n      backends:\n      - type: File\n"
                    "        file: {path: /tmp/from-log}\n") +
            Mal("tcp-only", "  targetRef: {kind: MeshGateway, name: gateway, tags: {name: tcp}}\n" + RulesTo("/tcp")) +
            Mal("by-dp", "  targetRef: {kind: Dataplane, name: gateway-1}\n" + RulesTo("/never")));
  EXPECT_EQ(f.config.proxy_kind, ProxyKind::kBuiltinGateway);
  ASSERT_THAT(f.config.listeners, SizeIs(2));
  const auto& http = f.config.listeners[0];
  EXPECT_EQ(http.info.name, "gateway:HTTP:8080");
  EXPECT_EQ(http.info.address, "192.168.1.1:8080");
  EXPECT_EQ(http.info.protocol, "http");
  ASSERT_THAT(http.access_logs, SizeIs(2));
  EXPECT_EQ(http.access_logs[0].backend.path, "/tmp/to-log");
  EXPECT_NE(http.access_logs[0].format.plain.find(R"("gateway" "*" "192.168.1.1")"), std::string::npos);
  EXPECT_EQ(http.access_logs[1].backend.path, "/tmp/from-log");
  EXPECT_NE(http.access_logs[1].format.plain.find(R"("unknown" "gateway" "192.168.1.1")"), std::string::npos);
  EXPECT_EQ(http.info.kuma.destination_service, "*");
  EXPECT_EQ(http.info.kuma_inbound->source_service, "unknown");
  EXPECT_THAT(f.Paths("gateway:TCP:9000"), ElementsAre("/tmp/to-log", "/tmp/from-log", "/tcp"));
  EXPECT_EQ(f.config.listeners[1].info.protocol, "tcp");
}

TEST(Gateway, DelegatedUsesOutboundsLikeASidecar) {
  Fixture f(std::string(R"(
type: Dataplane
name: kong-1
mesh: default
networking:
  address: 10.0.0.5
  gateway: {type: DELEGATED, tags: {kuma.io/service: kong-gateway}}
  outbound:
  - port: 10001
    tags: {kuma.io/service: test-server_ns_svc_80}
)") + Mal("svc", "  targetRef: {kind: MeshService, name: kong-gateway}\n" + ToMesh("/svc")) +
            Mal("other", "  targetRef: {kind: MeshService, name: other}\n" + ToMesh("/other")));
  EXPECT_EQ(f.config.proxy_kind, ProxyKind::kDelegatedGateway);
  ASSERT_THAT(f.config.listeners, SizeIs(1));
  const auto& l = f.config.listeners[0];
  EXPECT_EQ(l.info.kuma.source_service, "kong-gateway");
  EXPECT_EQ(l.info.kuma.destination_service, "test-server_ns_svc_80");
  EXPECT_THAT(f.Paths("outbound:127.0.0.1:10001"), ElementsAre("/svc"));
}

// ---- incremental computation --------------------------------------------------------------------

TEST(Engine, RecomputingOneChangedDataplaneUsesOnlyIt) {
  Engine engine(World(std::string(kWebDp) + Mal("p", "  targetRef: {kind: Dataplane, labels: {app: api}}\n" +
                                                          RulesTo("/api"))));
  const policy::DataplaneResource* dp = engine.FindDataplane("default", "web-1");
  ASSERT_NE(dp, nullptr);
  EXPECT_THAT(engine.Compute(*dp).listeners[0].access_logs, IsEmpty());
  policy::DataplaneResource changed = *dp;
  changed.meta.labels["app"] = "api";
  const DataplaneConfig c = engine.Compute(changed);
  ASSERT_THAT(c.listeners[0].access_logs, SizeIs(1));
  EXPECT_EQ(c.listeners[0].access_logs[0].backend.path, "/api");
  EXPECT_EQ(engine.FindDataplane("default", "nope"), nullptr);
}

TEST(Engine, MeshesAreSeparate) {
  Fixture f(std::string(kBackendDp) +
            "---\ntype: MeshAccessLog\nname: other-mesh\nmesh: other\nspec:\n" + ToMesh("/other"));
  EXPECT_THAT(f.Paths(kOutTcp), IsEmpty());
}

}  // namespace
}  // namespace meshlog::rules
