// File: otlp_config.h
//
// Configuration of one OpenTelemetry (OTLP) backend sender: plain structs, no gRPC/protobuf, so
// the `meshlog` binary can describe an OTLP sink to the OTLP plugin (otlp_plugin.h) and key its
// NetSinkRegistry without linking the OTLP implementation (otlp_sink.h).
//
// These structs cross the plugin boundary: any change to this file changes the plugin ABI hash
// (netsink.cmake), so a binary refuses a plugin built from another version of it.
//
// Example:
//   OtlpSinkConfig c;
//   c.protocol = OtlpProtocol::kHttp;
//   c.endpoint = "otel-collector:4318";
//   c.path = "/otel/v1/logs";               // the request path (policy: LogsPath())
//   c.resource.kuma_mesh = "default";
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "sink/backoff.h"

namespace meshlog::sink {

// Resource attributes sent with every request (otlp_encoder.h gives their order on the wire).
struct OtlpResourceConfig {
  std::string log_name = "MeshAccessLog";
  std::string zone_name;     // Envoy: node locality zone
  std::string cluster_name;  // Envoy: node.cluster = the dataplane's identifying service
  std::string node_name;     // Envoy: node.id = the dataplane name
  std::string kuma_mesh;     // always sent
  std::string kuma_zone;     // sent when not empty
  std::string kuma_workload; // sent when not empty
};

enum class OtlpProtocol { kGrpc, kHttp };

struct OtlpSinkConfig {
  OtlpProtocol protocol = OtlpProtocol::kGrpc;
  // "host[:port]" (IPv6 in brackets); default port 4317 (Kuma's default for both protocols).
  std::string endpoint;
  // HTTP only: the request path, e.g. "/otel/v1/logs" (MeshOpenTelemetryBackend endpoint.path
  // plus "/v1/logs", computed by the policy layer); empty means "/v1/logs".
  std::string path;
  OtlpResourceConfig resource;
  size_t batch_max_bytes = 16384;
  std::chrono::milliseconds batch_max_delay{1000};
  int max_in_flight = 4;  // concurrent Export requests (OTLP: SHOULD be configurable)
  size_t queue_max_records = 100000;
  size_t queue_max_bytes = 64u << 20;
  std::chrono::milliseconds request_timeout{10000};
  BackoffConfig retry{.initial = std::chrono::milliseconds(500), .max = std::chrono::milliseconds(30000)};
};

// The path OTLP/HTTP requests go to: config.path, or "/v1/logs" when it is empty.
inline std::string OtlpHttpRequestPath(const OtlpSinkConfig& config) {
  return config.path.empty() ? std::string("/v1/logs") : config.path;
}

}  // namespace meshlog::sink
