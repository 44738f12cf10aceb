// File: test_util.h
//
// Helpers for the formatter's unit tests: a typical HTTP request (the EVENT.json example of
// issue 3) and one-line render helpers.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "format/formatter.h"

namespace meshlog::format::testing {

// 2018-04-03T23:06:09.123Z
inline SystemTime TestStart() { return SystemTime(std::chrono::milliseconds(1522796769123)); }

struct TestRequest {
  HeaderMap req;
  HeaderMap resp;
  HeaderMap trailers;
  StreamInfo info;

  TestRequest() {
    req.add(":method", "GET");
    req.add(":path", "/bar/foo?x=1");
    req.add(":authority", "example.com");
    req.add("user-agent", "curl/8.0");
    req.add("x-request-id", "req-1");
    resp.add(":status", "200");
    resp.add("x-envoy-upstream-service-time", "7");
    info.start_time = TestStart();
    info.protocol = Protocol::kHttp11;
    info.request_headers = &req;
    info.response_headers = &resp;
    info.response_trailers = &trailers;
    info.response_code = 200;
    info.response_code_details = "via_upstream";
    info.bytes_received = 1;
    info.bytes_sent = 2;
    info.duration = std::chrono::milliseconds(15);
    info.downstream_remote = *Address::Parse("127.0.0.1:0");
    info.downstream_local = *Address::Parse("127.0.0.2:0");
    info.upstream_host = *Address::Parse("10.0.0.1:443");
    info.upstream_local = *Address::Parse("127.1.2.3:18443");
    info.upstream_cluster = "backend";
  }
  TestRequest(const TestRequest&) = delete;
};

// A TCP connection: no header maps.
inline StreamInfo TcpInfo() {
  StreamInfo info;
  info.start_time = TestStart();
  info.bytes_received = 10;
  info.bytes_sent = 20;
  info.duration = std::chrono::milliseconds(1500);
  info.upstream_host = *Address::Parse("10.0.0.1:443");
  return info;
}

inline std::string RenderPlain(std::string_view format, const StreamInfo& info,
                               OmitEmptyValues omit = OmitEmptyValues::no) {
  auto c = CompilePlain(format, omit);
  EXPECT_TRUE(c.ok()) << format << ": " << (c.ok() ? "" : c.error());
  if (!c.ok()) return "<error>";
  std::string out;
  c.value()->format(info, out);
  return out;
}

inline std::string RenderJson(const JsonFields& fields, const StreamInfo& info,
                              OmitEmptyValues omit = OmitEmptyValues::no) {
  auto c = CompileJson(fields, omit);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error());
  if (!c.ok()) return "<error>";
  std::string out;
  c.value()->format(info, out);
  return out;
}

inline std::string PlainError(std::string_view format) {
  auto c = CompilePlain(format, OmitEmptyValues::no);
  return c.ok() ? std::string("<ok>") : c.error();
}

}  // namespace meshlog::format::testing
