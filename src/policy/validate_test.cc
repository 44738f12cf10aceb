// Tests written from the rules in spec/policy.md §2 (Kuma v2.14.3 validator.go and
// pkg/core/resources/apis/mesh/validators.go), one or more cases per rule.
#include "policy/validate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace meshlog::policy {

void PrintTo(const Violation& v, std::ostream* os) { *os << "{" << GoQuote(v.field) << ", " << GoQuote(v.message) << "}"; }

namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

// Indents `spec` (a YAML block) under `spec:` of a Universal MeshAccessLog.
std::string Policy(std::string_view spec) {
  std::string out = "type: MeshAccessLog\nname: test\nmesh: default\nspec:\n";
  std::istringstream in{std::string(spec)};
  for (std::string line; std::getline(in, line);) out += "  " + line + "\n";
  return out;
}

ValidationReport Check(std::string_view spec_yaml) {
  DecodeResult r = DecodeYaml(Policy(spec_yaml), "t.yaml");
  EXPECT_THAT(r.errors, IsEmpty());
  if (r.documents.size() != 1) {
    ADD_FAILURE() << "expected one document";
    return {};
  }
  return ValidateDocument(r.documents[0]);
}

std::vector<Violation> V(std::string_view spec_yaml) { return Check(spec_yaml).violations; }

// ---------------- valid policies ----------------

TEST(ValidateMalTest, SeedExamplesAreValid) {
  EXPECT_THAT(V(R"(targetRef:
  kind: Dataplane
  labels: {app: frontend, version: canary}
to:
- targetRef: {kind: MeshService, name: backend_kuma-demo_svc_8080}
  default:
    backends:
    - type: File
      file: {path: /dev/stdout}
)"),
              IsEmpty());
  EXPECT_THAT(V(R"(targetRef:
  kind: Dataplane
  labels: {app: frontend, version: canary}
to:
- targetRef: {kind: MeshService, name: backend, namespace: kuma-demo, sectionName: http}
  default:
    backends:
    - type: File
      file: {path: /dev/stdout}
)"),
              IsEmpty());
  EXPECT_THAT(V(R"(rules:
- default:
    backends:
    - type: Tcp
      tcp:
        address: 127.0.0.1:5000
        format:
          type: Json
          json:
          - {key: start_time, value: "%START_TIME%"}
    - type: File
      file:
        path: /dev/stdout
        format: {type: Plain, plain: "[%START_TIME%]"}
    - type: OpenTelemetry
      openTelemetry:
        endpoint: otel-collector:4317
        body:
          kvlistValue:
            values:
            - key: mesh
              value: {stringValue: "%KUMA_MESH%"}
        attributes:
        - {key: start_time, value: "%START_TIME%"}
)"),
              IsEmpty());
  EXPECT_THAT(V("to:\n- targetRef: {kind: Mesh}\n  default:\n    backends:\n    - type: File\n      file: {path: /dev/stdout}\n"),
              IsEmpty());
}

TEST(ValidateMalTest, EmptyBackendListIsValid) {
  EXPECT_THAT(V("to:\n- targetRef: {kind: Mesh}\n  default:\n    backends: []\n"), IsEmpty());
}

// ---------------- to / from / rules presence ----------------

TEST(ValidateMalTest, NothingDefined) {
  EXPECT_THAT(V("targetRef: {kind: Mesh}\n"),
              ElementsAre(Violation{"spec", "at least one of 'from', 'to' or 'rules' has to be defined"}));
  EXPECT_THAT(V("to: []\nfrom: []\nrules: []\n"),
              ElementsAre(Violation{"spec", "at least one of 'from', 'to' or 'rules' has to be defined"}));
}

TEST(ValidateMalTest, RulesWithToOrFrom) {
  const std::string backends = "  default:\n    backends: []\n";
  EXPECT_THAT(V("rules:\n-" + backends.substr(1) + "to:\n- targetRef: {kind: Mesh}\n" + backends),
              ElementsAre(Violation{"spec", "fields 'to' and 'from' must be empty when 'rules' is defined"}));
  EXPECT_THAT(V("rules:\n-" + backends.substr(1) + "from:\n- targetRef: {kind: Mesh}\n" + backends),
              ElementsAre(Violation{"spec", "fields 'to' and 'from' must be empty when 'rules' is defined"}));
  // An empty `to` list does not count.
  EXPECT_THAT(V("rules:\n-" + backends.substr(1) + "to: []\n"), IsEmpty());
}

TEST(ValidateMalTest, BackendsMustBeDefined) {
  EXPECT_THAT(V("to:\n- targetRef: {kind: Mesh}\n  default: {}\n"),
              ElementsAre(Violation{"spec.to[0].default.backends", "must be defined"}));
  EXPECT_THAT(V("from:\n- targetRef: {kind: Mesh}\n  default: {}\n"),
              ElementsAre(Violation{"spec.from[0].default.backends", "must be defined"}));
  EXPECT_THAT(V("rules:\n- default: {}\n"), ElementsAre(Violation{"spec.rules[0].default.backends", "must be defined"}));
}

// ---------------- top-level targetRef ----------------

TEST(ValidateTargetRefTest, TopLevelUnsupportedKinds) {
  for (const char* kind : {"MeshExternalService", "MeshMultiZoneService", "MeshHTTPRoute"}) {
    EXPECT_THAT(V(std::string("targetRef: {kind: ") + kind + ", name: x}\nto:\n- targetRef: {kind: Mesh}\n  default: {backends: []}\n"),
                ElementsAre(Violation{"spec.targetRef.kind", std::string("value '") + kind + "' is not supported"}))
        << kind;
  }
}

// `targetRef: <target_ref>` followed by an inbound `rules` entry with an empty backend list.
std::string TopWithRules(std::string_view target_ref) {
  return "targetRef: " + std::string(target_ref) + "\nrules:\n- default: {backends: []}\n";
}

// `targetRef: <target_ref>` followed by a `to` entry targeting the Mesh with an empty backend list.
std::string TopWithToMesh(std::string_view target_ref) {
  return "targetRef: " + std::string(target_ref) + "\nto:\n- targetRef: {kind: Mesh}\n  default: {backends: []}\n";
}

struct SpecCase {
  const char* name;  // the gtest case name
  std::string spec;  // YAML under `spec:`
  std::vector<Violation> want;  // in the order Kuma reports them
};

// Names the case in gtest output instead of dumping its bytes.
void PrintTo(const SpecCase& c, std::ostream* os) { *os << c.name; }

class ValidateTargetRefTableTest : public ::testing::TestWithParam<SpecCase> {};

TEST_P(ValidateTargetRefTableTest, ReportsExactlyTheseViolations) {
  EXPECT_THAT(V(GetParam().spec), ElementsAreArray(GetParam().want)) << GetParam().spec;
}

std::string CaseName(const ::testing::TestParamInfo<SpecCase>& info) { return info.param.name; }

const SpecCase kTopLevelTargetRefCases[] = {
    {"MeshDisallowsEveryOtherField", R"(targetRef:
  kind: Mesh
  name: x
  mesh: m
  tags: {a: b}
  labels: {a: b}
  namespace: ns
  sectionName: s
  proxyTypes: []
to:
- targetRef: {kind: Mesh}
  default: {backends: []}
)",
     {{"spec.targetRef.name", "using name with kind Mesh is not yet supported"},
      {"spec.targetRef.mesh", "must not be set with kind Mesh"},
      {"spec.targetRef.tags", "must not be set with kind Mesh"},
      {"spec.targetRef.labels", "must not be set with kind Mesh"},
      {"spec.targetRef.namespace", "must not be set with kind Mesh"},
      {"spec.targetRef.sectionName", "must not be set with kind Mesh"},
      {"spec.targetRef.proxyTypes", "must be undefined or have at least one element"}}},
    {"MeshEmptyValuesCountAsUnset", TopWithToMesh("{kind: Mesh, name: '', labels: {}, proxyTypes: [Sidecar]}"), {}},
    {"DataplaneRules", R"(targetRef:
  kind: Dataplane
  name: web
  namespace: ns
  labels: {app: web}
  tags: {a: b}
  mesh: m
  proxyTypes: [Sidecar]
  sectionName: http
to:
- targetRef: {kind: Mesh}
  default: {backends: []}
)",
     {{"spec.targetRef.tags", "must not be set with kind Dataplane"},
      {"spec.targetRef.mesh", "must not be set with kind Dataplane"},
      {"spec.targetRef.proxyTypes", "must not be set with kind Dataplane"},
      {"spec.targetRef.labels", "either labels or name and namespace must be specified"},
      {"spec.targetRef.sectionName", "can only be used with inbound policies"}}},
    {"DataplaneSectionNameAllowedWithRules", TopWithRules("{kind: Dataplane, name: web, sectionName: http}"), {}},
    {"DataplaneSectionNameAllowedWithFrom",
     "targetRef: {kind: Dataplane, name: web, sectionName: http}\nfrom:\n- targetRef: {kind: Mesh}\n  default: {backends: []}\n",
     {}},
    // `rules: []` does not make it an inbound policy.
    {"DataplaneSectionNameNotAllowedWithEmptyRules",
     "targetRef: {kind: Dataplane, name: web, sectionName: http}\nrules: []\nto:\n- targetRef: {kind: Mesh}\n  default: {backends: []}\n",
     {{"spec.targetRef.sectionName", "can only be used with inbound policies"}}},
    {"MeshSubsetTags", R"(targetRef:
  kind: MeshSubset
  name: x
  tags:
    "a b": v
    k1: "x/y"
    k2: ""
  namespace: ns
rules:
- default: {backends: []}
)",
     {{"spec.targetRef.name", "must not be set with kind MeshSubset"},
      {"spec.targetRef.tags[\"a b\"]",
       "tag name must consist of alphanumeric characters, dots, dashes, slashes and underscores"},
      {"spec.targetRef.tags[\"k1\"]", "tag value must consist of alphanumeric characters, dots, dashes and underscores"},
      {"spec.targetRef.tags[\"k2\"]", "tag value must be non-empty"},
      {"spec.targetRef.namespace", "must not be set with kind MeshSubset"}}},
    {"MeshSubsetEmptyTagName", "targetRef:\n  kind: MeshSubset\n  tags: {\"\": v}\nrules:\n- default: {backends: []}\n",
     {{"spec.targetRef.tags", "tag name must be non-empty"}}},
    {"MeshServiceNeedsNameOrLabels", TopWithRules("{kind: MeshService}"),
     {{"spec.targetRef", "name or labels must be set when kind is MeshService"}}},
    {"MeshServiceNameCharacters", TopWithRules("{kind: MeshService, name: Backend}"),
     {{"spec.targetRef.name",
       "invalid characters: must consist of lower case alphanumeric characters, '-', '.' and '_'."}}},
    {"MeshServiceDisallowedFields",
     TopWithRules("{kind: MeshService, labels: {a: b}, namespace: ns, mesh: m, tags: {a: b}, proxyTypes: [Gateway]}"),
     {{"spec.targetRef.mesh", "must not be set with kind MeshService"},
      {"spec.targetRef.tags", "must not be set with kind MeshService"},
      {"spec.targetRef.proxyTypes", "must not be set with kind MeshService"},
      {"spec.targetRef.labels", "either labels or name and namespace must be specified"}}},
    {"MeshGatewayNeedsName", TopWithRules("{kind: MeshGateway}"),
     {{"spec.targetRef.name", "must be set when kind is MeshGateway"}}},
    // Listener tags are allowed for MeshAccessLog; selector values may be "*".
    {"MeshGatewayListenerTags", TopWithRules("{kind: MeshGateway, name: edge, tags: {port: http-8080, any: '*'}}"), {}},
    {"MeshGatewayDisallowedFields",
     TopWithRules("{kind: MeshGateway, name: edge, tags: {a: 'x y'}, labels: {a: b}, sectionName: s, namespace: ns1}"),
     {{"spec.targetRef.tags[\"a\"]",
       "tag value must consist of alphanumeric characters, dots, dashes, slashes and underscores or be \"*\""},
      {"spec.targetRef.labels", "must not be set with kind MeshGateway"},
      {"spec.targetRef.namespace", "must not be set with kind MeshGateway"},
      {"spec.targetRef.sectionName", "must not be set with kind MeshGateway"}}},
    {"MeshServiceSubset", TopWithRules("{kind: MeshServiceSubset, mesh: m, proxyTypes: [Sidecar]}"),
     {{"spec.targetRef.name", "must be set when kind is MeshServiceSubset"},
      {"spec.targetRef.mesh", "must not be set with kind MeshServiceSubset"},
      {"spec.targetRef.proxyTypes", "must not be set with kind MeshServiceSubset"}}},
};

INSTANTIATE_TEST_SUITE_P(TopLevel, ValidateTargetRefTableTest, ::testing::ValuesIn(kTopLevelTargetRefCases), CaseName);

// ---------------- to[].targetRef ----------------

const SpecCase kToTargetRefCases[] = {
    {"ToKindsUnsupported",
     "to:\n- targetRef: {kind: Dataplane}\n  default: {backends: []}\n- targetRef: {kind: MeshSubset}\n  default: {backends: []}\n",
     {{"spec.to[0].targetRef.kind", "value 'Dataplane' is not supported"},
      {"spec.to[1].targetRef.kind", "value 'MeshSubset' is not supported"}}},
    {"ToKindMeshMultiZoneService", "to:\n- targetRef: {kind: MeshMultiZoneService, name: X, tags: {a: b}}\n  default: {backends: []}\n",
     {}},
    {"ToUnderMeshGatewayOnlyMesh",
     "targetRef: {kind: MeshGateway, name: edge}\nto:\n- targetRef: {kind: MeshService, name: backend}\n  default: {backends: []}\n"
     "- targetRef: {kind: Mesh}\n  default: {backends: []}\n",
     {{"spec.to[0].targetRef.kind", "value 'MeshService' is not supported"}}},
    {"ToMeshExternalServiceAndRoute",
     "to:\n- targetRef: {kind: MeshExternalService, name: httpbin, labels: {a: b}, sectionName: s}\n  default: {backends: []}\n"
     "- targetRef: {kind: MeshExternalService}\n  default: {backends: []}\n"
     "- targetRef: {kind: MeshHTTPRoute, name: route, sectionName: rule-1}\n  default: {backends: []}\n",
     {{"spec.to[0].targetRef.labels", "either labels or name must be specified"},
      {"spec.to[0].targetRef.sectionName", "must not be set with kind MeshExternalService"},
      {"spec.to[1].targetRef", "name or labels must be set when kind is MeshExternalService"},
      {"spec.to[2].targetRef.sectionName", "must not be set with kind MeshHTTPRoute"}}},
};

INSTANTIATE_TEST_SUITE_P(To, ValidateTargetRefTableTest, ::testing::ValuesIn(kToTargetRefCases), CaseName);

TEST(ValidateTargetRefTest, FromOnlyMesh) {
  ValidationReport r = Check("from:\n- targetRef: {kind: MeshService, name: x}\n  default: {backends: []}\n");
  EXPECT_THAT(r.violations, ElementsAre(Violation{"spec.from[0].targetRef.kind", "value 'MeshService' is not supported"}));
  EXPECT_THAT(r.warnings, ElementsAre("'from' field is deprecated, use 'rules' instead"));
}

TEST(ValidateTargetRefTest, KindMustBeDefinedProgrammatically) {
  TargetRefOptions opts;
  opts.supported_kinds = {TargetRefKind::kMesh};
  EXPECT_THAT(ValidateTargetRef(TargetRef{}, opts).violations(), ElementsAre(Violation{"kind", "must be defined"}));
}

// ---------------- backends and formats ----------------

// `to` one entry targeting the Mesh whose `default.backends:` is `backends` (a YAML list indented by four).
std::string ToMeshBackends(std::string_view backends) {
  return "to:\n- targetRef: {kind: Mesh}\n  default:\n    backends:\n" + std::string(backends);
}

// One inbound `rules` entry whose `default.backends:` is `backends` (a YAML list indented by four).
std::string RulesBackends(std::string_view backends) { return "rules:\n- default:\n    backends:\n" + std::string(backends); }

class ValidateBackendTableTest : public ::testing::TestWithParam<SpecCase> {};

TEST_P(ValidateBackendTableTest, ReportsExactlyTheseViolations) {
  EXPECT_THAT(V(GetParam().spec), ElementsAreArray(GetParam().want)) << GetParam().spec;
}

const SpecCase kBackendCases[] = {
    {"UnionFieldMustMatchType", ToMeshBackends(R"(    - type: File
      tcp: {address: "127.0.0.1:5000"}
    - type: Tcp
      file: {path: /tmp/x}
    - type: OpenTelemetry
)"),
     {{"spec.to[0].default.backends[0].file", "must be defined"},
      {"spec.to[0].default.backends[1].tcp", "must be defined"},
      {"spec.to[0].default.backends[2].openTelemetry", "must be defined"}}},
    {"FilePath",
     RulesBackends("    - type: File\n      file: {path: logs.txt}\n    - type: File\n      file: {path: '#not_valid'}\n"),
     {{"spec.rules[0].default.backends[0].file.path", "file backend requires a valid path"},
      {"spec.rules[0].default.backends[1].file.path", "file backend requires a valid path"}}},
    {"TcpAddress",
     RulesBackends("    - type: Tcp\n      tcp: {address: logstash}\n"
                   "    - type: Tcp\n      tcp: {address: not_valid_url}\n    - type: Tcp\n      tcp: {address: 'logstash:5000'}\n"),
     {{"spec.rules[0].default.backends[0].tcp.address", "tcp backend requires valid address"},
      {"spec.rules[0].default.backends[1].tcp.address", "tcp backend requires valid address"}}},
    {"FormatErrorsComeBeforePathAndAddress", RulesBackends(R"(    - type: File
      file:
        path: relative
        format: {type: Plain}
    - type: Tcp
      tcp:
        address: nope
        format: {type: Json}
)"),
     {{"spec.rules[0].default.backends[0].file.format.plain", "must be defined"},
      {"spec.rules[0].default.backends[0].file.path", "file backend requires a valid path"},
      {"spec.rules[0].default.backends[1].tcp.format.json", "must be defined"},
      {"spec.rules[0].default.backends[1].tcp.address", "tcp backend requires valid address"}}},
    {"FormatPlainMustNotBeEmpty", ToMeshBackends("    - type: File\n      file: {path: /x, format: {type: Plain, plain: ''}}\n"),
     {{"spec.to[0].default.backends[0].file.format.plain", "must not be empty"}}},
    // `json` is ignored for Plain.
    {"FormatPlainIgnoresJson",
     ToMeshBackends("    - type: File\n      file: {path: /x, format: {type: Plain, plain: x, json: []}}\n"), {}},
    {"FormatJsonMustBeDefined", ToMeshBackends("    - type: File\n      file: {path: /x, format: {type: Json, plain: x}}\n"),
     {{"spec.to[0].default.backends[0].file.format.json", "must be defined"}}},
    {"FormatJsonMustNotBeEmpty", ToMeshBackends("    - type: File\n      file: {path: /x, format: {type: Json, json: []}}\n"),
     {{"spec.to[0].default.backends[0].file.format.json", "must not be empty"}}},
    {"FormatJsonKeysAndValues", ToMeshBackends(R"(    - type: Tcp
      tcp:
        address: 127.0.0.1:5000
        format:
          type: Json
          json:
          - {key: "", value: ""}
          - {key: 'a"b', value: x}
          - {key: k, value: 'bad \x escape'}
          - {key: k, value: 'two chars \n are fine'}
          - {key: k, value: "a real\nnewline"}
          - {key: start_time, value: "%START_TIME%"}
)"),
     {{"spec.to[0].default.backends[0].tcp.format.json[0].key", "key cannot be empty"},
      {"spec.to[0].default.backends[0].tcp.format.json[0].value", "value cannot be empty"},
      {"spec.to[0].default.backends[0].tcp.format.json[1]", "is not a valid JSON object"},
      {"spec.to[0].default.backends[0].tcp.format.json[2]", "is not a valid JSON object"},
      {"spec.to[0].default.backends[0].tcp.format.json[4]", "is not a valid JSON object"}}},
    // The seed's HTTP JSON example has `value: '"%REQ(:METHOD)%'`: a lone quote breaks Kuma's
    // naive `{"key": "value"}` check.
    {"FormatSeedHttpJsonWithQuoteInValueIsInvalid",
     ToMeshBackends("    - type: File\n      file:\n        path: /x\n"
                    "        format:\n          type: Json\n          json:\n          - {key: method, value: '\"%REQ(:METHOD)%'}\n"),
     {{"spec.to[0].default.backends[0].file.format.json[0]", "is not a valid JSON object"}}},
};

INSTANTIATE_TEST_SUITE_P(BackendsAndFormats, ValidateBackendTableTest, ::testing::ValuesIn(kBackendCases), CaseName);

// ---------------- OpenTelemetry ----------------

TEST(ValidateOtelTest, EndpointBackendRefExclusivity) {
  EXPECT_THAT(V(R"(rules:
- default:
    backends:
    - type: OpenTelemetry
      openTelemetry:
        endpoint: otel:4317
        backendRef: {kind: MeshOpenTelemetryBackend, labels: {a: b}}
    - type: OpenTelemetry
      openTelemetry: {}
    - type: OpenTelemetry
      openTelemetry:
        backendRef: {kind: MeshOpenTelemetryBackend}
    - type: OpenTelemetry
      openTelemetry:
        endpoint: http://otel:4317/v1/logs
    - type: OpenTelemetry
      openTelemetry:
        endpoint: "otel:4317?x"
    - type: OpenTelemetry
      openTelemetry:
        endpoint: otel
)"),
              ElementsAre(Violation{"spec.rules[0].default.backends[0].openTelemetry",
                                    "openTelemetry must have only one type defined: endpoint, backendRef"},
                          Violation{"spec.rules[0].default.backends[1].openTelemetry",
                                    "openTelemetry must have exactly one defined: endpoint, backendRef"},
                          Violation{"spec.rules[0].default.backends[2].openTelemetry.backendRef",
                                    "backendRef must have exactly one defined: labels"},
                          Violation{"spec.rules[0].default.backends[3].openTelemetry.endpoint",
                                    "must be in host:port format, not a URL"},
                          Violation{"spec.rules[0].default.backends[4].openTelemetry.endpoint",
                                    "must be in host:port format, not a URL"}));
}

MeshAccessLogSpec OtelSpec(OtelBackend otel) {
  Backend b;
  b.type = BackendType::kOpenTelemetry;
  b.open_telemetry = std::move(otel);
  Rule rule;
  rule.default_conf.backends = std::vector<Backend>{b};
  MeshAccessLogSpec spec;
  spec.rules = std::vector<Rule>{rule};
  return spec;
}

TEST(ValidateOtelTest, BackendRefKindProgrammatically) {
  OtelBackend otel;
  otel.backend_ref = BackendResourceRef{};  // kind unset, no labels
  EXPECT_THAT(ValidateMeshAccessLog(OtelSpec(otel)),
              ElementsAre(Violation{"spec.rules[0].default.backends[0].openTelemetry.backendRef.kind",
                                    "\"kind\" must be one of [\"MeshOpenTelemetryBackend\"]"},
                          Violation{"spec.rules[0].default.backends[0].openTelemetry.backendRef",
                                    "backendRef must have exactly one defined: labels"}));
}

TEST(ValidateOtelTest, AttributeKeysFirstFailingCheckOnly) {
  OtelBackend otel;
  otel.endpoint = "otel:4317";
  otel.attributes = std::vector<OtelAttribute>{{"", "v"},          {"%KUMA_MESH%", "v"}, {"otel.x", "v"},
                                               {"otel.%A%", "v"},  {"Bad", "v"},          {"a..b", "v"},
                                               {"http.method", "%REQ(:METHOD)%"}};
  const std::string p = "spec.rules[0].default.backends[0].openTelemetry.attributes";
  EXPECT_THAT(ValidateMeshAccessLog(OtelSpec(otel)),
              ElementsAre(Violation{p + "[0].key", "must be defined"},
                          Violation{p + "[1].key", "must be a static OpenTelemetry attribute name; placeholders are only supported in values"},
                          Violation{p + "[2].key", "must not use the reserved OpenTelemetry prefix 'otel.'"},
                          Violation{p + "[3].key", "must be a static OpenTelemetry attribute name; placeholders are only supported in values"},
                          Violation{p + "[4].key",
                                    "must start with a lowercase letter, use only lowercase letters, digits, '.' or '_', avoid "
                                    "consecutive delimiters, and end with a letter or digit"},
                          Violation{p + "[5].key",
                                    "must start with a lowercase letter, use only lowercase letters, digits, '.' or '_', avoid "
                                    "consecutive delimiters, and end with a letter or digit"}));
}

TEST(ValidateOtelTest, EndpointErrorsThenAttributeErrors) {
  OtelBackend otel;
  otel.attributes = std::vector<OtelAttribute>{{"otel.a", "v"}};
  EXPECT_THAT(ValidateMeshAccessLog(OtelSpec(otel)),
              ElementsAre(Violation{"spec.rules[0].default.backends[0].openTelemetry",
                                    "openTelemetry must have exactly one defined: endpoint, backendRef"},
                          Violation{"spec.rules[0].default.backends[0].openTelemetry.attributes[0].key",
                                    "must not use the reserved OpenTelemetry prefix 'otel.'"}));
}

// ---------------- matches ----------------

TEST(ValidateMatchTest, SpiffeIdAndSni) {
  const std::string dns =
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
      "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  EXPECT_THAT(V(R"(rules:
- matches:
  - spiffeID: {type: Exact, value: "spiffe://default/ns/a/sa/b"}
  - spiffeID: {type: Prefix, value: "spiffe://default/ns/"}
  - spiffeID: {type: Exact, value: "default/ns/a"}
    sni: {type: Exact, value: ""}
  - sni: {type: Exact, value: "Bad_Host"}
  - sni: {type: Exact, value: "ok.example.com"}
  default:
    backends: []
- matches:
  - spiffeID: {type: Exact, value: ""}
  default: {}
)"),
              ElementsAre(Violation{"spec.rules[0].matches[1].spiffeID", "must be a valid Spiffe ID: path cannot have a trailing slash"},
                          Violation{"spec.rules[0].matches[2].spiffeID", "must be a valid Spiffe ID: scheme is missing or invalid"},
                          Violation{"spec.rules[0].matches[2].sni.value", "must be set"},
                          Violation{"spec.rules[0].matches[3].sni.value", dns},
                          Violation{"spec.rules[1].matches[0].spiffeID", "must be a valid Spiffe ID: cannot be empty"},
                          Violation{"spec.rules[1].default.backends", "must be defined"}));
}

TEST(ValidateMatchTest, SniTypeMustBeSetProgrammatically) {
  Match m;
  m.sni = SniMatch{std::nullopt, "a.b"};
  EXPECT_THAT(ValidateMatch(m).violations(), ElementsAre(Violation{"sni.type", "must be set"}));
}

// ---------------- ordering across sections ----------------

TEST(ValidateMalTest, OrderIsTargetRefSpecToFromRules) {
  EXPECT_THAT(V(R"(targetRef: {kind: Mesh, name: x}
to:
- targetRef: {kind: Mesh}
  default: {}
from:
- targetRef: {kind: Mesh}
  default: {}
rules:
- default: {}
)"),
              ElementsAre(Violation{"spec.targetRef.name", "using name with kind Mesh is not yet supported"},
                          Violation{"spec", "fields 'to' and 'from' must be empty when 'rules' is defined"},
                          Violation{"spec.to[0].default.backends", "must be defined"},
                          Violation{"spec.from[0].default.backends", "must be defined"},
                          Violation{"spec.rules[0].default.backends", "must be defined"}));
}

TEST(ValidateMalTest, TargetRefBeforeDefaultWithinAnEntry) {
  EXPECT_THAT(V("to:\n- targetRef: {kind: Mesh, labels: {a: b}}\n  default: {}\n"),
              ElementsAre(Violation{"spec.to[0].targetRef.labels", "must not be set with kind Mesh"},
                          Violation{"spec.to[0].default.backends", "must be defined"}));
}

// ---------------- deprecations ----------------

TEST(DeprecationTest, FromEndpointAndTopLevelKinds) {
  ValidationReport r = Check(R"(targetRef: {kind: MeshService, name: web}
from:
- targetRef: {kind: Mesh}
  default:
    backends:
    - type: OpenTelemetry
      openTelemetry: {endpoint: "otel:4317"}
)");
  EXPECT_THAT(r.violations, IsEmpty());
  EXPECT_THAT(r.warnings,
              ElementsAre("'from' field is deprecated, use 'rules' instead",
                          "openTelemetry.endpoint is deprecated, use openTelemetry.backendRef with a MeshOpenTelemetryBackend resource instead",
                          "MeshService value for 'targetRef.kind' is deprecated, use Dataplane with labels instead"));
}

TEST(DeprecationTest, EndpointWithBackendRefIsNotReportedAsInline) {
  ValidationReport r = Check(R"(targetRef: {kind: MeshSubset, tags: {a: b}}
rules:
- default:
    backends:
    - type: OpenTelemetry
      openTelemetry: {endpoint: "otel:4317", backendRef: {kind: MeshOpenTelemetryBackend, labels: {a: b}}}
)");
  EXPECT_THAT(r.warnings, ElementsAre("MeshSubset value for 'targetRef.kind' is deprecated, use Dataplane with labels instead"));
}

TEST(DeprecationTest, NoneForModernPolicies) {
  EXPECT_THAT(Check("targetRef: {kind: Dataplane, labels: {app: web}}\nrules:\n- default: {backends: []}\n").warnings, IsEmpty());
  EXPECT_THAT(MeshAccessLogDeprecations(MeshAccessLogSpec{}), IsEmpty());
}

TEST(DeprecationTest, MeshHTTPRouteTopLevel) {
  MeshAccessLogSpec spec;
  spec.target_ref = TargetRef{};
  spec.target_ref->kind = TargetRefKind::kMeshHTTPRoute;
  EXPECT_THAT(MeshAccessLogDeprecations(spec),
              ElementsAre("MeshHTTPRoute value for 'targetRef.kind' is deprecated, use MeshHTTPRoute in spec.to[].targetRef"));
}

// ---------------- documents ----------------

TEST(ValidateDocumentTest, SchemaViolationsReplaceGoValidation) {
  DecodeResult r = DecodeYaml(Policy("to:\n- targetRef: {kind: Mesh}\n  default:\n    backends:\n    - type: Syslog\n"), "t.yaml");
  ValidationReport report = ValidateDocument(r.documents.at(0));
  EXPECT_THAT(report.violations,
              ElementsAre(Violation{"spec.to[0].default.backends[0].type", "in body should be one of [Tcp File OpenTelemetry]"}));
}

TEST(ValidateDocumentTest, OtherKindsAndWarnings) {
  DecodeResult r = DecodeYaml("type: Mesh\nname: default\n---\ntype: MeshService\nname: x\nmesh: default\nspec: {}\n", "t.yaml");
  ValidationReport mesh = ValidateDocument(r.documents.at(0));
  EXPECT_TRUE(mesh.valid());
  EXPECT_THAT(mesh.warnings, ElementsAre("resource type \"Mesh\" is not interpreted by meshlog; not validated"));
  EXPECT_TRUE(ValidateDocument(r.documents.at(1)).valid());
}

TEST(ValidateMetaTest, UniversalNameAndMesh) {
  auto check = [](std::string_view name, std::string_view mesh) {
    DecodeResult r = DecodeYaml("type: MeshAccessLog\nname: '" + std::string(name) + "'\nmesh: '" + std::string(mesh) +
                                    "'\nspec:\n  to:\n  - targetRef: {kind: Mesh}\n    default: {backends: []}\n",
                                "t.yaml");
    return ValidateDocument(r.documents.at(0)).violations;
  };
  EXPECT_THAT(check("a.b-c", "my_mesh"), IsEmpty());
  EXPECT_THAT(check("Frontend", "default"),
              ElementsAre(Violation{"name",
                                    "invalid characters. A lowercase RFC 1123 subdomain must consist of lower case "
                                    "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"}));
  EXPECT_THAT(check("a_b", "Mesh!"),
              ElementsAre(Violation{"name",
                                    "invalid characters. A lowercase RFC 1123 subdomain must consist of lower case "
                                    "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"},
                          Violation{"mesh", "invalid characters. Valid characters are numbers, lowercase latin letters and '-', '_', '.' symbols."}));
  EXPECT_THAT(check("", ""), ElementsAre(Violation{"name", "cannot be empty"}, Violation{"mesh", "cannot be empty"}));
  EXPECT_THAT(check(std::string(254, 'a'), "default"), ElementsAre(Violation{"name", "value length must less or equal 253"}));
}

TEST(ValidateMetaTest, OnlyAfterASpecWithoutViolationsAndOnlyUniversal) {
  DecodeResult r = DecodeYaml("type: MeshAccessLog\nname: Bad\nspec: {}\n---\napiVersion: kuma.io/v1alpha1\nkind: MeshAccessLog\n"
                              "metadata: {name: Bad_Name}\nspec: {to: [{targetRef: {kind: Mesh}, default: {backends: []}}]}\n",
                              "t.yaml");
  EXPECT_THAT(ValidateDocument(r.documents.at(0)).violations,
              ElementsAre(Violation{"spec", "at least one of 'from', 'to' or 'rules' has to be defined"}));
  EXPECT_THAT(ValidateDocument(r.documents.at(1)).violations, IsEmpty());  // Kubernetes names are not Kuma's to check
}

TEST(ValidateMotbTest, EndpointRules) {
  auto check = [](std::string_view spec) {
    DecodeResult r = DecodeYaml("type: MeshOpenTelemetryBackend\nname: o\nmesh: default\nspec: " + std::string(spec) + "\n", "t.yaml");
    return ValidateDocument(r.documents.at(0)).violations;
  };
  EXPECT_THAT(check("{}"), IsEmpty());
  EXPECT_THAT(check("{endpoint: {address: otel-collector, port: 4317}}"), IsEmpty());
  EXPECT_THAT(check("{endpoint: {address: 10.0.0.1, path: /otlp}, protocol: http}"), IsEmpty());
  EXPECT_THAT(check("{endpoint: {path: /otlp}}"),
              ElementsAre(Violation{"spec.endpoint.path", "must not be set when protocol is grpc"}));
  EXPECT_THAT(check("{endpoint: {path: 'otlp?x'}, protocol: http}"),
              ElementsAre(Violation{"spec.endpoint.path", "must start with /"},
                          Violation{"spec.endpoint.path", "must not contain query or fragment"}));
  EXPECT_THAT(check("{endpoint: {address: '', port: 0}}"),
              ElementsAre(Violation{"spec.endpoint.address", "must not be empty"},
                          Violation{"spec.endpoint.port", "port must be a valid (1-65535)"}));
  EXPECT_THAT(check("{endpoint: {address: 'bad host!'}}"),
              ElementsAre(Violation{"spec.endpoint.address", "address has to be a valid IP or hostname"}));
}

}  // namespace
}  // namespace meshlog::policy
