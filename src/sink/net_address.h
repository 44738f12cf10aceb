// File: net_address.h
//
// HostPort: parses the `address` of a TCP backend and the `endpoint` of an OpenTelemetry backend:
// "host:port", "1.2.3.4:port", "[::1]:port". A bare host (no port) takes `default_port` when
// one is given (OTLP: 4317); a bare IPv6 address without brackets is a host only (Kuma's rule
// for inline OTLP endpoints). Returns std::nullopt for anything else (empty host, port outside
// 1..65535, junk after the bracket).
//
// Example:
//   auto hp = ParseHostPort("[::1]:5000");   // hp->host == "::1", hp->port == 5000
//   auto o = ParseHostPort("otel", 4317);    // o->host == "otel", o->port == 4317
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meshlog::sink {

struct HostPort {
  std::string host;
  uint16_t port = 0;
  // "host:port" or "[v6]:port", the canonical form used as a registry key / stats label.
  std::string toString() const {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
};

inline std::optional<uint16_t> ParsePort(std::string_view s) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v == 0 || v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

inline std::optional<HostPort> ParseHostPort(std::string_view s, std::optional<uint16_t> default_port = {}) {
  HostPort hp;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    hp.host = std::string(s.substr(1, close - 1));
    auto rest = s.substr(close + 1);
    if (rest.empty()) {
      if (!default_port) return std::nullopt;
      hp.port = *default_port;
      return hp;
    }
    if (rest.front() != ':') return std::nullopt;
    auto port = ParsePort(rest.substr(1));
    if (!port) return std::nullopt;
    hp.port = *port;
    return hp;
  }
  auto colon = s.rfind(':');
  if (colon == std::string_view::npos || s.find(':') != colon) {
    // No port, or several colons (a bare IPv6 address): host only.
    if (!default_port || s.empty()) return std::nullopt;
    hp.host = std::string(s);
    hp.port = *default_port;
    return hp;
  }
  if (colon == 0) return std::nullopt;
  auto port = ParsePort(s.substr(colon + 1));
  if (!port) return std::nullopt;
  hp.host = std::string(s.substr(0, colon));
  hp.port = *port;
  return hp;
}

}  // namespace meshlog::sink
