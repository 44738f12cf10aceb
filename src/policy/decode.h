// File: decode.h
//
// Decoding Kuma resources from YAML text into the typed model of resources.h. Pure: no I/O here
// (reading files, directories and stdin is in load.h).
//
// Both forms are accepted, in any mix, with any number of `---`-separated documents:
//   Universal:  type: MeshAccessLog / name: x / mesh: default / labels: {...} / spec: {...}
//               (legacy kinds Dataplane and MeshGateway keep their fields at top level, e.g.
//               `networking:`, `selectors:`, `conf:`)
//   Kubernetes: apiVersion: kuma.io/v1alpha1 / kind: MeshAccessLog /
//               metadata: {name, namespace, labels: {kuma.io/mesh: default}} / spec: {...}
//               (mesh = label kuma.io/mesh, else a top-level `mesh:` field, else "default")
//
// While decoding, the document is checked against the resource's OpenAPI schema the way Kuma does
// before its Go validator (pkg/core/resources/model/rest/unmarshaller.go + kube-openapi): wrong
// JSON type, value outside an enum, missing required field, minLength, the OTel attribute key
// pattern. Those errors become `schema_violations` in Kuma's `field: message` shape, e.g.
//   {field: "spec.to[0].default.backends[0].type", message: "in body should be one of [Tcp File OpenTelemetry]"}
// Unknown fields of MeshAccessLog (whose schema meshlog knows completely) are reported as
//   {field: "spec.to[0].foo", message: "unknown field \"foo\""}.
// Scalars are typed like Kuma's YAML parser (YAML 1.1: `yes`/`on` are booleans, `1.0` a number).
//
// Example:
//   DecodeResult r = DecodeYaml("type: MeshAccessLog\nname: x\nspec:\n  to: []\n", "x.yaml");
//   ASSERT_TRUE(r.errors.empty());
//   const auto& mal = std::get<MeshAccessLogResource>(r.documents[0].resource);
//   EXPECT_TRUE(mal.spec.to.has_value() && mal.spec.to->empty());
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/resources.h"
#include "policy/value.h"
#include "policy/violation.h"

namespace meshlog::policy {

// A problem that prevents decoding a whole source: unreadable file, YAML syntax error, a document
// that cannot be represented as JSON (non-scalar map key), or one nested too deeply / too large.
struct SourceError {
  std::string path;
  int line = 0;    // 1-based; 0 when not applicable (e.g. unreadable file)
  int column = 0;  // 1-based; 0 when not applicable
  std::string message;

  // "<path>:<line>:<column>: <message>", or "<path>: <message>" without a position.
  std::string ToString() const;
  bool operator==(const SourceError&) const = default;
};

struct DecodedDocument {
  AnyResource resource;
  // Schema-level errors (Kuma reports these before, and instead of, its Go validator). When not
  // empty, the typed spec may be partial (invalid fields are left unset).
  std::vector<Violation> schema_violations;
  // Decoder notes, e.g. that a resource type is known to Kuma but not interpreted by meshlog.
  std::vector<std::string> warnings;

  const ResourceMeta& meta() const { return MetaOf(resource); }
};

struct DecodeResult {
  std::vector<DecodedDocument> documents;  // in source order; empty YAML documents are skipped
  std::vector<SourceError> errors;

  void Append(DecodeResult&& other);
};

// Limits that keep hostile input (deep nesting, alias bombs) from exhausting the stack or memory.
inline constexpr int kMaxValueDepth = 128;
inline constexpr size_t kMaxValueNodes = 100'000;

// Decodes every YAML document of `text`. `source_name` names the source in locations and errors.
// Resources get creation_order = first_creation_order, first_creation_order + 1, ...
DecodeResult DecodeYaml(std::string_view text, std::string_view source_name, uint64_t first_creation_order = 0);

// Parses YAML text into Value trees (one per non-empty document, with its 0-based document index).
// On a syntax error returns the documents before it plus the error. Used by DecodeYaml.
struct ParsedDocument {
  int index = 0;
  Value value;
};
std::vector<ParsedDocument> ParseYamlDocuments(std::string_view text, std::string_view source_name,
                                               std::vector<SourceError>& errors);

// Decodes one document already parsed into a Value (must be an object to be a resource).
DecodedDocument DecodeDocument(const Value& document, const SourceLocation& where, uint64_t creation_order);

// Groups every decoded resource by kind (documents with schema violations included; callers that
// want only valid resources filter first, e.g. with policy::ValidateDocument).
ResourceSet CollectResources(const DecodeResult& result);

// Kuma's resource type names (v2.14) that meshlog does not interpret; such documents decode to an
// OtherResource with a warning. Any other unknown type is a violation.
bool IsKnownKumaType(std::string_view type_name);

}  // namespace meshlog::policy
