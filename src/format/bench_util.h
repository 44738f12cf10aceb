// File: bench_util.h
//
// Records and formats shared by the formatter benchmark and the allocation test: a realistic
// HTTP request (10 request headers) and TCP connection, Kuma's default formats bound for an
// outbound listener, and a 10-field JSON format.
#pragma once

#include <string>

#include "format/formatter.h"

namespace meshlog::format::bench {

inline KumaValues BenchKuma() {
  KumaValues k;
  k.mesh = "default";
  k.source_service = "web_default_svc_8080";
  k.destination_service = "backend_default_svc_80";
  k.source_ip = "10.244.0.12";
  k.direction = "OUTBOUND";
  return k;
}

struct BenchRecord {
  HeaderMap req;
  HeaderMap resp;
  StreamInfo info;
  BenchRecord() {
    req.add(":method", "GET");
    req.add(":path", "/api/v1/users/12345?fields=name,email");
    req.add(":authority", "backend.default.svc.cluster.local");
    req.add(":scheme", "http");
    req.add("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36");
    req.add("accept", "application/json");
    req.add("x-forwarded-for", "192.168.1.10");
    req.add("x-forwarded-proto", "http");
    req.add("x-request-id", "5f3c2a1e-8d4b-4a6f-9c2e-1b7d3e5f9a0c");
    req.add("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7");
    resp.add(":status", "200");
    resp.add("content-type", "application/json");
    resp.add("x-envoy-upstream-service-time", "12");
    info.start_time = SystemTime(std::chrono::milliseconds(1522796769123));
    info.protocol = Protocol::kHttp11;
    info.request_headers = &req;
    info.response_headers = &resp;
    info.response_code = 200;
    info.response_code_details = "via_upstream";
    info.bytes_received = 0;
    info.bytes_sent = 1234;
    info.duration = std::chrono::microseconds(15234);
    info.downstream_remote = *Address::Parse("10.244.0.12:51234");
    info.downstream_local = *Address::Parse("10.96.0.20:80");
    info.upstream_host = *Address::Parse("10.244.1.7:8080");
    info.upstream_local = *Address::Parse("10.244.0.12:40312");
    info.upstream_cluster = "backend_default_svc_80";
  }
  BenchRecord(const BenchRecord&) = delete;
};

inline StreamInfo BenchTcpInfo() {
  StreamInfo info;
  info.start_time = SystemTime(std::chrono::milliseconds(1522796769123));
  info.bytes_received = 512;
  info.bytes_sent = 4096;
  info.duration = std::chrono::milliseconds(1500);
  info.upstream_host = *Address::Parse("10.244.1.7:5432");
  info.downstream_remote = *Address::Parse("10.244.0.12:51234");
  return info;
}

inline JsonFields BenchJsonFields() {
  const KumaValues k = BenchKuma();
  return {{"start_time", "%START_TIME%"},
          {"method", "%REQ(:METHOD)%"},
          {"path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"},
          {"protocol", "%PROTOCOL%"},
          {"response_code", "%RESPONSE_CODE%"},
          {"response_flags", "%RESPONSE_FLAGS%"},
          {"bytes_sent", "%BYTES_SENT%"},
          {"duration", "%DURATION%"},
          {"upstream_host", "%UPSTREAM_HOST%"},
          {"source", BindKumaPlaceholders("%KUMA_SOURCE_SERVICE%", k)}};
}

}  // namespace meshlog::format::bench
