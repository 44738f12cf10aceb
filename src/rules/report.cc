#include "rules/report.h"

#include <algorithm>
#include <sstream>

namespace meshlog::rules {

using json = nlohmann::ordered_json;

namespace {

std::string Base64(std::string_view in) {
  static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += kTable[v & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t v = uint8_t(in[i]) << 16;
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kTable[(v >> 18) & 63];
    out += kTable[(v >> 12) & 63];
    out += kTable[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

json BackendJson(const BackendConfig& b) {
  json j;
  j["type"] = std::string(policy::BackendTypeName(b.type));
  switch (b.type) {
    case policy::BackendType::kFile: j["path"] = b.path; break;
    case policy::BackendType::kTcp: j["address"] = b.address; break;
    case policy::BackendType::kOpenTelemetry:
      j["endpoint"] = b.endpoint;
      j["protocol"] = b.otel_protocol;
      if (!b.path.empty()) j["path"] = b.path;
      if (!b.backend_ref.empty()) j["backend_ref"] = b.backend_ref;
      if (!b.resource_attributes.empty()) {
        json attrs = json::array();
        for (const auto& [k, v] : b.resource_attributes) attrs.push_back(json{{"key", k}, {"value", v}});
        j["resource_attributes"] = std::move(attrs);
      }
      break;
  }
  return j;
}

json FormatJson(const AccessLogConfig& log) {
  const FormatConfig& f = log.format;
  json j;
  switch (f.type) {
    case FormatConfig::Type::kPlain:
      j["type"] = "Plain";
      j["value"] = f.plain;
      break;
    case FormatConfig::Type::kJson: {
      j["type"] = "Json";
      json fields = json::array();
      for (const auto& [k, v] : f.json) fields.push_back(json{{"key", k}, {"value", v}});
      j["value"] = std::move(fields);
      break;
    }
    case FormatConfig::Type::kOtelBody:
      j["type"] = "Body";
      j["value"] = OtelValueJson(f.otel_body);
      break;
  }
  j["omit_empty_values"] = f.omit_empty_values;
  if (log.backend.type == policy::BackendType::kOpenTelemetry) {
    json attrs = json::array();
    for (const auto& [k, v] : f.otel_attributes) attrs.push_back(json{{"key", k}, {"value", v}});
    j["attributes"] = std::move(attrs);
  }
  return j;
}

json MatchJson(const std::optional<policy::Match>& m) {
  if (!m) return nullptr;
  json j;
  if (m->spiffe_id) {
    j["spiffe_id"] = json{{"type", m->spiffe_id->type == policy::SpiffeIdMatchType::kPrefix ? "Prefix" : "Exact"},
                          {"value", m->spiffe_id->value}};
  }
  if (m->sni) j["sni"] = json{{"type", "Exact"}, {"value", m->sni->value}};
  j["cel"] = MatchToCel(m);
  return j;
}

json AccessLogJson(const AccessLogConfig& log) {
  json j;
  j["policy"] = log.policy;
  j["entry"] = log.entry;
  j["backend"] = BackendJson(log.backend);
  j["format"] = FormatJson(log);
  j["match"] = MatchJson(log.match);
  if (!log.compile_error.empty()) j["compile_error"] = log.compile_error;
  return j;
}

const ListenerConfig* FindListener(const DataplaneConfig* c, const std::string& name) {
  if (c == nullptr) return nullptr;
  for (const auto& l : c->listeners) {
    if (l.info.name == name) return &l;
  }
  return nullptr;
}

bool Contains(const ListenerConfig* l, const AccessLogConfig& log) {
  if (l == nullptr) return false;
  return std::any_of(l->access_logs.begin(), l->access_logs.end(),
                     [&](const AccessLogConfig& x) { return x.SameAs(log); });
}

std::string_view Direction(const ListenerInfo& info) {
  return info.kind == ListenerKind::kInbound ? "INBOUND" : "OUTBOUND";
}

}  // namespace

json OtelValueJson(const format::OtelValue& v) {
  using Kind = format::OtelValue::Kind;
  switch (v.kind) {
    case Kind::kEmpty: return json::object();
    case Kind::kString: return json{{"stringValue", v.string_value}};
    case Kind::kBool: return json{{"boolValue", v.bool_value}};
    case Kind::kInt: return json{{"intValue", std::to_string(v.int_value)}};
    case Kind::kDouble: return json{{"doubleValue", v.double_value}};
    case Kind::kBytes: return json{{"bytesValue", Base64(v.string_value)}};
    case Kind::kArray: {
      json values = json::array();
      for (const auto& e : v.array_values) values.push_back(OtelValueJson(e));
      return json{{"arrayValue", json{{"values", std::move(values)}}}};
    }
    case Kind::kKvList: {
      json values = json::array();
      for (const auto& [k, e] : v.kvlist_values) values.push_back(json{{"key", k}, {"value", OtelValueJson(e)}});
      return json{{"kvlistValue", json{{"values", std::move(values)}}}};
    }
  }
  return nullptr;
}

json ReportJson(const DataplaneConfig& config, const DataplaneConfig* baseline) {
  json j;
  j["mesh"] = config.mesh;
  j["dataplane"] = config.dataplane;
  j["proxy_type"] = std::string(ProxyKindName(config.proxy_kind));
  if (baseline) j["shadow"] = true;
  json listeners = json::array();
  for (const ListenerConfig& l : config.listeners) {
    json lj;
    lj["name"] = l.info.name;
    lj["direction"] = std::string(Direction(l.info));
    lj["protocol"] = l.info.protocol;
    lj["address"] = l.info.address;
    lj["source_service"] = l.info.kuma.source_service;
    lj["destination_service"] = l.info.kuma.destination_service;
    lj["source_address"] = l.info.kuma.source_ip;
    if (l.info.kuma_inbound) {
      // Builtin gateway: the values its rules/from access logs use.
      lj["inbound"] = json{{"direction", "INBOUND"},
                           {"source_service", l.info.kuma_inbound->source_service},
                           {"destination_service", l.info.kuma_inbound->destination_service}};
    }
    json logs = json::array();
    const ListenerConfig* before = FindListener(baseline, l.info.name);
    for (const AccessLogConfig& log : l.access_logs) {
      json aj = AccessLogJson(log);
      if (baseline) aj["shadow"] = Contains(before, log) ? "unchanged" : "added";
      logs.push_back(std::move(aj));
    }
    lj["access_logs"] = std::move(logs);
    if (baseline) {
      json removed = json::array();
      if (before) {
        for (const AccessLogConfig& log : before->access_logs) {
          if (!Contains(&l, log)) removed.push_back(AccessLogJson(log));
        }
      }
      lj["shadow_removed"] = std::move(removed);
    }
    listeners.push_back(std::move(lj));
  }
  j["listeners"] = std::move(listeners);
  if (!config.warnings.empty()) j["warnings"] = config.warnings;
  return j;
}

namespace {

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out;
}

std::string BackendText(const BackendConfig& b) {
  switch (b.type) {
    case policy::BackendType::kFile: return "File " + b.path;
    case policy::BackendType::kTcp: return "Tcp " + b.address;
    case policy::BackendType::kOpenTelemetry: {
      std::string s = "OpenTelemetry " + b.endpoint + " (" + b.otel_protocol + (b.path.empty() ? "" : " " + b.path) + ")";
      if (!b.backend_ref.empty()) s += " via " + b.backend_ref;
      return s;
    }
  }
  return "";
}

std::string FormatText(const AccessLogConfig& log) {
  const FormatConfig& f = log.format;
  std::string s;
  switch (f.type) {
    case FormatConfig::Type::kPlain: s = (f.is_default ? "Plain (default) " : "Plain ") + Escape(f.plain); break;
    case FormatConfig::Type::kJson: {
      s = "Json {";
      for (size_t i = 0; i < f.json.size(); ++i) {
        if (i) s += ", ";
        s += f.json[i].first + ": " + Escape(f.json[i].second);
      }
      s += "}";
      break;
    }
    case FormatConfig::Type::kOtelBody: s = "Body " + OtelValueJson(f.otel_body).dump(); break;
  }
  if (f.omit_empty_values) s += " [omitEmptyValues]";
  if (!f.otel_attributes.empty()) {
    s += " attributes {";
    for (size_t i = 0; i < f.otel_attributes.size(); ++i) {
      if (i) s += ", ";
      s += f.otel_attributes[i].first + ": " + Escape(f.otel_attributes[i].second);
    }
    s += "}";
  }
  return s;
}

std::string Pad(const std::string& s, size_t width) { return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' '); }

}  // namespace

std::string ReportText(const DataplaneConfig& config, const DataplaneConfig* baseline) {
  std::ostringstream out;
  out << "Dataplane " << config.dataplane << " (mesh " << config.mesh << ", " << ProxyKindName(config.proxy_kind)
      << ")" << (baseline ? ", shadow policies applied" : "") << "\n";
  for (const ListenerConfig& l : config.listeners) {
    out << "\n"
        << l.info.name << "  " << Direction(l.info) << " " << l.info.protocol << "  " << l.info.kuma.source_service
        << " -> " << l.info.kuma.destination_service << "  (source address " << l.info.kuma.source_ip << ")\n";
    if (l.info.kuma_inbound) {
      out << "  inbound rules log as: INBOUND " << l.info.kuma_inbound->source_service << " -> "
          << l.info.kuma_inbound->destination_service << "\n";
    }
    const ListenerConfig* before = FindListener(baseline, l.info.name);
    std::vector<const AccessLogConfig*> removed;
    if (baseline && before) {
      for (const auto& log : before->access_logs) {
        if (!Contains(&l, log)) removed.push_back(&log);
      }
    }
    if (l.access_logs.empty() && removed.empty()) {
      out << "  (no access log)\n";
      continue;
    }
    // Column widths fitted to this listener's rows.
    size_t wp = 6, we = 5, wb = 7;
    auto widen = [&](const AccessLogConfig& log) {
      wp = std::max(wp, log.policy.size());
      we = std::max(we, log.entry.size());
      wb = std::max(wb, BackendText(log.backend).size());
    };
    for (const auto& log : l.access_logs) widen(log);
    for (const auto* log : removed) widen(*log);
    out << "  " << Pad("#", 3) << Pad("POLICY", wp + 2) << Pad("ENTRY", we + 2) << Pad("BACKEND", wb + 2) << "MATCH\n";
    int n = 0;
    auto row = [&](const AccessLogConfig& log, std::string_view mark) {
      ++n;
      const std::string cel = MatchToCel(log.match);
      out << "  " << Pad(std::to_string(n), 3) << Pad(log.policy, wp + 2) << Pad(log.entry, we + 2)
          << Pad(BackendText(log.backend), wb + 2) << (cel.empty() ? "-" : cel) << mark << "\n";
      out << "       format: " << FormatText(log) << "\n";
      if (!log.compile_error.empty()) out << "       compile error: " << log.compile_error << "\n";
    };
    for (const auto& log : l.access_logs) {
      row(log, baseline ? (Contains(before, log) ? "" : "   [shadow: added]") : "");
    }
    for (const auto* log : removed) row(*log, "   [shadow: removed]");
  }
  if (!config.warnings.empty()) {
    out << "\nWarnings:\n";
    for (const auto& w : config.warnings) out << "  " << w << "\n";
  }
  return out.str();
}

}  // namespace meshlog::rules
