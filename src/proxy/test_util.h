// File: test_util.h
//
// Test helpers for the proxy: an AccessLog that records owned copies of the StreamInfo fields,
// a tiny formatter (only for making bytes flow in tests; the real one is format/), and blocking
// loopback clients.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/formatter.h"
#include "format/stream_info.h"
#include "sink/sink.h"

namespace meshlog::proxy::testing {

std::string FlagsString(const format::ResponseFlags& flags);  // "UF,URX" or "-"
std::string AddressString(const format::Address& a);           // "127.0.0.1:80" or "-"
std::optional<std::string> Header(const format::HeaderMap* map, std::string_view lower_name);

struct Record {
  std::optional<uint32_t> code;
  std::string flags;
  std::string details;
  std::string local_reply_body;
  format::Protocol protocol = format::Protocol::kUnset;
  format::AccessLogType type = format::AccessLogType::NotSet;
  bool has_request_headers = false;
  std::optional<std::string> method, path, authority, request_id, user_agent, service_time, status_header;
  std::optional<std::string> scheme, forwarded_proto;
  std::optional<std::string> trailer_checksum;
  std::string stream_id;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t ds_wire_received = 0;
  uint64_t ds_wire_sent = 0;
  uint64_t us_wire_sent = 0;
  uint64_t us_wire_received = 0;
  std::string upstream_host;
  std::string upstream_local;
  std::string downstream_remote;
  std::string downstream_local;
  std::string cluster;
  uint64_t connection_id = 0;
  uint64_t upstream_connection_id = 0;
  uint32_t attempts = 0;
  std::optional<std::chrono::nanoseconds> duration;
  std::array<std::optional<std::chrono::nanoseconds>, static_cast<size_t>(format::TimePoint::kCount)> timings{};
  bool has(format::TimePoint p) const { return timings[static_cast<size_t>(p)].has_value(); }
};

class RecordingLog : public sink::AccessLog {
 public:
  void log(const format::StreamInfo& info) override;
  // Waits until at least n records exist (or the timeout passes) and returns a copy.
  std::vector<Record> WaitFor(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  std::vector<Record> records();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Record> records_;
};

// "CODE FLAGS METHOD PATH\n" — enough to see bytes flow through sinks in tests.
class TinyFormatter : public format::Formatter {
 public:
  void format(const format::StreamInfo& info, std::string& out) const override;
};

// Connects to 127.0.0.1:port, writes `request`, half-closes if asked, and reads until EOF or
// `timeout` without data. Returns what was read.
std::string Exchange(uint16_t port, std::string_view request, bool half_close = true,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

// One HTTP exchange that ends with the proxy closing: inserts "Connection: close" after the first
// line of `request` (when it has one), does NOT half-close (a FIN from an HTTP client means it went
// away, as in Envoy), and reads until EOF.
std::string HttpExchange(uint16_t port, std::string_view request,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

// A connected blocking socket with helpers.
class Client {
 public:
  explicit Client(uint16_t port);
  ~Client();
  bool ok() const { return fd_ >= 0; }
  void Send(std::string_view data);
  void ShutdownWrite();
  // Reads until `needle` was seen (returns everything read so far) or timeout.
  std::string ReadUntil(std::string_view needle, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads exactly one HTTP/1.1 response with Content-Length (or none) from the stream.
  std::string ReadResponse(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  std::string ReadToEof(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Reads exactly n bytes (fewer on EOF/timeout); returns how many were read.
  size_t ReadExactly(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void Close();

 private:
  int fd_ = -1;
  std::string pending_;
};

// Runs a shell command and returns its stdout.
std::string Run(const std::string& command);

// A port on loopback that refuses connections (bound, never listening).
class ClosedPort {
 public:
  ClosedPort();
  ~ClosedPort();
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace meshlog::proxy::testing
