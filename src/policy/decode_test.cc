#include "policy/decode.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "policy/load.h"

namespace meshlog::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

}  // namespace

void PrintTo(const Violation& v, std::ostream* os) { *os << "{" << GoQuote(v.field) << ", " << GoQuote(v.message) << "}"; }

namespace {

DecodeResult Decode(std::string_view yaml) { return DecodeYaml(yaml, "test.yaml"); }

const MeshAccessLogResource& Mal(const DecodeResult& r, size_t i = 0) {
  return std::get<MeshAccessLogResource>(r.documents.at(i).resource);
}

// A Universal MeshAccessLog `name` with one `to` entry targeting the Mesh; `backends` is the
// YAML list that goes under its `default.backends:`, indented by six spaces.
std::string ToMeshBackends(std::string_view backends, std::string_view name = "x") {
  return "type: MeshAccessLog\nname: " + std::string(name) +
         "\nspec:\n  to:\n  - targetRef: {kind: Mesh}\n    default:\n      backends:\n" + std::string(backends);
}

constexpr std::string_view kUniversalFrontendToBackend = R"(type: MeshAccessLog
name: frontend-to-backend
mesh: default
spec:
  targetRef:
    kind: Dataplane
    labels:
      app: frontend
      version: canary
  to:
  - targetRef:
      kind: MeshService
      name: backend
      sectionName: http
    default:
      backends:
      - type: File
        file:
          path: "/dev/stdout"
)";

TEST(DecodeTest, UniversalMeshAccessLogEveryTargetRefField) {
  DecodeResult r = Decode(kUniversalFrontendToBackend);
  ASSERT_THAT(r.errors, IsEmpty());
  ASSERT_EQ(r.documents.size(), 1u);
  EXPECT_THAT(r.documents[0].schema_violations, IsEmpty());
  const auto& mal = Mal(r);
  EXPECT_EQ(mal.meta.type, ResourceType::kMeshAccessLog);
  EXPECT_EQ(mal.meta.type_name, "MeshAccessLog");
  EXPECT_EQ(mal.meta.name, "frontend-to-backend");
  EXPECT_EQ(mal.meta.mesh, "default");
  EXPECT_EQ(mal.meta.form, ResourceForm::kUniversal);
  EXPECT_EQ(mal.meta.source, (SourceLocation{"test.yaml", 0, 1}));
  ASSERT_TRUE(mal.spec.target_ref.has_value());
  EXPECT_EQ(mal.spec.target_ref->kind, TargetRefKind::kDataplane);
  EXPECT_EQ(mal.spec.target_ref->labels, (StringMap{{"app", "frontend"}, {"version", "canary"}}));
  EXPECT_FALSE(mal.spec.target_ref->name.has_value());
  EXPECT_FALSE(mal.spec.from.has_value());
  EXPECT_FALSE(mal.spec.rules.has_value());
  ASSERT_TRUE(mal.spec.to.has_value());
  ASSERT_EQ(mal.spec.to->size(), 1u);
  const To& to = (*mal.spec.to)[0];
  EXPECT_EQ(to.target_ref.kind, TargetRefKind::kMeshService);
  EXPECT_EQ(to.target_ref.name, "backend");
  EXPECT_EQ(to.target_ref.section_name, "http");
  ASSERT_TRUE(to.default_conf.backends.has_value());
  ASSERT_EQ(to.default_conf.backends->size(), 1u);
  const Backend& b = (*to.default_conf.backends)[0];
  EXPECT_EQ(b.type, BackendType::kFile);
  ASSERT_TRUE(b.file.has_value());
  EXPECT_EQ(b.file->path, "/dev/stdout");
  EXPECT_FALSE(b.file->format.has_value());
  EXPECT_FALSE(b.tcp.has_value());
  EXPECT_FALSE(b.open_telemetry.has_value());
}

TEST(DecodeTest, KubernetesFormTakesMeshFromLabelAndKeepsNamespace) {
  DecodeResult r = Decode(R"(apiVersion: kuma.io/v1alpha1
kind: MeshAccessLog
metadata:
  name: all-incoming-traffic
  namespace: kuma-demo
  labels:
    kuma.io/mesh: other-mesh
spec:
  rules:
  - default:
      backends:
      - type: File
        file:
          path: "/dev/stdout"
)");
  ASSERT_THAT(r.errors, IsEmpty());
  EXPECT_THAT(r.documents[0].schema_violations, IsEmpty());
  const auto& mal = Mal(r);
  EXPECT_EQ(mal.meta.form, ResourceForm::kKubernetes);
  EXPECT_EQ(mal.meta.name, "all-incoming-traffic");
  EXPECT_EQ(mal.meta.namespace_, "kuma-demo");
  EXPECT_EQ(mal.meta.mesh, "other-mesh");
  EXPECT_EQ(mal.meta.labels.at("kuma.io/mesh"), "other-mesh");
  ASSERT_TRUE(mal.spec.rules.has_value());
  EXPECT_FALSE((*mal.spec.rules)[0].matches.has_value());
  EXPECT_FALSE(mal.spec.target_ref.has_value());
  EXPECT_EQ(mal.spec.EffectiveTargetRef().kind, TargetRefKind::kMesh);
}

TEST(DecodeTest, KubernetesMeshDefaultsToDefault) {
  DecodeResult r = Decode("apiVersion: kuma.io/v1alpha1\nkind: MeshAccessLog\nmetadata:\n  name: x\nspec:\n  to: []\n");
  EXPECT_EQ(Mal(r).meta.mesh, "default");
  EXPECT_FALSE(Mal(r).meta.namespace_.has_value());
}

TEST(DecodeTest, UniversalMeshDefaultsToDefault) {
  DecodeResult r = Decode("type: MeshAccessLog\nname: x\nspec:\n  to: []\n");
  EXPECT_EQ(Mal(r).meta.mesh, "default");
  r = Decode("type: MeshAccessLog\nname: x\nmesh:\nspec:\n  to: []\n");
  EXPECT_EQ(Mal(r).meta.mesh, "default");
  EXPECT_THAT(r.documents[0].schema_violations, IsEmpty());
}

TEST(DecodeTest, NilVersusEmptyListsAreKept) {
  DecodeResult r = Decode(R"(type: MeshAccessLog
name: x
spec:
  to:
  - targetRef: {kind: Mesh}
    default: {}
  - targetRef: {kind: Mesh}
    default:
      backends: []
  from: []
)");
  ASSERT_THAT(r.documents[0].schema_violations, IsEmpty());
  const auto& spec = Mal(r).spec;
  ASSERT_TRUE(spec.from.has_value());
  EXPECT_TRUE(spec.from->empty());
  EXPECT_FALSE(spec.rules.has_value());
  EXPECT_FALSE((*spec.to)[0].default_conf.backends.has_value());
  ASSERT_TRUE((*spec.to)[1].default_conf.backends.has_value());
  EXPECT_TRUE((*spec.to)[1].default_conf.backends->empty());
}

TEST(DecodeTest, FormatsAndBackendsAllFields) {
  DecodeResult r = Decode(R"(type: MeshAccessLog
name: multiple-backends
mesh: default
spec:
  rules:
  - matches:
    - spiffeID: {type: Prefix, value: "spiffe://default/ns/x"}
      sni: {type: Exact, value: a.example.com}
    default:
      backends:
      - type: Tcp
        tcp:
          address: 127.0.0.1:5000
          format:
            type: Json
            omitEmptyValues: true
            json:
            - key: start_time
              value: "%START_TIME%"
      - type: File
        file:
          path: "/dev/stdout"
          format:
            type: Plain
            plain: "[%START_TIME%]"
      - type: OpenTelemetry
        openTelemetry:
          endpoint: otel-collector:4317
          backendRef:
            kind: MeshOpenTelemetryBackend
            labels: {app: otel}
          body:
            kvlistValue:
              values:
              - key: mesh
                value:
                  stringValue: "%KUMA_MESH%"
          attributes:
          - key: start_time
            value: "%START_TIME%"
)");
  ASSERT_THAT(r.documents[0].schema_violations, IsEmpty());
  const Rule& rule = (*Mal(r).spec.rules)[0];
  ASSERT_TRUE(rule.matches.has_value());
  const Match& m = (*rule.matches)[0];
  EXPECT_EQ(m.spiffe_id, (SpiffeIdMatch{SpiffeIdMatchType::kPrefix, "spiffe://default/ns/x"}));
  EXPECT_EQ(m.sni, (SniMatch{SniMatchType::kExact, "a.example.com"}));
  const auto& backends = *rule.default_conf.backends;
  ASSERT_EQ(backends.size(), 3u);
  EXPECT_EQ(backends[0].type, BackendType::kTcp);
  EXPECT_EQ(backends[0].tcp->address, "127.0.0.1:5000");
  EXPECT_EQ(backends[0].tcp->format->type, FormatType::kJson);
  EXPECT_TRUE(backends[0].tcp->format->omit_empty_values);
  EXPECT_EQ(*backends[0].tcp->format->json, (std::vector<JsonValue>{{"start_time", "%START_TIME%"}}));
  EXPECT_FALSE(backends[0].tcp->format->plain.has_value());
  EXPECT_EQ(backends[1].file->format->type, FormatType::kPlain);
  EXPECT_EQ(backends[1].file->format->plain, "[%START_TIME%]");
  EXPECT_FALSE(backends[1].file->format->omit_empty_values);
  const OtelBackend& otel = *backends[2].open_telemetry;
  EXPECT_EQ(otel.endpoint, "otel-collector:4317");
  EXPECT_EQ(otel.backend_ref->kind, BackendRefKind::kMeshOpenTelemetryBackend);
  EXPECT_EQ(otel.backend_ref->labels, (StringMap{{"app", "otel"}}));
  EXPECT_EQ(*otel.attributes, (std::vector<OtelAttribute>{{"start_time", "%START_TIME%"}}));
  ASSERT_TRUE(otel.body.has_value());
  EXPECT_EQ(otel.body->ToCanonicalJson(),
            R"({"kvlistValue":{"values":[{"key":"mesh","value":{"stringValue":"%KUMA_MESH%"}}]}})");
}

TEST(DecodeTest, OtelBodyScalarsKeepTheirTypes) {
  DecodeResult r = Decode(ToMeshBackends(R"(      - type: OpenTelemetry
        openTelemetry:
          endpoint: c:4317
          body:
            arrayValue:
              values:
              - intValue: 123
              - doubleValue: 1.5
              - boolValue: true
              - bytesValue: aGVsbG8=
              - stringValue: "123"
)"));
  ASSERT_THAT(r.documents[0].schema_violations, IsEmpty());
  const Value& body = *(*(*Mal(r).spec.to)[0].default_conf.backends)[0].open_telemetry->body;
  const auto& values = body.Find("arrayValue")->Find("values")->array_items();
  ASSERT_EQ(values.size(), 5u);
  EXPECT_TRUE(values[0].Find("intValue")->is_int());
  EXPECT_EQ(values[0].Find("intValue")->int_value(), 123);
  EXPECT_TRUE(values[1].Find("doubleValue")->is_double());
  EXPECT_EQ(values[1].Find("doubleValue")->double_value(), 1.5);
  EXPECT_TRUE(values[2].Find("boolValue")->bool_value());
  EXPECT_EQ(values[3].Find("bytesValue")->string_value(), "aGVsbG8=");
  EXPECT_TRUE(values[4].Find("stringValue")->is_string());
  EXPECT_EQ(values[4].Find("stringValue")->string_value(), "123");
}

TEST(DecodeTest, SeedQuirkBodyIsAnArbitraryValue) {
  // The seed's "multiple backends" body has `kvlistValue:` and `values:` at the same level.
  DecodeResult r = Decode(R"(type: MeshAccessLog
name: x
spec:
  rules:
  - default:
      backends:
      - type: OpenTelemetry
        openTelemetry:
          endpoint: otel-collector:4317
          body:
            kvlistValue: 
            values:
            - key: mesh
              value:
                stringValue: "%KUMA_MESH%"
)");
  ASSERT_THAT(r.documents[0].schema_violations, IsEmpty());
  const Value& body = *(*(*Mal(r).spec.rules)[0].default_conf.backends)[0].open_telemetry->body;
  EXPECT_EQ(body.ToCanonicalJson(),
            R"({"kvlistValue":null,"values":[{"key":"mesh","value":{"stringValue":"%KUMA_MESH%"}}]})");
}

TEST(DecodeTest, MultiDocumentIndicesAndCreationOrder) {
  DecodeResult r = DecodeYaml("---\n# only a comment\n---\ntype: Mesh\nname: default\n---\ntype: MeshAccessLog\nname: b\nspec: {}\n---\n",
                              "multi.yaml", 7);
  ASSERT_THAT(r.errors, IsEmpty());
  ASSERT_EQ(r.documents.size(), 2u);
  EXPECT_EQ(r.documents[0].meta().source.document_index, 1);
  EXPECT_EQ(r.documents[0].meta().type, ResourceType::kOther);
  EXPECT_EQ(r.documents[0].meta().creation_order, 7u);
  EXPECT_EQ(r.documents[1].meta().source.document_index, 2);
  EXPECT_EQ(r.documents[1].meta().source.line, 7);
  EXPECT_EQ(r.documents[1].meta().creation_order, 8u);
}

TEST(DecodeTest, SyntaxErrorNamesFileLineAndColumn) {
  DecodeResult r = DecodeYaml("type: MeshAccessLog\nname: x\nspec:\n  to: [a, b\n", "bad.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, "bad.yaml");
  EXPECT_GT(r.errors[0].line, 0);
  EXPECT_GT(r.errors[0].column, 0);
  EXPECT_THAT(r.errors[0].ToString(), ::testing::StartsWith("bad.yaml:"));
  EXPECT_THAT(r.errors[0].message, ::testing::HasSubstr("YAML syntax error"));
}

TEST(DecodeTest, SyntaxErrorPositionIsOneBased) {
  DecodeResult r = DecodeYaml("a: b\n  c: d\n", "bad.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 2);
  EXPECT_EQ(r.errors[0].column, 4);
}

TEST(DecodeTest, Yaml11ScalarTyping) {
  std::vector<SourceError> errors;
  auto docs = ParseYamlDocuments(
      "a: yes\nb: off\nc: 1.0\nd: 0x1F\ne: '1'\nf: ~\ng: 017\nh: 1_000\ni: .inf\nj: hello\nk: -12\nl: 1e3\nm: 08\n"
      "n: 99999999999999999999\no: !!str 12\np: 2024-01-01\nq: \"\"\nr:\n",
      "t.yaml", errors);
  ASSERT_THAT(errors, IsEmpty());
  const Value& v = docs.at(0).value;
  EXPECT_EQ(*v.Find("a"), Value::Bool(true));
  EXPECT_EQ(*v.Find("b"), Value::Bool(false));
  EXPECT_EQ(*v.Find("c"), Value::Double(1.0));
  EXPECT_EQ(*v.Find("d"), Value::Int(31));
  EXPECT_EQ(*v.Find("e"), Value::String("1"));
  EXPECT_TRUE(v.Find("f")->is_null());
  EXPECT_EQ(*v.Find("g"), Value::Int(15));
  EXPECT_EQ(*v.Find("h"), Value::Int(1000));
  EXPECT_TRUE(std::isinf(v.Find("i")->double_value()));
  EXPECT_EQ(*v.Find("j"), Value::String("hello"));
  EXPECT_EQ(*v.Find("k"), Value::Int(-12));
  EXPECT_EQ(*v.Find("l"), Value::Double(1000));
  EXPECT_EQ(*v.Find("m"), Value::Double(8));
  EXPECT_TRUE(v.Find("n")->is_double());
  EXPECT_EQ(*v.Find("o"), Value::String("12"));
  EXPECT_EQ(*v.Find("p"), Value::String("2024-01-01"));
  EXPECT_EQ(*v.Find("q"), Value::String(""));
  EXPECT_TRUE(v.Find("r")->is_null());
}

TEST(DecodeTest, StrayCommaIsASyntaxErrorNotAHang) {
  // yaml-cpp 0.7 loops forever in LoadAll on this input; the decoder detects the lack of progress.
  DecodeResult r = Decode(",\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(), "test.yaml:1:1: YAML syntax error: unexpected token");
  r = Decode("type: Mesh\nname: a\n---\n{a: b},\n");
  ASSERT_EQ(r.errors.size(), 1u);
  ASSERT_EQ(r.documents.size(), 2u);  // documents before the error are kept ({a: b} is complete)
  EXPECT_EQ(r.documents[0].meta().name, "a");
  EXPECT_EQ(r.errors[0].line, 4);
}

TEST(DecodeTest, AnchorsAndAliasesAreExpanded) {
  std::vector<SourceError> errors;
  auto docs = ParseYamlDocuments("base: &b {path: /x}\ncopy: *b\nlist: &l [1, 2]\nagain: *l\n", "t.yaml", errors);
  ASSERT_THAT(errors, IsEmpty());
  const Value& v = docs.at(0).value;
  EXPECT_EQ(*v.Find("copy"), *v.Find("base"));
  EXPECT_EQ(v.Find("again")->array_items().size(), 2u);
}

TEST(DecodeTest, MergeKeysCopyMissingKeys) {
  DecodeResult r = Decode(ToMeshBackends(R"(      - &stdout
        type: File
        file: {path: /dev/stdout}
      - <<: *stdout
        file: {path: /tmp/other.log}
)", "merged"));
  ASSERT_THAT(r.errors, IsEmpty());
  ASSERT_THAT(r.documents[0].schema_violations, IsEmpty());
  const auto& backends = *(*Mal(r).spec.to)[0].default_conf.backends;
  ASSERT_EQ(backends.size(), 2u);
  EXPECT_EQ(backends[1].type, BackendType::kFile);
  EXPECT_EQ(backends[1].file->path, "/tmp/other.log");  // explicit key wins over the merged one
  std::vector<SourceError> errors;
  auto docs = ParseYamlDocuments("a: {x: 1}\nb: {y: 2}\nc:\n  <<: [*a_, *b_]\n", "t.yaml", errors);
  EXPECT_FALSE(errors.empty());  // unknown anchors are a syntax error
  errors.clear();
  docs = ParseYamlDocuments("a: &a {x: 1}\nb: &b {y: 2, x: 3}\nc:\n  <<: [*a, *b]\n  z: 0\n'<<': q\n", "t.yaml", errors);
  ASSERT_THAT(errors, IsEmpty());
  const Value& c = *docs.at(0).value.Find("c");
  EXPECT_EQ(c.ToCanonicalJson(), R"({"x":1,"y":2,"z":0})");
  EXPECT_EQ(*docs.at(0).value.Find("<<"), Value::String("q"));  // a quoted << is an ordinary key
}

TEST(DecodeTest, DuplicateKeysLastWins) {
  std::vector<SourceError> errors;
  auto docs = ParseYamlDocuments("a: 1\na: 2\n", "t.yaml", errors);
  EXPECT_EQ(docs.at(0).value.object_members().size(), 1u);
  EXPECT_EQ(*docs.at(0).value.Find("a"), Value::Int(2));
}

TEST(DecodeTest, NonScalarKeyIsASourceError) {
  DecodeResult r = Decode("? [a, b]\n: c\n");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].message, "mapping keys must be scalars");
  EXPECT_EQ(r.errors[0].line, 1);
}

TEST(DecodeTest, DeepNestingIsRejectedNotCrashing) {
  std::string deep = "a: ";
  for (int i = 0; i < 300; ++i) deep += "[";
  for (int i = 0; i < 300; ++i) deep += "]";
  DecodeResult r = Decode(deep);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, ::testing::AnyOf(::testing::HasSubstr("too deeply"), ::testing::HasSubstr("YAML")));
}

TEST(DecodeTest, AliasBombIsRejected) {
  std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 8; ++i) {
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) yaml += std::string(k ? ", " : "") + "*a" + std::to_string(i - 1);
    yaml += "]\n";
  }
  DecodeResult r = Decode(yaml);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_THAT(r.errors[0].message, ::testing::HasSubstr("too large"));
}

// ---- schema-level errors, in Kuma's words ----

std::vector<Violation> SchemaViolations(std::string_view yaml) {
  DecodeResult r = Decode(yaml);
  EXPECT_THAT(r.errors, IsEmpty());
  if (r.documents.empty()) return {};
  return r.documents[0].schema_violations;
}

struct SchemaCase {
  const char* name;  // the gtest case name
  std::string yaml;
  std::vector<Violation> want;  // in the order Kuma reports them
};

// Names the case in gtest output instead of dumping its bytes.
void PrintTo(const SchemaCase& c, std::ostream* os) { *os << c.name; }

const SchemaCase kSchemaCases[] = {
    {"UnknownBackendTypeEnum", ToMeshBackends("      - type: Syslog\n"),
     {{"spec.to[0].default.backends[0].type", "in body should be one of [Tcp File OpenTelemetry]"}}},
    {"UnknownFormatTypeAndTargetRefKind", R"(type: MeshAccessLog
name: x
spec:
  targetRef: {kind: Pod}
  to:
  - targetRef: {kind: Mesh}
    default:
      backends:
      - type: File
        file:
          path: /tmp/x
          format: {type: Xml}
)",
     {{"spec.targetRef.kind",
       "in body should be one of [Mesh MeshSubset MeshGateway MeshService "
       "MeshExternalService MeshMultiZoneService MeshServiceSubset MeshHTTPRoute Dataplane]"},
      {"spec.to[0].default.backends[0].file.format.type", "in body should be one of [Plain Json]"}}},
    {"WrongYamlTypesToIsAnObject", "type: MeshAccessLog\nname: x\nspec:\n  to:\n    targetRef: {kind: Mesh}\n",
     {{"spec.to", "in body must be of type array: \"object\""}}},
    {"WrongYamlTypesPathAndOmitEmptyValues", ToMeshBackends(R"(      - type: File
        file:
          path: 12
          format:
            type: Plain
            plain: "x"
            omitEmptyValues: "yes"
)"),
     {{"spec.to[0].default.backends[0].file.format.omitEmptyValues", "in body must be of type boolean: \"string\""},
      {"spec.to[0].default.backends[0].file.path", "in body must be of type string: \"number\""}}},
    {"EnumWithWrongTypeReportsTypeThenEnum",
     "type: MeshAccessLog\nname: x\nspec:\n  rules:\n  - default:\n      backends:\n      - type:\n",
     {{"spec.rules[0].default.backends[0].type", "in body must be of type string: \"null\""},
      {"spec.rules[0].default.backends[0].type", "in body should be one of [Tcp File OpenTelemetry]"}}},
    {"MissingRequiredFields", R"(type: MeshAccessLog
name: x
spec:
  to:
  - targetRef: {name: x}
  rules:
  - default:
      backends:
      - file: {}
      - type: Tcp
        tcp: {}
      - type: OpenTelemetry
        openTelemetry:
          backendRef: {}
          attributes:
          - {}
)",
     {{"spec.rules[0].default.backends[0].file.path", "in body is required"},
      {"spec.rules[0].default.backends[0].type", "in body is required"},
      {"spec.rules[0].default.backends[1].tcp.address", "in body is required"},
      {"spec.rules[0].default.backends[2].openTelemetry.attributes[0].key", "in body is required"},
      {"spec.rules[0].default.backends[2].openTelemetry.attributes[0].value", "in body is required"},
      {"spec.rules[0].default.backends[2].openTelemetry.backendRef.kind", "in body is required"},
      {"spec.to[0].targetRef.kind", "in body is required"},
      {"spec.to[0].default", "in body is required"}}},
    {"TopLevelRequiredHasNoSpecField", "type: MeshAccessLog\nname: x\n", {{"", ".spec in body is required"}}},
    {"TopLevelRequiredHasNoNameField", "type: MeshAccessLog\nspec: {}\n", {{"", ".name in body is required"}}},
    {"MinLengthOnPathAndAddress", ToMeshBackends(R"(      - type: File
        file: {path: ""}
      - type: Tcp
        tcp: {address: ""}
)"),
     {{"spec.to[0].default.backends[0].file.path", "in body should be at least 1 chars long"},
      {"spec.to[0].default.backends[1].tcp.address", "in body should be at least 1 chars long"}}},
    {"OtelAttributeKeyPattern", ToMeshBackends(R"(      - type: OpenTelemetry
        openTelemetry:
          endpoint: c:4317
          attributes:
          - key: Bad-Key
            value: v
)"),
     {{"spec.to[0].default.backends[0].openTelemetry.attributes[0].key",
       "in body should match '^[a-z]([a-z0-9]|[._][a-z0-9])*$'"}}},
    // Properties are visited in schema (alphabetical) order: default before targetRef.
    {"UnknownFieldsAreReported", R"(type: MeshAccessLog
name: x
extra: 1
spec:
  to:
  - targetRef: {kind: Mesh, foo: bar}
    default:
      backend: []
)",
     {{"extra", "unknown field \"extra\""},
      {"spec.to[0].default.backend", "unknown field \"backend\""},
      {"spec.to[0].targetRef.foo", "unknown field \"foo\""}}},
    {"NullDefaultsAreApplied", ToMeshBackends(R"(      - type: OpenTelemetry
        openTelemetry:
          endpoint:
          backendRef: {kind: MeshOpenTelemetryBackend, labels: {a: b}}
      - type: File
        file:
          path: /x
          format: {type: Plain, plain: x, omitEmptyValues: }
)"),
     {}},
    {"LabelValuesMustBeStrings", R"(type: MeshAccessLog
name: x
labels:
  version: 1.0
spec:
  targetRef:
    kind: Dataplane
    labels: {version: 2}
  to: []
)",
     {{"", "labels.version in body must be of type string: \"number\""},
      {"spec.targetRef.labels.version", "in body must be of type string: \"number\""}}},
    {"SpecMustBeAnObject", "type: MeshAccessLog\nname: x\nspec: hello\n",
     {{"", "spec in body must be of type object: \"string\""}}},
    {"KubernetesMissingNameAndWrongApiVersion", "apiVersion: v1\nkind: MeshAccessLog\nmetadata: {}\nspec: {to: []}\n",
     {{"apiVersion", "must be \"kuma.io/v1alpha1\""},
      {"metadata.name", "Required value: name or generateName is required"}}},
};

class DecodeSchemaTest : public ::testing::TestWithParam<SchemaCase> {};

TEST_P(DecodeSchemaTest, ReportsExactlyTheseViolations) {
  EXPECT_THAT(SchemaViolations(GetParam().yaml), ElementsAreArray(GetParam().want)) << GetParam().yaml;
}

INSTANTIATE_TEST_SUITE_P(Cases, DecodeSchemaTest, ::testing::ValuesIn(kSchemaCases),
                         [](const ::testing::TestParamInfo<SchemaCase>& info) { return std::string(info.param.name); });

// ---- documents that are not (known) resources ----

TEST(DecodeTest, KnownKumaTypeIsKeptWithAWarning) {
  DecodeResult r = Decode("type: Mesh\nname: default\nmtls: {}\n");
  ASSERT_EQ(r.documents.size(), 1u);
  EXPECT_THAT(r.documents[0].schema_violations, IsEmpty());
  EXPECT_THAT(r.documents[0].warnings, ElementsAre("resource type \"Mesh\" is not interpreted by meshlog; not validated"));
  const auto& other = std::get<OtherResource>(r.documents[0].resource);
  EXPECT_EQ(other.meta.type_name, "Mesh");
  EXPECT_TRUE(other.spec.raw.Find("mtls") != nullptr);
}

TEST(DecodeTest, UnknownTypeIsAViolation) {
  DecodeResult r = Decode("type: MeshAccesLog\nname: x\nspec: {}\n");
  EXPECT_THAT(r.documents[0].schema_violations, ElementsAre(Violation{"type", "unknown resource type \"MeshAccesLog\""}));
  r = Decode("apiVersion: kuma.io/v1alpha1\nkind: Foo\nmetadata: {name: x}\n");
  EXPECT_THAT(r.documents[0].schema_violations, ElementsAre(Violation{"kind", "unknown resource type \"Foo\""}));
}

TEST(DecodeTest, MissingTypeAndNonMappingDocuments) {
  DecodeResult r = Decode("name: x\nspec: {}\n");
  EXPECT_THAT(r.documents[0].schema_violations, ElementsAre(Violation{"type", "must be defined"}));
  r = Decode("- a\n- b\n");
  EXPECT_THAT(r.documents[0].schema_violations,
              ElementsAre(Violation{"", "document must be a YAML mapping describing a resource, got array"}));
}

// ---- other kinds ----

TEST(DecodeTest, UniversalDataplane) {
  DecodeResult r = Decode(R"(type: Dataplane
mesh: default
name: web-1
labels:
  app: web
networking:
  address: 10.0.0.1
  advertisedAddress: 192.168.0.1
  inbound:
  - port: 8080
    servicePort: 18080
    serviceAddress: 127.0.0.1
    name: http
    tags:
      kuma.io/service: web
      kuma.io/protocol: http
  outbound:
  - port: 10001
    tags:
      kuma.io/service: backend
  - port: 10002
    address: 127.0.0.2
    backendRef:
      kind: MeshService
      name: backend
      namespace: kuma-demo
      port: 8080
      labels: {team: a}
  gateway:
    type: BUILTIN
    tags: {kuma.io/service: edge}
  transparentProxying:
    redirectPortInbound: 15006
    redirectPortOutbound: 15001
)");
  ASSERT_THAT(r.documents[0].schema_violations, IsEmpty());
  const auto& dp = std::get<DataplaneResource>(r.documents[0].resource);
  EXPECT_EQ(dp.meta.name, "web-1");
  EXPECT_EQ(dp.meta.labels, (StringMap{{"app", "web"}}));
  EXPECT_EQ(dp.spec.address, "10.0.0.1");
  EXPECT_EQ(dp.spec.advertised_address, "192.168.0.1");
  ASSERT_EQ(dp.spec.inbound.size(), 1u);
  EXPECT_EQ(dp.spec.inbound[0].port, 8080u);
  EXPECT_EQ(dp.spec.inbound[0].service_port, 18080u);
  EXPECT_EQ(dp.spec.inbound[0].service_address, "127.0.0.1");
  EXPECT_EQ(dp.spec.inbound[0].name, "http");
  EXPECT_FALSE(dp.spec.inbound[0].address.has_value());
  EXPECT_EQ(dp.spec.inbound[0].tags.at("kuma.io/protocol"), "http");
  ASSERT_EQ(dp.spec.outbound.size(), 2u);
  EXPECT_EQ(dp.spec.outbound[0].tags.at("kuma.io/service"), "backend");
  EXPECT_FALSE(dp.spec.outbound[0].backend_ref.has_value());
  ASSERT_TRUE(dp.spec.outbound[1].backend_ref.has_value());
  EXPECT_EQ(dp.spec.outbound[1].backend_ref->kind, "MeshService");
  EXPECT_EQ(dp.spec.outbound[1].backend_ref->namespace_, "kuma-demo");
  EXPECT_EQ(dp.spec.outbound[1].backend_ref->port, 8080u);
  EXPECT_EQ(dp.spec.outbound[1].backend_ref->labels.at("team"), "a");
  ASSERT_TRUE(dp.spec.gateway.has_value());
  EXPECT_EQ(dp.spec.gateway->type, GatewayType::kBuiltin);
  EXPECT_EQ(dp.spec.transparent_proxying->redirect_port_inbound, 15006u);
  EXPECT_EQ(dp.spec.transparent_proxying->redirect_port_outbound, 15001u);
}

TEST(DecodeTest, DataplaneTypeErrorsAreReported) {
  DecodeResult r = Decode("type: Dataplane\nname: x\nnetworking:\n  address: 1.1.1.1\n  inbound:\n  - port: http\n");
  EXPECT_THAT(r.documents[0].schema_violations,
              ElementsAre(Violation{"", "networking.inbound[0].port in body must be of type integer: \"string\""}));
  r = Decode("type: Dataplane\nname: x\n");
  EXPECT_THAT(r.documents[0].schema_violations, ElementsAre(Violation{"networking", "must be defined"}));
}

TEST(DecodeTest, KubernetesMeshServiceAndMeshExternalService) {
  DecodeResult r = Decode(R"(apiVersion: kuma.io/v1alpha1
kind: MeshService
metadata:
  name: backend
  namespace: kuma-demo
  labels: {kuma.io/mesh: default, k8s.kuma.io/namespace: kuma-demo}
spec:
  selector:
    dataplaneTags: {app: backend}
  ports:
  - name: http
    port: 8080
    targetPort: http-port
    appProtocol: http
  - port: 9090
    targetPort: 9091
status:
  vips:
  - ip: 10.43.0.10
  addresses:
  - hostname: backend.kuma-demo.svc.mesh.local
---
apiVersion: kuma.io/v1alpha1
kind: MeshExternalService
metadata: {name: httpbin}
spec:
  match: {type: HostnameGenerator, port: 80, protocol: http}
  endpoints:
  - {address: httpbin.org, port: 80}
  tls: {enabled: true}
)");
  ASSERT_THAT(r.errors, IsEmpty());
  const auto& ms = std::get<MeshServiceResource>(r.documents[0].resource);
  EXPECT_EQ(ms.spec.selector_dataplane_tags, (StringMap{{"app", "backend"}}));
  ASSERT_EQ(ms.spec.ports.size(), 2u);
  EXPECT_EQ(ms.spec.ports[0].name, "http");
  EXPECT_EQ(ms.spec.ports[0].target_port_name, "http-port");
  EXPECT_EQ(ms.spec.ports[0].app_protocol, "http");
  EXPECT_EQ(ms.spec.ports[1].target_port, 9091u);
  EXPECT_EQ(ms.spec.ports[1].app_protocol, "tcp");
  EXPECT_EQ(ms.spec.vips, std::vector<std::string>{"10.43.0.10"});
  EXPECT_EQ(ms.spec.hostnames, std::vector<std::string>{"backend.kuma-demo.svc.mesh.local"});
  const auto& mes = std::get<MeshExternalServiceResource>(r.documents[1].resource);
  EXPECT_EQ(mes.spec.match_port, 80u);
  EXPECT_EQ(mes.spec.match_protocol, "http");
  ASSERT_EQ(mes.spec.endpoints.size(), 1u);
  EXPECT_EQ(mes.spec.endpoints[0].address, "httpbin.org");
  EXPECT_TRUE(mes.spec.tls_enabled);
}

TEST(DecodeTest, MeshGatewayMultiZoneServiceAndOtelBackend) {
  DecodeResult r = Decode(R"(type: MeshGateway
mesh: default
name: edge-gateway
selectors:
- match:
    kuma.io/service: edge-gateway
conf:
  listeners:
  - port: 8080
    protocol: HTTP
    hostname: foo.example.com
    tags:
      port: http-8080
---
type: MeshMultiZoneService
name: backend-global
mesh: default
spec:
  selector:
    meshService:
      matchLabels: {kuma.io/display-name: backend}
  ports:
  - port: 8080
    appProtocol: http
---
type: MeshOpenTelemetryBackend
name: otel
mesh: default
labels: {app: otel}
spec:
  endpoint: {address: otel-collector, port: 4318, path: /otlp}
  protocol: http
  env: {mode: Disabled, precedence: ExplicitFirst, allowSignalOverrides: false}
---
type: MeshOpenTelemetryBackend
name: empty
mesh: default
spec: {}
)");
  ASSERT_THAT(r.errors, IsEmpty());
  ASSERT_EQ(r.documents.size(), 4u);
  for (const auto& d : r.documents) EXPECT_THAT(d.schema_violations, IsEmpty());
  const auto& gw = std::get<MeshGatewayResource>(r.documents[0].resource);
  EXPECT_EQ(gw.spec.selectors, (std::vector<StringMap>{{{"kuma.io/service", "edge-gateway"}}}));
  ASSERT_EQ(gw.spec.listeners.size(), 1u);
  EXPECT_EQ(gw.spec.listeners[0].port, 8080u);
  EXPECT_EQ(gw.spec.listeners[0].protocol, "HTTP");
  EXPECT_EQ(gw.spec.listeners[0].hostname, "foo.example.com");
  EXPECT_EQ(gw.spec.listeners[0].tags, (StringMap{{"port", "http-8080"}}));
  const auto& mmzs = std::get<MeshMultiZoneServiceResource>(r.documents[1].resource);
  EXPECT_EQ(mmzs.spec.selector_mesh_service_labels, (StringMap{{"kuma.io/display-name", "backend"}}));
  EXPECT_EQ(mmzs.spec.ports.at(0).app_protocol, "http");
  const auto& motb = std::get<MeshOpenTelemetryBackendResource>(r.documents[2].resource);
  EXPECT_EQ(motb.spec.endpoint_address, "otel-collector");
  EXPECT_EQ(motb.spec.EffectivePort(), 4318u);
  EXPECT_EQ(motb.spec.endpoint_path, "/otlp");
  EXPECT_EQ(motb.spec.LogsPath(), "/otlp/v1/logs");
  EXPECT_EQ(motb.spec.EffectiveProtocol(), OtelProtocol::kHttp);
  EXPECT_EQ(motb.spec.env_mode, OtelEnvMode::kDisabled);
  EXPECT_EQ(motb.spec.env_precedence, OtelEnvPrecedence::kExplicitFirst);
  EXPECT_EQ(motb.spec.env_allow_signal_overrides, false);
  const auto& empty = std::get<MeshOpenTelemetryBackendResource>(r.documents[3].resource);
  EXPECT_EQ(empty.spec.EffectivePort(), 4317u);
  EXPECT_EQ(empty.spec.EffectiveProtocol(), OtelProtocol::kGrpc);
  EXPECT_EQ(empty.spec.LogsPath(), "/v1/logs");
  for (const auto& [base, want] : std::vector<std::pair<std::string, std::string>>{
           {"", "/v1/logs"}, {"/", "/v1/logs"}, {"/otel/", "/otel/v1/logs"}, {"otel", "/otel/v1/logs"}}) {
    MeshOpenTelemetryBackendSpec spec;
    spec.endpoint_path = base;
    EXPECT_EQ(spec.LogsPath(), want) << base;
  }

  ResourceSet set = CollectResources(r);
  EXPECT_EQ(set.mesh_gateways.size(), 1u);
  EXPECT_EQ(set.mesh_multi_zone_services.size(), 1u);
  EXPECT_EQ(set.mesh_open_telemetry_backends.size(), 2u);
}

TEST(DecodeTest, KubernetesLegacyKindsUseSpecAndTopLevelMesh) {
  DecodeResult r = Decode(R"(apiVersion: kuma.io/v1alpha1
kind: Dataplane
mesh: payments
metadata:
  name: web-5d8f
  namespace: kuma-demo
  labels: {app: web}
spec:
  networking:
    address: 10.244.0.7
    inbound:
    - port: 8080
      tags: {kuma.io/service: web_kuma-demo_svc_8080}
    health: {ready: true}
---
apiVersion: kuma.io/v1alpha1
kind: MeshGateway
mesh: default
metadata:
  name: edge
spec:
  selectors:
  - match: {kuma.io/service: edge_kuma-demo_svc}
  conf:
    listeners:
    - {port: 8080, protocol: HTTP}
)");
  ASSERT_THAT(r.errors, IsEmpty());
  for (const auto& d : r.documents) EXPECT_THAT(d.schema_violations, IsEmpty());  // unknown `health` tolerated
  const auto& dp = std::get<DataplaneResource>(r.documents[0].resource);
  EXPECT_EQ(dp.meta.mesh, "payments");
  EXPECT_EQ(dp.meta.namespace_, "kuma-demo");
  EXPECT_EQ(dp.spec.address, "10.244.0.7");
  EXPECT_EQ(dp.spec.inbound.at(0).tags.at("kuma.io/service"), "web_kuma-demo_svc_8080");
  const auto& gw = std::get<MeshGatewayResource>(r.documents[1].resource);
  EXPECT_EQ(gw.spec.listeners.at(0).hostname, "*");
  EXPECT_EQ(gw.spec.listeners.at(0).protocol, "HTTP");
}

TEST(DecodeTest, KubernetesMeshLabelWinsOverTopLevelMesh) {
  DecodeResult r = Decode("apiVersion: kuma.io/v1alpha1\nkind: MeshService\nmesh: a\nmetadata:\n  name: s\n  labels: {kuma.io/mesh: b}\nspec: {}\n");
  EXPECT_EQ(r.documents.at(0).meta().mesh, "b");
}

TEST(DecodeTest, KubernetesStrictTopLevelForMeshAccessLog) {
  DecodeResult r = Decode("apiVersion: kuma.io/v1alpha1\nkind: MeshAccessLog\nmetadata: {name: x}\nspce: {}\nspec: {to: []}\n");
  EXPECT_THAT(r.documents.at(0).schema_violations, ElementsAre(Violation{"spce", "unknown field \"spce\""}));
}

TEST(DecodeTest, MoreYamlNumberForms) {
  std::vector<SourceError> errors;
  auto docs = ParseYamlDocuments("a: 0x\nb: +12\nc: -0b101\nd: 0o17\ne: .5\nf: 1.\ng: 1_0.5\nh: 12abc\ni: '-'\n", "t.yaml", errors);
  ASSERT_THAT(errors, IsEmpty());
  const Value& v = docs.at(0).value;
  EXPECT_EQ(*v.Find("a"), Value::String("0x"));
  EXPECT_EQ(*v.Find("b"), Value::Int(12));
  EXPECT_EQ(*v.Find("c"), Value::Int(-5));
  EXPECT_EQ(*v.Find("d"), Value::Int(15));
  EXPECT_EQ(*v.Find("e"), Value::Double(0.5));
  EXPECT_EQ(*v.Find("f"), Value::Double(1.0));
  EXPECT_EQ(*v.Find("g"), Value::Double(10.5));
  EXPECT_EQ(*v.Find("h"), Value::String("12abc"));
  EXPECT_EQ(*v.Find("i"), Value::String("-"));
}

TEST(DecodeTest, NullOtelBodyIsNoBody) {
  DecodeResult r = Decode("type: MeshAccessLog\nname: x\nspec:\n  rules:\n  - default:\n      backends:\n"
                          "      - type: OpenTelemetry\n        openTelemetry: {endpoint: 'c:4317', body: }\n");
  ASSERT_THAT(r.documents.at(0).schema_violations, IsEmpty());
  EXPECT_FALSE((*(*Mal(r).spec.rules)[0].default_conf.backends)[0].open_telemetry->body.has_value());
}

TEST(DecodeTest, DisplayNameLabel) {
  ResourceMeta m;
  m.name = "backend-xyz";
  EXPECT_EQ(m.DisplayName(), "backend-xyz");
  m.labels["kuma.io/display-name"] = "backend";
  EXPECT_EQ(m.DisplayName(), "backend");
}

// ---- loading ----

class LoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("meshlog_load_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "sub");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& rel, const std::string& text) { std::ofstream(dir_ / rel) << text; }
  std::filesystem::path dir_;
};

TEST_F(LoadTest, DirectoryIsSortedRecursiveAndFiltersExtensions) {
  Write("b.yaml", "type: MeshAccessLog\nname: b\nspec: {to: []}\n");
  Write("a.yml", "type: MeshAccessLog\nname: a\nspec: {to: []}\n---\ntype: MeshAccessLog\nname: a2\nspec: {to: []}\n");
  Write("sub/c.yaml", "type: MeshAccessLog\nname: c\nspec: {to: []}\n");
  Write("notes.txt", "not yaml: [");
  DecodeResult r = LoadPath(dir_.string());
  ASSERT_THAT(r.errors, IsEmpty());
  ASSERT_EQ(r.documents.size(), 4u);
  EXPECT_EQ(r.documents[0].meta().name, "a");
  EXPECT_EQ(r.documents[1].meta().name, "a2");
  EXPECT_EQ(r.documents[1].meta().source.document_index, 1);
  EXPECT_EQ(r.documents[2].meta().name, "b");
  EXPECT_EQ(r.documents[3].meta().name, "c");
  EXPECT_EQ(r.documents[3].meta().source.path, (dir_ / "sub/c.yaml").string());
  for (uint64_t i = 0; i < 4; ++i) EXPECT_EQ(r.documents[i].meta().creation_order, i);
}

TEST_F(LoadTest, MissingFileIsASourceError) {
  DecodeResult r = LoadPaths({(dir_ / "nope.yaml").string()});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].path, (dir_ / "nope.yaml").string());
  EXPECT_EQ(r.errors[0].line, 0);
}

TEST_F(LoadTest, CreationOrderContinuesAcrossPaths) {
  // (not `name: y`: YAML 1.1 reads a bare y as a boolean, as Kuma's parser does)
  Write("x.yaml", "type: MeshAccessLog\nname: first\nspec: {to: []}\n");
  Write("y.yaml", "type: MeshAccessLog\nname: second\nspec: {to: []}\n");
  DecodeResult r = LoadPaths({(dir_ / "y.yaml").string(), (dir_ / "x.yaml").string()});
  ASSERT_EQ(r.documents.size(), 2u);
  EXPECT_EQ(r.documents[0].meta().name, "second");
  EXPECT_EQ(r.documents[1].meta().creation_order, 1u);
}

}  // namespace
}  // namespace meshlog::policy
