// `meshlog format`: renders one access-log record exactly as the File backend would write it.
//
//   meshlog format --event EVENT.json (--plain 'FORMAT' | --json FORMAT.yaml | --default http|tcp)
//                  [--omit-empty-values]
//
// Plain and default formats get Kuma's trailing "\n"; JSON records end with the formatter's "\n".
// %KUMA_*% placeholders are bound from the event's "kuma" object. Exit codes: 0 printed,
// 2 = the format does not parse (Envoy's message on stderr) or the event / YAML / options are
// unusable (message on stderr). The EVENT.json schema is documented in docs/format-event.md.
#include <absl/time/time.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "format/formatter.h"

namespace meshlog::cli {

namespace {

using format::Address;
using format::HeaderMap;
using format::StreamInfo;
using nlohmann::json;

struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string DecodeBase64(const std::string& in, const std::string& field) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int v = value(c);
    if (v < 0) throw InputError(field + ": invalid base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

// The event's bytes: every string the StreamInfo views points into `storage` (a deque-like list
// of strings that never moves its elements).
struct Event {
  std::vector<std::unique_ptr<std::string>> storage;
  HeaderMap req, resp, trailers;
  StreamInfo info;
  format::KumaValues kuma;

  std::string_view Keep(std::string s) {
    storage.push_back(std::make_unique<std::string>(std::move(s)));
    return *storage.back();
  }
};

// A JSON string, or {"base64": "..."} for arbitrary bytes.
std::string BytesOf(const json& v, const std::string& field) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.size() == 1 && v.contains("base64") && v["base64"].is_string()) {
    return DecodeBase64(v["base64"].get<std::string>(), field);
  }
  throw InputError(field + ": expected a string or {\"base64\": \"...\"}");
}

format::SystemTime ParseTime(const json& v, const std::string& field) {
  if (v.is_number_integer()) return format::SystemTime(std::chrono::nanoseconds(v.get<int64_t>()));
  if (!v.is_string()) throw InputError(field + ": expected an RFC 3339 string");
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, v.get<std::string>(), &t, &err)) {
    throw InputError(field + ": " + err);
  }
  return format::SystemTime(std::chrono::nanoseconds(absl::ToUnixNanos(t)));
}

format::Protocol ParseProtocol(const json& v, const std::string& field) {
  const std::string s = v.get<std::string>();
  if (s == "HTTP/1.0") return format::Protocol::kHttp10;
  if (s == "HTTP/1.1") return format::Protocol::kHttp11;
  if (s == "HTTP/2") return format::Protocol::kHttp2;
  if (s == "HTTP/3") return format::Protocol::kHttp3;
  throw InputError(field + ": unknown protocol " + s);
}

void ParseHeaders(Event& e, const json& v, HeaderMap& map, const std::string& field) {
  if (!v.is_array()) throw InputError(field + ": expected a list of [name, value] pairs");
  for (const json& pair : v) {
    if (!pair.is_array() || pair.size() != 2) throw InputError(field + ": expected [name, value]");
    const std::string_view name = e.Keep(BytesOf(pair[0], field));
    const std::string_view value = e.Keep(BytesOf(pair[1], field));
    map.add(name, value);
  }
}

Address ParseAddress(const json& v, const std::string& field, Event& e) {
  const std::string_view text = e.Keep(v.get<std::string>());
  auto a = Address::Parse(text);
  if (!a) throw InputError(field + ": not an address (ip:port, [ipv6]:port or /path): " + std::string(text));
  return *a;
}

void ParseEvent(const json& j, Event& e) {
  if (!j.is_object()) throw InputError("EVENT.json: expected a JSON object");
  StreamInfo& info = e.info;
  for (const auto& [key, v] : j.items()) {
    const std::string f = key;
    if (f == "start_time") {
      info.start_time = ParseTime(v, f);
    } else if (f == "emit_time") {
      info.emit_time = ParseTime(v, f);
    } else if (f == "protocol") {
      info.protocol = ParseProtocol(v, f);
    } else if (f == "upstream_protocol") {
      info.upstream_protocol = ParseProtocol(v, f);
    } else if (f == "request_headers") {
      ParseHeaders(e, v, e.req, f);
      info.request_headers = &e.req;
    } else if (f == "response_headers") {
      ParseHeaders(e, v, e.resp, f);
      info.response_headers = &e.resp;
    } else if (f == "response_trailers") {
      ParseHeaders(e, v, e.trailers, f);
      info.response_trailers = &e.trailers;
    } else if (f == "response_code") {
      info.response_code = v.get<uint32_t>();
    } else if (f == "response_code_details") {
      info.response_code_details = e.Keep(BytesOf(v, f));
    } else if (f == "connection_termination_details") {
      info.connection_termination_details = e.Keep(BytesOf(v, f));
    } else if (f == "response_flags") {
      for (const json& name : v) {
        const std::string n = name.get<std::string>();
        bool found = false;
        for (size_t i = 0; i < static_cast<size_t>(format::ResponseFlag::kCount); ++i) {
          const auto flag = static_cast<format::ResponseFlag>(i);
          if (format::ResponseFlagShortName(flag) == n || format::ResponseFlagLongName(flag) == n) {
            info.response_flags.set(flag);
            found = true;
            break;
          }
        }
        if (!found) throw InputError("response_flags: unknown flag " + n);
      }
    } else if (f == "access_log_type") {
      const std::string n = v.get<std::string>();
      bool found = false;
      for (uint8_t i = 0; i <= static_cast<uint8_t>(format::AccessLogType::UdpSessionEnd); ++i) {
        if (format::AccessLogTypeName(static_cast<format::AccessLogType>(i)) == n) {
          info.access_log_type = static_cast<format::AccessLogType>(i);
          found = true;
        }
      }
      if (!found) throw InputError("access_log_type: unknown type " + n);
    } else if (f == "bytes_received") {
      info.bytes_received = v.get<uint64_t>();
    } else if (f == "bytes_sent") {
      info.bytes_sent = v.get<uint64_t>();
    } else if (f == "upstream_wire_bytes_sent") {
      info.upstream_wire_bytes_sent = v.get<uint64_t>();
    } else if (f == "upstream_wire_bytes_received") {
      info.upstream_wire_bytes_received = v.get<uint64_t>();
    } else if (f == "upstream_header_bytes_sent") {
      info.upstream_header_bytes_sent = v.get<uint64_t>();
    } else if (f == "upstream_header_bytes_received") {
      info.upstream_header_bytes_received = v.get<uint64_t>();
    } else if (f == "downstream_wire_bytes_sent") {
      info.downstream_wire_bytes_sent = v.get<uint64_t>();
    } else if (f == "downstream_wire_bytes_received") {
      info.downstream_wire_bytes_received = v.get<uint64_t>();
    } else if (f == "downstream_header_bytes_sent") {
      info.downstream_header_bytes_sent = v.get<uint64_t>();
    } else if (f == "downstream_header_bytes_received") {
      info.downstream_header_bytes_received = v.get<uint64_t>();
    } else if (f == "duration_ns") {
      info.duration = std::chrono::nanoseconds(v.get<int64_t>());
    } else if (f == "timing_ns") {
      static constexpr const char* kNames[] = {"DS_RX_BEG", "DS_RX_END", "US_CX_BEG", "US_CX_END",
                                               "US_HS_END", "US_TX_BEG", "US_TX_END", "US_RX_BEG",
                                               "US_RX_BODY_BEG", "US_RX_END", "DS_TX_BEG", "DS_TX_END"};
      for (const auto& [point, ns] : v.items()) {
        bool found = false;
        for (size_t i = 0; i < std::size(kNames); ++i) {
          if (point == kNames[i]) {
            info.timings[i] = std::chrono::nanoseconds(ns.get<int64_t>());
            found = true;
          }
        }
        if (!found) throw InputError("timing_ns: unknown time point " + point);
      }
    } else if (f == "downstream_remote_address") {
      info.downstream_remote = ParseAddress(v, f, e);
    } else if (f == "downstream_direct_remote_address") {
      info.downstream_direct_remote = ParseAddress(v, f, e);
    } else if (f == "downstream_local_address") {
      info.downstream_local = ParseAddress(v, f, e);
    } else if (f == "downstream_direct_local_address") {
      info.downstream_direct_local = ParseAddress(v, f, e);
    } else if (f == "upstream_host") {
      info.upstream_host = ParseAddress(v, f, e);
    } else if (f == "upstream_remote_address") {
      info.upstream_remote = ParseAddress(v, f, e);
    } else if (f == "upstream_local_address") {
      info.upstream_local = ParseAddress(v, f, e);
    } else if (f == "upstream_host_name") {
      info.upstream_host_name = e.Keep(BytesOf(v, f));
    } else if (f == "upstream_cluster") {
      info.upstream_cluster = e.Keep(BytesOf(v, f));
    } else if (f == "route_name") {
      info.route_name = e.Keep(BytesOf(v, f));
    } else if (f == "virtual_cluster_name") {
      info.virtual_cluster_name = e.Keep(BytesOf(v, f));
    } else if (f == "filter_chain_name") {
      info.filter_chain_name = e.Keep(BytesOf(v, f));
    } else if (f == "requested_server_name") {
      info.requested_server_name = e.Keep(BytesOf(v, f));
    } else if (f == "upstream_transport_failure_reason") {
      info.upstream_transport_failure_reason = e.Keep(BytesOf(v, f));
    } else if (f == "downstream_transport_failure_reason") {
      info.downstream_transport_failure_reason = e.Keep(BytesOf(v, f));
    } else if (f == "stream_id") {
      info.stream_id = e.Keep(BytesOf(v, f));
    } else if (f == "local_reply_body") {
      info.local_reply_body = e.Keep(BytesOf(v, f));
    } else if (f == "trace_id") {
      info.trace_id = e.Keep(BytesOf(v, f));
    } else if (f == "span_id") {
      info.span_id = e.Keep(BytesOf(v, f));
    } else if (f == "connection_id") {
      info.connection_id = v.get<uint64_t>();
    } else if (f == "upstream_connection_id") {
      info.upstream_connection_id = v.get<uint64_t>();
    } else if (f == "upstream_request_attempt_count") {
      info.upstream_request_attempt_count = v.get<uint32_t>();
    } else if (f == "kuma") {
      if (!v.is_object()) throw InputError("kuma: expected an object");
      const json& kuma = v;  // (clang 14 cannot capture structured bindings)
      auto str = [&kuma](const char* k) { return kuma.contains(k) ? kuma[k].get<std::string>() : std::string(); };
      e.kuma.mesh = str("mesh");
      e.kuma.source_service = str("source_service");
      e.kuma.destination_service = str("destination_service");
      e.kuma.source_ip = str("source_address");
      e.kuma.direction = str("direction");
      e.kuma.zone = str("zone");
      e.kuma.workload = str("workload");
    } else {
      throw InputError("EVENT.json: unknown field " + f);
    }
  }
}

format::JsonFields ReadJsonFormat(const std::string& path, const format::KumaValues& kuma) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& ex) {
    throw InputError(path + ": " + ex.what());
  }
  if (!root.IsSequence()) throw InputError(path + ": expected a list of {key, value} entries");
  format::JsonFields fields;
  for (const YAML::Node& entry : root) {
    if (!entry.IsMap() || !entry["key"] || !entry["value"] || !entry["key"].IsScalar() || !entry["value"].IsScalar()) {
      throw InputError(path + ": every entry needs scalar 'key' and 'value'");
    }
    fields.emplace_back(entry["key"].as<std::string>(),
                        format::BindKumaPlaceholders(entry["value"].as<std::string>(), kuma));
  }
  return fields;
}

}  // namespace

void AddFormatCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("format", "Render one access-log record from an event, as the File backend writes it");
  struct Options {
    std::string event;
    std::string plain;
    std::string json;
    std::string default_kind;
    bool omit = false;
  };
  auto opts = std::make_shared<Options>();
  cmd->add_option("--event", opts->event, "EVENT.json describing one request or connection")->required();
  auto* plain = cmd->add_option("--plain", opts->plain, "Plain format string (a trailing \\n is appended)");
  auto* json_opt = cmd->add_option("--json", opts->json, "FORMAT.yaml: a Kuma json list (- key: k / value: v)");
  auto* def = cmd->add_option("--default", opts->default_kind, "Kuma's default format")
                  ->check(CLI::IsMember({"http", "tcp"}));
  plain->excludes(json_opt)->excludes(def);
  json_opt->excludes(def);
  cmd->add_flag("--omit-empty-values", opts->omit, "Missing values print nothing (plain) or drop the key (JSON)");
  cmd->callback([opts, plain, json_opt, def, &exit_code] {
    if (plain->count() + json_opt->count() + def->count() != 1) {
      std::fprintf(stderr, "format: exactly one of --plain, --json, --default is required\n");
      exit_code = 2;
      return;
    }
    const auto omit = format::OmitEmptyValues(opts->omit);
    Event event;
    format::Compiled<format::FormatterPtr> compiled = format::Compiled<format::FormatterPtr>::Error("");
    try {
      json j;
      try {
        j = json::parse(ReadFile(opts->event));
      } catch (const json::exception& ex) {
        throw InputError(opts->event + ": " + ex.what());
      }
      try {
        ParseEvent(j, event);
      } catch (const json::exception& ex) {
        throw InputError(opts->event + ": " + ex.what());
      }
      if (plain->count() != 0 || def->count() != 0) {
        const std::string fmt = format::BindKumaPlaceholders(
            plain->count() != 0 ? std::string_view(opts->plain)
                                : (opts->default_kind == "http" ? format::DefaultHttpFormat() : format::DefaultTcpFormat()),
            event.kuma);
        // Report errors against the user's string (Envoy's test vectors), not the one with Kuma's
        // "\n" appended: the verdict and the position are the same.
        if (auto error = format::ValidateFormat(fmt)) {
          compiled = format::Compiled<format::FormatterPtr>::Error(*error);
        } else {
          compiled = format::CompilePlain(fmt + "\n", omit);
        }
      } else {
        compiled = format::CompileJson(ReadJsonFormat(opts->json, event.kuma), omit);
      }
    } catch (const InputError& ex) {
      std::fprintf(stderr, "format: %s\n", ex.what());
      exit_code = 2;
      return;
    }
    if (!compiled.ok()) {
      std::fprintf(stderr, "%s\n", compiled.error().c_str());
      exit_code = 2;
      return;
    }
    std::string out;
    compiled.value()->format(event.info, out);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    exit_code = 0;
  });
}

}  // namespace meshlog::cli
