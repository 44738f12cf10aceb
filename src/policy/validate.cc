#include "policy/validate.h"

#include <arpa/inet.h>

#include <algorithm>
#include <string_view>

#include "policy/patterns.h"
#include "policy/regex.h"

namespace meshlog::policy {
namespace {

constexpr std::string_view kMustBeDefined = "must be defined";
constexpr std::string_view kMustNotBeEmpty = "must not be empty";
constexpr std::string_view kMustBeStaticOtelAttributeName =
    "must be a static OpenTelemetry attribute name; placeholders are only supported in values";
constexpr std::string_view kMustNotUseReservedOtelPrefix = "must not use the reserved OpenTelemetry prefix 'otel.'";
constexpr std::string_view kMustMatchOtelAttributeNameFormat =
    "must start with a lowercase letter, use only lowercase letters, digits, '.' or '_', avoid consecutive "
    "delimiters, and end with a letter or digit";

std::string Kind(TargetRefKind k) { return std::string(TargetRefKindName(k)); }

bool IsSet(const std::optional<std::string>& s) { return s.has_value() && !s->empty(); }
bool IsSet(const std::optional<StringMap>& m) { return m.has_value() && !m->empty(); }
bool IsSet(const std::optional<std::vector<ProxyType>>& p) { return p.has_value() && !p->empty(); }

template <typename T>
void DisallowedField(ValidationErrors& err, std::string_view name, const T& value, TargetRefKind kind) {
  if (IsSet(value)) err.AddViolation(std::string(name), "must not be set with kind " + Kind(kind));
}

void RequiredField(ValidationErrors& err, std::string_view name, const std::optional<std::string>& value,
                   TargetRefKind kind) {
  if (!IsSet(value)) err.AddViolation(std::string(name), "must be set when kind is " + Kind(kind));
}

void ValidateName(ValidationErrors& err, const std::optional<std::string>& name) {
  if (!IsKumaNameCharset(name.value_or(""))) {
    err.AddViolation("name", "invalid characters: must consist of lower case alphanumeric characters, '-', '.' and '_'.");
  }
}

void ValidateProxyTypes(ValidationErrors& err, const std::optional<std::vector<ProxyType>>& proxy_types) {
  if (proxy_types.has_value() && proxy_types->empty()) {
    err.AddViolation("proxyTypes", "must be undefined or have at least one element");
  }
}

// validateTagKeyValues with the value-charset validator of ValidateTags (selector=false) or
// ValidateSelector (selector=true). Keys are visited sorted (std::map order = Go's sort.Strings).
void ValidateTagKeyValues(ValidationErrors& err, const std::optional<StringMap>& tags, bool selector) {
  const FieldPath path = FieldPath::RootedAt("tags");
  if (!tags) return;
  for (const auto& [key, value] : *tags) {
    if (key.empty()) err.AddViolationAt(path, "tag name must be non-empty");
    if (!IsKumaTagNameCharset(key)) {
      err.AddViolationAt(path.Key(key), "tag name must consist of alphanumeric characters, dots, dashes, slashes and underscores");
    }
    if (value.empty()) err.AddViolationAt(path.Key(key), "tag value must be non-empty");
    if (selector) {
      if (!IsKumaSelectorValueCharset(value)) {
        err.AddViolationAt(path.Key(key),
                           "tag value must consist of alphanumeric characters, dots, dashes, slashes and underscores or be \"*\"");
      }
    } else if (!IsKumaTagValueCharset(value)) {
      err.AddViolationAt(path.Key(key), "tag value must consist of alphanumeric characters, dots, dashes and underscores");
    }
  }
}

bool LabelsWithNameOrNamespace(const TargetRef& ref) {
  return IsSet(ref.labels) && (IsSet(ref.name) || IsSet(ref.namespace_));
}

// ---- MeshAccessLog ----

ValidationErrors ValidateFormat(const Format& format) {
  ValidationErrors verr;
  if (!format.type) {
    verr.AddViolation("type", std::string(kMustBeDefined));
    return verr;
  }
  switch (*format.type) {
    case FormatType::kPlain: {
      const FieldPath root = FieldPath::RootedAt("plain");
      if (!format.plain) {
        verr.AddViolationAt(root, std::string(kMustBeDefined));
        break;
      }
      if (format.plain->empty()) verr.AddViolationAt(root, std::string(kMustNotBeEmpty));
      break;
    }
    case FormatType::kJson: {
      const FieldPath root = FieldPath::RootedAt("json");
      if (!format.json) {
        verr.AddViolationAt(root, std::string(kMustBeDefined));
        break;
      }
      if (format.json->empty()) verr.AddViolation("json", std::string(kMustNotBeEmpty));
      for (size_t i = 0; i < format.json->size(); ++i) {
        const JsonValue& field = (*format.json)[i];
        const FieldPath path = root.Index(i);
        if (field.key.empty()) verr.AddViolationAt(path.Field("key"), "key cannot be empty");
        if (field.value.empty()) verr.AddViolationAt(path.Field("value"), "value cannot be empty");
        // Kuma builds `{"<key>": "<value>"}` without escaping and checks that it parses as JSON.
        if (!IsGoJSON("{\"" + field.key + "\": \"" + field.value + "\"}")) {
          verr.AddViolationAt(path, "is not a valid JSON object");
        }
      }
      break;
    }
  }
  return verr;
}

ValidationErrors ValidateOtelAttributeName(const FieldPath& path, const std::string& value) {
  ValidationErrors err;
  if (value.empty()) {
    err.AddViolationAt(path, std::string(kMustBeDefined));
  } else if (value.find('%') != std::string::npos) {
    err.AddViolationAt(path, std::string(kMustBeStaticOtelAttributeName));
  } else if (value.rfind("otel.", 0) == 0) {
    err.AddViolationAt(path, std::string(kMustNotUseReservedOtelPrefix));
  } else if (!MatchesOtelAttributeKeySchemaPattern(value)) {
    err.AddViolationAt(path, std::string(kMustMatchOtelAttributeNameFormat));
  }
  return err;
}

ValidationErrors ValidateBackendResourceRef(const BackendResourceRef& ref) {
  ValidationErrors verr;
  if (ref.kind != BackendRefKind::kMeshOpenTelemetryBackend) {
    ValidationErrors one_of;
    one_of.AddViolation("", "\"kind\" must be one of [\"MeshOpenTelemetryBackend\"]");
    verr.AddErrorAt(FieldPath::RootedAt("kind"), one_of);
  }
  if (ref.labels.empty()) verr.AddViolation("", "backendRef must have exactly one defined: labels");
  return verr;
}

ValidationErrors ValidateOtelBackendRefOrEndpoint(const std::string& endpoint, const std::optional<BackendResourceRef>& ref) {
  ValidationErrors verr;
  if (!endpoint.empty() && ref) {
    verr.AddViolation("", "openTelemetry must have only one type defined: endpoint, backendRef");
  } else if (endpoint.empty() && !ref) {
    verr.AddViolation("", "openTelemetry must have exactly one defined: endpoint, backendRef");
  } else if (ref) {
    verr.AddErrorAt(FieldPath::RootedAt("backendRef"), ValidateBackendResourceRef(*ref));
  } else if (endpoint.find_first_of("/?#") != std::string::npos) {
    verr.AddViolationAt(FieldPath::RootedAt("endpoint"), "must be in host:port format, not a URL");
  }
  return verr;
}

ValidationErrors ValidateBackend(const Backend& backend) {
  ValidationErrors verr;
  if (!backend.type) {
    verr.AddViolation("type", std::string(kMustBeDefined));
    return verr;
  }
  switch (*backend.type) {
    case BackendType::kFile: {
      const FieldPath root = FieldPath::RootedAt("file");
      if (!backend.file) {
        verr.AddViolationAt(root, std::string(kMustBeDefined));
        break;
      }
      if (backend.file->format) verr.AddErrorAt(root.Field("format"), ValidateFormat(*backend.file->format));
      if (!IsGovalidatorFilePath(backend.file->path)) verr.AddViolationAt(root.Field("path"), "file backend requires a valid path");
      break;
    }
    case BackendType::kTcp: {
      const FieldPath root = FieldPath::RootedAt("tcp");
      if (!backend.tcp) {
        verr.AddViolationAt(root, std::string(kMustBeDefined));
        break;
      }
      if (backend.tcp->format) verr.AddErrorAt(root.Field("format"), ValidateFormat(*backend.tcp->format));
      if (!IsGovalidatorURL(backend.tcp->address)) verr.AddViolationAt(root.Field("address"), "tcp backend requires valid address");
      break;
    }
    case BackendType::kOpenTelemetry: {
      const FieldPath root = FieldPath::RootedAt("openTelemetry");
      if (!backend.open_telemetry) {
        verr.AddViolationAt(root, std::string(kMustBeDefined));
        break;
      }
      const OtelBackend& otel = *backend.open_telemetry;
      verr.AddErrorAt(root, ValidateOtelBackendRefOrEndpoint(otel.endpoint, otel.backend_ref));
      ValidationErrors attrs;
      if (otel.attributes) {
        for (size_t i = 0; i < otel.attributes->size(); ++i) {
          attrs.Add(ValidateOtelAttributeName(FieldPath::RootedAt("attributes").Index(i).Field("key"), (*otel.attributes)[i].key));
        }
      }
      verr.AddErrorAt(root, attrs);
      break;
    }
  }
  return verr;
}

ValidationErrors ValidateDefault(const Conf& conf) {
  ValidationErrors verr;
  if (!conf.backends) {
    verr.AddViolation("backends", std::string(kMustBeDefined));
    return verr;
  }
  for (size_t i = 0; i < conf.backends->size(); ++i) {
    verr.AddErrorAt(FieldPath::RootedAt("backends").Index(i), ValidateBackend((*conf.backends)[i]));
  }
  return verr;
}

template <typename T>
size_t Len(const std::optional<std::vector<T>>& v) {
  return v ? v->size() : 0;
}

// ---- MeshOpenTelemetryBackend helpers ----

bool IsGoIP(const std::string& s) {
  in_addr a4;
  in6_addr a6;
  if (s.find('%') != std::string::npos) return false;
  return inet_pton(AF_INET, s.c_str(), &a4) == 1 || inet_pton(AF_INET6, s.c_str(), &a6) == 1;
}

// govalidator.IsDNSName.
bool IsGovalidatorDNSName(const std::string& s) {
  static const Regex kDNSName(R"(^([a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62}){1}(\.[a-zA-Z0-9_]{1}[a-zA-Z0-9_-]{0,62})*[\._]?$)");
  std::string without_dots;
  for (char c : s) {
    if (c != '.') without_dots += c;
  }
  if (s.empty() || without_dots.size() > 255) return false;
  return !IsGoIP(s) && kDNSName.FullMatch(s);
}

// validateIdentifier of pkg/core/resources/apis/mesh/meta_validator.go.
void ValidateIdentifier(ValidationErrors& err, const std::string& field, const std::string& id, bool backward_compat) {
  static const Regex kIdentifier(R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)");
  if (id.empty()) {
    err.AddViolation(field, "cannot be empty");
  } else if (id.size() > 253) {
    err.AddViolation(field, "value length must less or equal 253");
  } else if (backward_compat ? !IsKumaNameCharset(id) : !kIdentifier.FullMatch(id)) {
    err.AddViolation(field, backward_compat
                                ? "invalid characters. Valid characters are numbers, lowercase latin letters and '-', '_', '.' symbols."
                                : "invalid characters. A lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                                  "characters, '-' or '.', and must start and end with an alphanumeric character");
  }
}

}  // namespace

std::vector<Violation> ValidateUniversalMeta(const ResourceMeta& meta) {
  ValidationErrors err;
  ValidateIdentifier(err, "name", meta.name, /*backward_compat=*/false);
  ValidateIdentifier(err, "mesh", meta.mesh, /*backward_compat=*/true);
  return err.violations();
}

ValidationErrors ValidateTargetRef(const TargetRef& ref, const TargetRefOptions& opts) {
  ValidationErrors err;
  if (!ref.kind) {
    err.AddViolation("kind", std::string(kMustBeDefined));
    return err;
  }
  const TargetRefKind kind = *ref.kind;
  if (std::find(opts.supported_kinds.begin(), opts.supported_kinds.end(), kind) == opts.supported_kinds.end()) {
    err.AddViolation("kind", "value '" + Kind(kind) + "' is not supported");
    return err;
  }
  switch (kind) {
    case TargetRefKind::kMesh:
      if (IsSet(ref.name)) err.AddViolation("name", "using name with kind " + Kind(kind) + " is not yet supported");
      DisallowedField(err, "mesh", ref.mesh, kind);
      DisallowedField(err, "tags", ref.tags, kind);
      DisallowedField(err, "labels", ref.labels, kind);
      DisallowedField(err, "namespace", ref.namespace_, kind);
      DisallowedField(err, "sectionName", ref.section_name, kind);
      ValidateProxyTypes(err, ref.proxy_types);
      break;
    case TargetRefKind::kDataplane:
      DisallowedField(err, "tags", ref.tags, kind);
      DisallowedField(err, "mesh", ref.mesh, kind);
      DisallowedField(err, "proxyTypes", ref.proxy_types, kind);
      if (LabelsWithNameOrNamespace(ref)) err.AddViolation("labels", "either labels or name and namespace must be specified");
      if (!opts.is_inbound_policy && IsSet(ref.section_name)) {
        err.AddViolation("sectionName", "can only be used with inbound policies");
      }
      break;
    case TargetRefKind::kMeshSubset:
      DisallowedField(err, "name", ref.name, kind);
      DisallowedField(err, "mesh", ref.mesh, kind);
      ValidateTagKeyValues(err, ref.tags, /*selector=*/false);
      DisallowedField(err, "labels", ref.labels, kind);
      DisallowedField(err, "namespace", ref.namespace_, kind);
      DisallowedField(err, "sectionName", ref.section_name, kind);
      ValidateProxyTypes(err, ref.proxy_types);
      break;
    case TargetRefKind::kMeshService:
      ValidateName(err, ref.name);
      DisallowedField(err, "mesh", ref.mesh, kind);
      DisallowedField(err, "tags", ref.tags, kind);
      DisallowedField(err, "proxyTypes", ref.proxy_types, kind);
      if (!IsSet(ref.labels) && !IsSet(ref.name)) err.AddViolation("", "name or labels must be set when kind is " + Kind(kind));
      if (LabelsWithNameOrNamespace(ref)) err.AddViolation("labels", "either labels or name and namespace must be specified");
      break;
    case TargetRefKind::kMeshHTTPRoute:
      ValidateName(err, ref.name);
      DisallowedField(err, "mesh", ref.mesh, kind);
      DisallowedField(err, "tags", ref.tags, kind);
      DisallowedField(err, "proxyTypes", ref.proxy_types, kind);
      DisallowedField(err, "sectionName", ref.section_name, kind);
      if (!IsSet(ref.labels) && !IsSet(ref.name)) err.AddViolation("", "name or labels must be set when kind is " + Kind(kind));
      if (LabelsWithNameOrNamespace(ref)) err.AddViolation("labels", "either labels or name and namespace must be specified");
      break;
    case TargetRefKind::kMeshServiceSubset:
    case TargetRefKind::kMeshGateway:
      RequiredField(err, "name", ref.name, kind);
      ValidateName(err, ref.name);
      DisallowedField(err, "mesh", ref.mesh, kind);
      DisallowedField(err, "proxyTypes", ref.proxy_types, kind);
      ValidateTagKeyValues(err, ref.tags, /*selector=*/true);
      if (kind == TargetRefKind::kMeshGateway && IsSet(ref.tags) && !opts.gateway_listener_tags_allowed) {
        DisallowedField(err, "tags", ref.tags, kind);
      }
      DisallowedField(err, "labels", ref.labels, kind);
      DisallowedField(err, "namespace", ref.namespace_, kind);
      DisallowedField(err, "sectionName", ref.section_name, kind);
      break;
    case TargetRefKind::kMeshExternalService:
      ValidateName(err, ref.name);
      DisallowedField(err, "mesh", ref.mesh, kind);
      DisallowedField(err, "tags", ref.tags, kind);
      DisallowedField(err, "proxyTypes", ref.proxy_types, kind);
      if (!IsSet(ref.labels) && !IsSet(ref.name)) err.AddViolation("", "name or labels must be set when kind is " + Kind(kind));
      if (LabelsWithNameOrNamespace(ref)) err.AddViolation("labels", "either labels or name must be specified");
      DisallowedField(err, "sectionName", ref.section_name, kind);
      break;
    case TargetRefKind::kMeshMultiZoneService:
      break;
  }
  return err;
}

ValidationErrors ValidateMatch(const Match& match) {
  ValidationErrors verr;
  if (match.spiffe_id) {
    if (auto e = SpiffeIdError(match.spiffe_id->value)) verr.AddViolation("spiffeID", "must be a valid Spiffe ID: " + *e);
  }
  if (match.sni) {
    if (!match.sni->type) verr.AddViolation("sni.type", "must be set");
    if (match.sni->value.empty()) {
      verr.AddViolation("sni.value", "must be set");
    } else {
      for (std::string& e : Dns1123SubdomainErrors(match.sni->value)) verr.AddViolation("sni.value", std::move(e));
    }
  }
  return verr;
}

std::vector<Violation> ValidateMeshAccessLog(const MeshAccessLogSpec& spec) {
  ValidationErrors verr;
  const FieldPath path = FieldPath::RootedAt("spec");
  const TargetRef top = spec.EffectiveTargetRef();
  const size_t n_to = Len(spec.to), n_from = Len(spec.from), n_rules = Len(spec.rules);

  TargetRefOptions top_opts;
  top_opts.supported_kinds = {TargetRefKind::kMesh,        TargetRefKind::kMeshSubset,        TargetRefKind::kMeshGateway,
                              TargetRefKind::kMeshService, TargetRefKind::kMeshServiceSubset, TargetRefKind::kDataplane};
  top_opts.gateway_listener_tags_allowed = true;
  top_opts.is_inbound_policy = n_rules > 0 || n_from > 0;
  verr.AddErrorAt(path.Field("targetRef"), ValidateTargetRef(top, top_opts));

  if (n_rules > 0 && (n_to > 0 || n_from > 0)) {
    verr.AddViolationAt(path, "fields 'to' and 'from' must be empty when 'rules' is defined");
  }
  if (n_rules == 0 && n_to == 0 && n_from == 0) {
    verr.AddViolationAt(path, "at least one of 'from', 'to' or 'rules' has to be defined");
  }
  if (spec.to) {
    ValidationErrors to_errs;
    TargetRefOptions opts;
    if (top.kind == TargetRefKind::kMeshGateway) {
      opts.supported_kinds = {TargetRefKind::kMesh};
    } else {
      opts.supported_kinds = {TargetRefKind::kMesh, TargetRefKind::kMeshService, TargetRefKind::kMeshExternalService,
                              TargetRefKind::kMeshMultiZoneService, TargetRefKind::kMeshHTTPRoute};
    }
    for (size_t i = 0; i < spec.to->size(); ++i) {
      const FieldPath item = FieldPath::RootedAt("to").Index(i);
      to_errs.AddErrorAt(item.Field("targetRef"), ValidateTargetRef((*spec.to)[i].target_ref, opts));
      to_errs.AddErrorAt(item.Field("default"), ValidateDefault((*spec.to)[i].default_conf));
    }
    verr.AddErrorAt(path, to_errs);
  }
  if (spec.from) {
    ValidationErrors from_errs;
    TargetRefOptions opts;
    opts.supported_kinds = {TargetRefKind::kMesh};
    for (size_t i = 0; i < spec.from->size(); ++i) {
      const FieldPath item = FieldPath::RootedAt("from").Index(i);
      from_errs.AddErrorAt(item.Field("targetRef"), ValidateTargetRef((*spec.from)[i].target_ref, opts));
      from_errs.AddErrorAt(item.Field("default"), ValidateDefault((*spec.from)[i].default_conf));
    }
    verr.AddErrorAt(path, from_errs);
  }
  if (spec.rules) {
    ValidationErrors rule_errs;
    for (size_t i = 0; i < spec.rules->size(); ++i) {
      const Rule& rule = (*spec.rules)[i];
      const FieldPath item = FieldPath::RootedAt("rules").Index(i);
      ValidationErrors match_errs;
      if (rule.matches) {
        for (size_t j = 0; j < rule.matches->size(); ++j) {
          match_errs.AddErrorAt(FieldPath::RootedAt("matches").Index(j), ValidateMatch((*rule.matches)[j]));
        }
      }
      rule_errs.AddErrorAt(item, match_errs);
      rule_errs.AddErrorAt(item.Field("default"), ValidateDefault(rule.default_conf));
    }
    verr.AddErrorAt(path, rule_errs);
  }
  return verr.violations();
}

std::vector<std::string> MeshAccessLogDeprecations(const MeshAccessLogSpec& spec) {
  std::vector<std::string> out;
  if (Len(spec.from) > 0) out.emplace_back("'from' field is deprecated, use 'rules' instead");
  auto inline_endpoint = [](const Conf& conf) {
    if (!conf.backends) return false;
    return std::any_of(conf.backends->begin(), conf.backends->end(), [](const Backend& b) {
      return b.open_telemetry && !b.open_telemetry->endpoint.empty() && !b.open_telemetry->backend_ref;
    });
  };
  bool has_inline = false;
  if (spec.to) has_inline |= std::any_of(spec.to->begin(), spec.to->end(), [&](const To& t) { return inline_endpoint(t.default_conf); });
  if (spec.from) has_inline |= std::any_of(spec.from->begin(), spec.from->end(), [&](const From& f) { return inline_endpoint(f.default_conf); });
  if (spec.rules) has_inline |= std::any_of(spec.rules->begin(), spec.rules->end(), [&](const Rule& r) { return inline_endpoint(r.default_conf); });
  if (has_inline) {
    out.emplace_back("openTelemetry.endpoint is deprecated, use openTelemetry.backendRef with a MeshOpenTelemetryBackend resource instead");
  }
  if (spec.target_ref && spec.target_ref->kind) {
    const TargetRefKind k = *spec.target_ref->kind;
    if (k == TargetRefKind::kMeshService || k == TargetRefKind::kMeshServiceSubset || k == TargetRefKind::kMeshSubset) {
      out.push_back(Kind(k) + " value for 'targetRef.kind' is deprecated, use Dataplane with labels instead");
    } else if (k == TargetRefKind::kMeshHTTPRoute) {
      out.emplace_back("MeshHTTPRoute value for 'targetRef.kind' is deprecated, use MeshHTTPRoute in spec.to[].targetRef");
    }
  }
  return out;
}

std::vector<Violation> ValidateMeshOpenTelemetryBackend(const MeshOpenTelemetryBackendSpec& spec) {
  ValidationErrors verr;
  const FieldPath path = FieldPath::RootedAt("spec");
  const OtelProtocol protocol = spec.EffectiveProtocol();
  ValidationErrors ep;
  if (spec.endpoint_address) {
    if (spec.endpoint_address->empty()) {
      ep.AddViolationAt(FieldPath::RootedAt("address"), std::string(kMustNotBeEmpty));
    } else if (!IsGoIP(*spec.endpoint_address) && !IsGovalidatorDNSName(*spec.endpoint_address)) {
      ep.AddViolationAt(FieldPath::RootedAt("address"), "address has to be a valid IP or hostname");
    }
  }
  if (spec.endpoint_port && (*spec.endpoint_port == 0 || *spec.endpoint_port > 65535)) {
    ep.AddViolationAt(FieldPath::RootedAt("port"), "port must be a valid (1-65535)");
  }
  if (spec.endpoint_path && !spec.endpoint_path->empty()) {
    const FieldPath p = FieldPath::RootedAt("path");
    if (protocol == OtelProtocol::kGrpc) {
      ep.AddViolationAt(p, "must not be set when protocol is grpc");
    } else {
      if (spec.endpoint_path->front() != '/') ep.AddViolationAt(p, "must start with /");
      if (spec.endpoint_path->find_first_of("?#") != std::string::npos) ep.AddViolationAt(p, "must not contain query or fragment");
    }
  }
  if (spec.endpoint_address || spec.endpoint_port || spec.endpoint_path) verr.AddErrorAt(path.Field("endpoint"), ep);
  return verr.violations();
}

ValidationReport ValidateDocument(const DecodedDocument& doc) {
  ValidationReport report;
  report.warnings = doc.warnings;
  if (const auto* mal = std::get_if<MeshAccessLogResource>(&doc.resource)) {
    for (std::string& w : MeshAccessLogDeprecations(mal->spec)) report.warnings.push_back(std::move(w));
  }
  if (!doc.schema_violations.empty()) {
    report.violations = doc.schema_violations;
    return report;
  }
  if (const auto* mal = std::get_if<MeshAccessLogResource>(&doc.resource)) {
    report.violations = ValidateMeshAccessLog(mal->spec);
  } else if (const auto* motb = std::get_if<MeshOpenTelemetryBackendResource>(&doc.resource)) {
    report.violations = ValidateMeshOpenTelemetryBackend(motb->spec);
  }
  // Kuma's API server checks the name and mesh of Universal resources after the spec is valid.
  const ResourceMeta& meta = doc.meta();
  if (report.violations.empty() && meta.form == ResourceForm::kUniversal && meta.type != ResourceType::kOther) {
    report.violations = ValidateUniversalMeta(meta);
  }
  return report;
}

}  // namespace meshlog::policy
