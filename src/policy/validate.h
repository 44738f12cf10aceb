// File: validate.h
//
// Kuma v2.14's validation of resources, reproduced rule for rule: same order, same field paths,
// same messages (spec/policy.md §2). Pure functions over the typed model.
//
//   ValidateMeshAccessLog   MeshAccessLogResource.validate() (meshaccesslog/api/v1alpha1/validator.go)
//   MeshAccessLogDeprecations  its Deprecations() warnings (deprecated.go)
//   ValidateTargetRef / ValidateMatch  pkg/core/resources/apis/mesh/validators.go
//   ValidateMeshOpenTelemetryBackend   meshopentelemetrybackend validator (endpoint/path/port rules)
//   ValidateUniversalMeta   name/mesh of Universal resources (meta_validator.go)
//   ValidateDocument        what `meshlog validate` reports for one decoded document: the schema
//                           violations if there are any (Kuma stops there), else the Go-level ones,
//                           else (Universal) the name/mesh checks; plus warnings.
//
// Example:
//   MeshAccessLogSpec spec;                      // no targetRef, no to/from/rules
//   EXPECT_EQ(ValidateMeshAccessLog(spec),
//             (std::vector<Violation>{{"spec", "at least one of 'from', 'to' or 'rules' has to be defined"}}));
#pragma once

#include <string>
#include <vector>

#include "policy/decode.h"
#include "policy/resources.h"
#include "policy/violation.h"

namespace meshlog::policy {

struct TargetRefOptions {
  std::vector<TargetRefKind> supported_kinds;
  bool gateway_listener_tags_allowed = false;
  bool is_inbound_policy = false;
};

// mesh.ValidateTargetRef: violations relative to the targetRef (e.g. field "kind", "name", "").
ValidationErrors ValidateTargetRef(const TargetRef& ref, const TargetRefOptions& opts);

// mesh.ValidateMatch: violations relative to the match (fields "spiffeID", "sni.type", "sni.value").
ValidationErrors ValidateMatch(const Match& match);

// The full MeshAccessLog validation, fields rooted at "spec".
std::vector<Violation> ValidateMeshAccessLog(const MeshAccessLogSpec& spec);

// Kuma's deprecation warnings for a MeshAccessLog, in Kuma's order.
std::vector<std::string> MeshAccessLogDeprecations(const MeshAccessLogSpec& spec);

// MeshOpenTelemetryBackend validation, fields rooted at "spec".
std::vector<Violation> ValidateMeshOpenTelemetryBackend(const MeshOpenTelemetryBackendSpec& spec);

// Universal resource metadata (pkg/core/resources/apis/mesh/meta_validator.go, applied by Kuma's
// API server once the spec is valid): `name` must be an RFC 1123 subdomain, `mesh` may also use '_'.
std::vector<Violation> ValidateUniversalMeta(const ResourceMeta& meta);

struct ValidationReport {
  std::vector<Violation> violations;
  std::vector<std::string> warnings;
  bool valid() const { return violations.empty(); }
};

ValidationReport ValidateDocument(const DecodedDocument& doc);

}  // namespace meshlog::policy
