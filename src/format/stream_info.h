// File: stream_info.h
//
// StreamInfo: everything the access-log formatter can know about one HTTP request or one TCP
// connection (Envoy's StreamInfo + formatter context, reduced to what meshlog produces).
//
// It is the contract between the data plane (proxy/, which fills it in while it carries traffic)
// and the formatter (format/, which reads it once per log record). It holds no owning strings on
// the hot path: every std::string_view points into buffers owned by whoever filled it in, and must
// stay valid until the access logs of that stream have been written.
//
// "Missing" values (Envoy's nullopt) are expressed as std::nullopt, an empty string_view, or
// Address::Kind::kNone, as documented per field.
//
// Example:
//   HeaderMap req;
//   req.add(":method", "GET");
//   req.add(":path", "/");
//   StreamInfo info;
//   info.start_time = SystemTime(std::chrono::seconds(1522796769));
//   info.protocol = Protocol::kHttp11;
//   info.request_headers = &req;
//   info.response_code = 200;
//   EXPECT_EQ(req.get(":METHOD"), "GET");  // lookups are case-insensitive
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshlog::format {

using SystemTime = std::chrono::time_point<std::chrono::system_clock, std::chrono::nanoseconds>;

enum class Protocol : uint8_t { kUnset, kHttp10, kHttp11, kHttp2, kHttp3 };

// COMMON_DURATION time points, in Envoy's order. Each is an offset from the stream's start.
enum class TimePoint : uint8_t {
  kDsRxBeg,      // DS_RX_BEG: first downstream request byte received
  kDsRxEnd,      // DS_RX_END: last downstream request byte received
  kUsCxBeg,      // US_CX_BEG: upstream connect started
  kUsCxEnd,      // US_CX_END: upstream connect finished
  kUsHsEnd,      // US_HS_END: upstream TLS handshake finished
  kUsTxBeg,      // US_TX_BEG: first byte sent upstream
  kUsTxEnd,      // US_TX_END: last byte sent upstream
  kUsRxBeg,      // US_RX_BEG: first upstream response byte received
  kUsRxBodyBeg,  // US_RX_BODY_BEG: first upstream response body byte received
  kUsRxEnd,      // US_RX_END: last upstream response byte received
  kDsTxBeg,      // DS_TX_BEG: first byte sent downstream
  kDsTxEnd,      // DS_TX_END: last byte sent downstream
  kCount
};

// Envoy's core response flags, in Envoy's table order (the order of this enum is the table order;
// records print flags in the order they were set, see ResponseFlags).
enum class ResponseFlag : uint8_t {
  LH, UH, UT, LR, UR, UF, UC, UO, NR, DI, FI, RL, UAEX, RLSE, DC, URX, SI, IH, DPE, UMSDR, RFCF,
  NFCF, DT, UPE, NC, OM, DF, DO, DR, UDO,
  kCount
};

// Short and long names of a flag ("UT", "UpstreamRequestTimeout").
std::string_view ResponseFlagShortName(ResponseFlag flag);
std::string_view ResponseFlagLongName(ResponseFlag flag);

// The set of flags of a stream, remembering the order in which they were set. Setting a flag
// twice keeps its first position. No heap allocation.
class ResponseFlags {
 public:
  void set(ResponseFlag flag) {
    const auto bit = uint64_t{1} << static_cast<unsigned>(flag);
    if ((mask_ & bit) != 0) return;
    mask_ |= bit;
    order_[count_++] = flag;
  }
  bool has(ResponseFlag flag) const { return (mask_ & (uint64_t{1} << static_cast<unsigned>(flag))) != 0; }
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  ResponseFlag operator[](size_t i) const { return order_[i]; }
  void clear() { mask_ = 0; count_ = 0; }

 private:
  uint64_t mask_ = 0;
  uint8_t count_ = 0;
  std::array<ResponseFlag, static_cast<size_t>(ResponseFlag::kCount)> order_{};
};

// When a record is emitted (Envoy's AccessLogType enum names, printed by %ACCESS_LOG_TYPE%).
enum class AccessLogType : uint8_t {
  NotSet, TcpUpstreamConnected, TcpPeriodic, TcpConnectionEnd, DownstreamStart,
  DownstreamTunnelSuccessfullyEstablished, DownstreamPeriodic, DownstreamEnd, UpstreamPoolReady,
  UpstreamPeriodic, UpstreamEnd, UdpTunnelUpstreamConnected, UdpPeriodic, UdpSessionEnd
};
std::string_view AccessLogTypeName(AccessLogType type);

// A socket address: IPv4/IPv6 with port, a pipe (Unix socket path), or none (missing).
struct Address {
  enum class Kind : uint8_t { kNone, kIpv4, kIpv6, kPipe };
  Kind kind = Kind::kNone;
  std::array<uint8_t, 16> ip{};  // network byte order; first 4 bytes for IPv4
  uint16_t port = 0;             // host byte order
  std::string_view pipe_path;    // for kPipe

  bool present() const { return kind != Kind::kNone; }
  bool is_ip() const { return kind == Kind::kIpv4 || kind == Kind::kIpv6; }

  // Parses "1.2.3.4:80", "[::1]:80", or a path starting with '/' (pipe; the view is kept).
  // Returns std::nullopt on anything else.
  static std::optional<Address> Parse(std::string_view text);
  static Address Ipv4(uint32_t host_order_ip, uint16_t port);
};

// Renders "1.2.3.4:80" / "[::1]:80" / pipe path into out (appends). Nothing for kNone.
void AppendAddress(std::string& out, const Address& a);
// Renders the IP only ("1.2.3.4", "::1") or the pipe path. Nothing for kNone.
void AppendAddressWithoutPort(std::string& out, const Address& a);

// An ordered multimap of header name -> value views. Names keep their original spelling;
// get() compares case-insensitively and returns the FIRST value of the name (Envoy semantics).
// Pseudo-headers (":method", ":path", ":authority", ":scheme") are ordinary entries.
class HeaderMap {
 public:
  struct Entry {
    std::string_view name;
    std::string_view value;
  };

  void add(std::string_view name, std::string_view value) { entries_.push_back({name, value}); }
  void clear() { entries_.clear(); }  // keeps capacity: no allocation in steady state
  void reserve(size_t n) { entries_.reserve(n); }
  // `lower_name` must already be lower-case (the formatter lower-cases names at parse time).
  std::optional<std::string_view> get(std::string_view lower_name) const;
  // Same lookup, returning the first matching entry or nullptr (cheaper on the hot path: a
  // pointer comes back in a register).
  const Entry* find(std::string_view lower_name) const;
  // Sum over entries of name length + value length (Envoy's *_HEADERS_BYTES).
  uint64_t byte_size() const;
  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<Entry> entries_;
};

// Everything one access-log record may print. Zero / empty / nullopt means "not set".
struct StreamInfo {
  // Wall-clock start of the request/connection (START_TIME) and the emit time (EMIT_TIME; when
  // unset the formatter uses the current time).
  SystemTime start_time{};
  std::optional<SystemTime> emit_time;

  // Total duration (DURATION). Unset -> the formatter prints "-".
  std::optional<std::chrono::nanoseconds> duration;
  // COMMON_DURATION time points, offsets from start. Also the source of REQUEST_DURATION
  // (DS_RX_END), REQUEST_TX_DURATION (US_TX_END), RESPONSE_DURATION (US_RX_BEG) and
  // RESPONSE_TX_DURATION (DS_TX_END - US_RX_BEG).
  std::array<std::optional<std::chrono::nanoseconds>, static_cast<size_t>(TimePoint::kCount)> timings{};
  std::optional<std::chrono::nanoseconds>& timing(TimePoint p) { return timings[static_cast<size_t>(p)]; }
  const std::optional<std::chrono::nanoseconds>& timing(TimePoint p) const {
    return timings[static_cast<size_t>(p)];
  }

  Protocol protocol = Protocol::kUnset;           // PROTOCOL
  Protocol upstream_protocol = Protocol::kUnset;  // UPSTREAM_PROTOCOL

  // Absent maps (nullptr) = TCP traffic: REQ/RESP/TRAILER print "-".
  const HeaderMap* request_headers = nullptr;
  const HeaderMap* response_headers = nullptr;
  const HeaderMap* response_trailers = nullptr;

  std::optional<uint32_t> response_code;           // RESPONSE_CODE (unset prints 0)
  std::string_view response_code_details;          // RESPONSE_CODE_DETAILS (empty = missing)
  std::string_view connection_termination_details;  // empty = missing
  ResponseFlags response_flags;                     // RESPONSE_FLAGS(_LONG)
  AccessLogType access_log_type = AccessLogType::NotSet;

  uint64_t bytes_received = 0;  // BYTES_RECEIVED: HTTP body bytes / TCP bytes from downstream
  uint64_t bytes_sent = 0;      // BYTES_SENT: HTTP body bytes / TCP bytes to downstream
  uint64_t upstream_wire_bytes_sent = 0;
  uint64_t upstream_wire_bytes_received = 0;
  uint64_t upstream_header_bytes_sent = 0;
  uint64_t upstream_header_bytes_received = 0;
  uint64_t downstream_wire_bytes_sent = 0;
  uint64_t downstream_wire_bytes_received = 0;
  uint64_t downstream_header_bytes_sent = 0;
  uint64_t downstream_header_bytes_received = 0;

  Address downstream_remote;         // DOWNSTREAM_REMOTE_ADDRESS (may be rewritten, e.g. XFF)
  Address downstream_direct_remote;  // DOWNSTREAM_DIRECT_REMOTE_ADDRESS (physical peer)
  Address downstream_local;          // DOWNSTREAM_LOCAL_ADDRESS
  Address downstream_direct_local;   // DOWNSTREAM_DIRECT_LOCAL_ADDRESS (unset -> downstream_local)
  Address upstream_host;             // UPSTREAM_HOST (selected endpoint)
  std::string_view upstream_host_name;  // UPSTREAM_HOST_NAME (empty -> upstream_host rendered)
  Address upstream_remote;           // UPSTREAM_REMOTE_ADDRESS (unset -> upstream_host)
  Address upstream_local;            // UPSTREAM_LOCAL_ADDRESS

  std::string_view upstream_cluster;                    // UPSTREAM_CLUSTER(_RAW); empty = missing
  std::string_view route_name;                          // ROUTE_NAME; empty = missing
  std::string_view virtual_cluster_name;                // empty = missing
  std::string_view filter_chain_name;                   // empty = missing
  std::string_view requested_server_name;               // SNI; empty = missing
  std::string_view upstream_transport_failure_reason;   // empty = missing
  std::string_view downstream_transport_failure_reason; // empty = missing
  std::string_view stream_id;                           // STREAM_ID (x-request-id); empty = missing
  std::string_view local_reply_body;                    // LOCAL_REPLY_BODY ("" when none)
  std::string_view trace_id;                            // TRACE_ID; empty = missing
  std::string_view span_id;                             // SPAN_ID; empty = missing

  uint64_t connection_id = 0;           // CONNECTION_ID
  uint64_t upstream_connection_id = 0;  // UPSTREAM_CONNECTION_ID
  uint32_t upstream_request_attempt_count = 0;
};

}  // namespace meshlog::format
