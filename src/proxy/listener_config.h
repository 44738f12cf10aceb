// File: listener_config.h
//
// ListenerConfig: the plain-data description of one listener of the data plane. The policy engine's
// per-listener output (rules/) is translated into this struct by the CLI (`meshlog run`); the proxy
// knows nothing about policies. Everything here is a value: copy it, compare it, print it.
//
// * direction: inbound (address:port -> the local application) or outbound (-> a set of endpoints).
// * protocol: kHttp proxies HTTP/1.1 and logs one record per request; kTcp proxies bytes and logs
//   one record per connection (http2/grpc listeners are configured as kTcp for now).
// * endpoints: the upstream. Inbound: one entry, the local app ("127.0.0.1:8080"). Outbound: every
//   endpoint of the destination; picked round-robin, an endpoint that refuses connections is
//   skipped for `timeouts.ejection` (passive health). Empty -> 503 UH (HTTP) / flag UH (TCP).
// * access_logs: called once per finished request / connection, on the worker thread.
//
// Example:
//   ListenerConfig l;
//   l.name = "inbound:127.0.0.1:20001";
//   l.bind_address = "127.0.0.1:20001";
//   l.direction = Direction::kInbound;
//   l.protocol = ListenerProtocol::kHttp;
//   l.cluster_name = "localhost:8080";
//   l.endpoints = {{.address = "127.0.0.1:8080"}};
//   l.access_logs = {std::make_shared<sink::FormattedAccessLog>(formatter, file_sink)};
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "sink/sink.h"

namespace meshlog::proxy {

enum class Direction : uint8_t { kInbound, kOutbound };
enum class ListenerProtocol : uint8_t { kHttp, kTcp };

struct Endpoint {
  std::string address;    // "ip:port" (IPv4 or [IPv6]); resolved once, no DNS
  std::string host_name;  // optional: printed by %UPSTREAM_HOST_NAME%; empty -> the address
};

struct Timeouts {
  std::chrono::milliseconds connect{5'000};           // upstream connect -> 503 UF
  std::chrono::milliseconds response{15'000};         // request sent -> response complete: 504 UT
  std::chrono::milliseconds request_headers{10'000};  // first byte -> end of headers: 408
  std::chrono::milliseconds request{0};               // whole request incl. body, 0 = none: 408
  std::chrono::milliseconds idle{3'600'000};          // keep-alive idle (HTTP) / no traffic (TCP)
  std::chrono::milliseconds upstream_idle{60'000};    // pooled upstream connection idle lifetime
  std::chrono::milliseconds ejection{5'000};          // passive health: skip a refusing endpoint
};

struct HttpLimits {
  uint32_t max_header_bytes = 60 * 1024;  // request line + headers; beyond -> 431
  uint32_t max_uri_bytes = 16 * 1024;     // request target; beyond -> 414
  uint32_t max_connect_attempts = 3;      // distinct endpoints tried before 503 UF
};

struct TcpLogOptions {
  bool log_on_upstream_connect = false;      // extra record (TcpUpstreamConnected) on connect
  std::chrono::milliseconds periodic{0};     // >0: TcpPeriodic records for long connections
};

struct ListenerConfig {
  std::string name;          // unique; Prometheus label `listener`
  std::string bind_address;  // "127.0.0.1:20001"; port 0 picks a free port (see Server)
  Direction direction = Direction::kInbound;
  ListenerProtocol protocol = ListenerProtocol::kHttp;
  std::string cluster_name;  // %UPSTREAM_CLUSTER%; empty = missing
  std::string route_name;    // %ROUTE_NAME%; empty = missing
  std::vector<Endpoint> endpoints;
  std::vector<sink::AccessLogPtr> access_logs;
  Timeouts timeouts;
  HttpLimits limits;
  TcpLogOptions tcp;
};

}  // namespace meshlog::proxy
