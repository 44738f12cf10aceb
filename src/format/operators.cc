#include "format/operators.h"

#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <random>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <vector>

namespace meshlog::format {

enum class OpCode : uint16_t {
  kTime,               // a: 0 start, 1 emit
  kMissing,            // operators whose data meshlog does not have (TLS, metadata, filter state)
  kDuration,           // DURATION
  kTimingMs,           // a: TimePoint (REQUEST_DURATION ...)
  kResponseTxDuration,
  kCommonDuration,     // a: start (255 = custom key), b: end (255 = custom), c: precision
  kCounter,            // a: Counter
  kProtocol,           // a: 0 downstream, 1 upstream
  kResponseCode,
  kResponseCodeDetails,  // a: 1 = ALLOW_WHITESPACES
  kConnectionTerminationDetails,
  kGrpcStatus,         // a: 0 camel, 1 snake, 2 number
  kAccessLogType,
  kResponseFlags,      // a: 1 = long names
  kEmptyString,        // CUSTOM_FLAGS
  kAddress,            // a: AddressSource, b: 0 with port, 1 without port, 2 port; c: mask + 1
  kUpstreamHostName,   // a: 1 = without port
  kUpstreamCluster,
  kStringField,        // a: StringField
  kTransportFailure,   // a: 0 upstream, 1 downstream
  kConnectionId,       // a: 0 downstream, 1 upstream
  kAttemptCount,
  kHeader,             // a: 0 request, 1 response, 2 trailers; s1 main, s2 alternative
  kQueryParam,         // s1 key
  kPath,               // a: 1 = without query; b: 0 ORIG_OR_PATH, 1 PATH, 2 ORIG
  kLocalReplyBody,
  kRequestedServerName,  // a: 0 SNI_ONLY, 1 SNI_FIRST, 2 HOST_FIRST; b: 0 ORIG_OR_HOST, 1 HOST, 2 ORIG
  kConstant,           // HOSTNAME / ENVIRONMENT: s1 when has_const, else missing
  kUniqueId,
  kCoalesce,           // children: the operands, first non-missing non-empty value wins
};

namespace {

enum Flags : uint8_t {
  kCommandOnly = 0,
  kParamsRequired = 1,
  kParamsOptional = 2,
  kLengthAllowed = 4,
};

enum class Counter : uint8_t {
  kBytesReceived, kBytesSent, kZero, kUpstreamWireSent, kUpstreamWireReceived, kUpstreamHeaderSent,
  kUpstreamHeaderReceived, kDownstreamWireSent, kDownstreamWireReceived, kDownstreamHeaderSent,
  kDownstreamHeaderReceived, kRequestHeadersBytes, kResponseHeadersBytes, kResponseTrailersBytes,
};

enum class AddressSource : uint8_t {
  kDownstreamRemote, kDownstreamDirectRemote, kDownstreamLocal, kDownstreamDirectLocal, kUpstreamHost,
  kUpstreamRemote, kUpstreamLocal,
};

enum class StringField : uint8_t {
  kRouteName, kVirtualClusterName, kFilterChainName, kStreamId, kTraceId, kSpanId,
};

struct Spec {
  OpCode code;
  uint8_t flags;
  uint8_t a = 0;
  uint8_t b = 0;
};

template <typename E>
constexpr uint8_t U(E e) {
  return static_cast<uint8_t>(e);
}

using Table = std::unordered_map<std::string, Spec>;

const Table& KnownOperators() {
  static const Table* table = [] {
    auto* t = new Table();
    auto add = [t](std::string_view name, Spec spec) { (*t)[std::string(name)] = spec; };
    // Time (section 2).
    add("START_TIME", {OpCode::kTime, kParamsOptional, 0, 0});
    add("START_TIME_LOCAL", {OpCode::kTime, kParamsOptional, 0, 1});
    add("EMIT_TIME", {OpCode::kTime, kParamsOptional, 1, 0});
    add("EMIT_TIME_LOCAL", {OpCode::kTime, kParamsOptional, 1, 1});
    for (auto n : {"DOWNSTREAM_PEER_CERT_V_START", "DOWNSTREAM_PEER_CERT_V_END", "UPSTREAM_PEER_CERT_V_START",
                   "UPSTREAM_PEER_CERT_V_END"}) {
      add(n, {OpCode::kTime, kParamsOptional, 2, 0});
    }
    // Durations (4.1).
    add("DURATION", {OpCode::kDuration, kCommandOnly});
    add("REQUEST_DURATION", {OpCode::kTimingMs, kCommandOnly, U(TimePoint::kDsRxEnd)});
    add("REQUEST_TX_DURATION", {OpCode::kTimingMs, kCommandOnly, U(TimePoint::kUsTxEnd)});
    add("RESPONSE_DURATION", {OpCode::kTimingMs, kCommandOnly, U(TimePoint::kUsRxBeg)});
    add("RESPONSE_TX_DURATION", {OpCode::kResponseTxDuration, kCommandOnly});
    add("DOWNSTREAM_HANDSHAKE_DURATION", {OpCode::kMissing, kCommandOnly});
    add("ROUNDTRIP_DURATION", {OpCode::kMissing, kCommandOnly});
    add("UPSTREAM_CONNECTION_POOL_READY_DURATION", {OpCode::kMissing, kCommandOnly});
    add("COMMON_DURATION", {OpCode::kCommonDuration, kParamsRequired});
    // Byte counters (4.2).
    add("BYTES_RECEIVED", {OpCode::kCounter, kCommandOnly, U(Counter::kBytesReceived)});
    add("BYTES_SENT", {OpCode::kCounter, kCommandOnly, U(Counter::kBytesSent)});
    add("BYTES_RETRANSMITTED", {OpCode::kCounter, kCommandOnly, U(Counter::kZero)});
    add("PACKETS_RETRANSMITTED", {OpCode::kCounter, kCommandOnly, U(Counter::kZero)});
    add("UPSTREAM_WIRE_BYTES_SENT", {OpCode::kCounter, kCommandOnly, U(Counter::kUpstreamWireSent)});
    add("UPSTREAM_WIRE_BYTES_RECEIVED", {OpCode::kCounter, kCommandOnly, U(Counter::kUpstreamWireReceived)});
    add("UPSTREAM_HEADER_BYTES_SENT", {OpCode::kCounter, kCommandOnly, U(Counter::kUpstreamHeaderSent)});
    add("UPSTREAM_HEADER_BYTES_RECEIVED", {OpCode::kCounter, kCommandOnly, U(Counter::kUpstreamHeaderReceived)});
    // meshlog speaks HTTP/1.x only: decompressed header bytes equal the header bytes.
    add("UPSTREAM_DECOMPRESSED_HEADER_BYTES_SENT", {OpCode::kCounter, kCommandOnly, U(Counter::kUpstreamHeaderSent)});
    add("UPSTREAM_DECOMPRESSED_HEADER_BYTES_RECEIVED",
        {OpCode::kCounter, kCommandOnly, U(Counter::kUpstreamHeaderReceived)});
    add("DOWNSTREAM_WIRE_BYTES_SENT", {OpCode::kCounter, kCommandOnly, U(Counter::kDownstreamWireSent)});
    add("DOWNSTREAM_WIRE_BYTES_RECEIVED", {OpCode::kCounter, kCommandOnly, U(Counter::kDownstreamWireReceived)});
    add("DOWNSTREAM_HEADER_BYTES_SENT", {OpCode::kCounter, kCommandOnly, U(Counter::kDownstreamHeaderSent)});
    add("DOWNSTREAM_HEADER_BYTES_RECEIVED", {OpCode::kCounter, kCommandOnly, U(Counter::kDownstreamHeaderReceived)});
    add("DOWNSTREAM_DECOMPRESSED_HEADER_BYTES_SENT",
        {OpCode::kCounter, kCommandOnly, U(Counter::kDownstreamHeaderSent)});
    add("DOWNSTREAM_DECOMPRESSED_HEADER_BYTES_RECEIVED",
        {OpCode::kCounter, kCommandOnly, U(Counter::kDownstreamHeaderReceived)});
    add("REQUEST_HEADERS_BYTES", {OpCode::kCounter, kCommandOnly, U(Counter::kRequestHeadersBytes)});
    add("RESPONSE_HEADERS_BYTES", {OpCode::kCounter, kCommandOnly, U(Counter::kResponseHeadersBytes)});
    add("RESPONSE_TRAILERS_BYTES", {OpCode::kCounter, kCommandOnly, U(Counter::kResponseTrailersBytes)});
    // Protocol, codes, details (4.3, 4.4).
    add("PROTOCOL", {OpCode::kProtocol, kCommandOnly, 0});
    add("UPSTREAM_PROTOCOL", {OpCode::kProtocol, kCommandOnly, 1});
    add("RESPONSE_CODE", {OpCode::kResponseCode, kCommandOnly});
    add("RESPONSE_CODE_DETAILS", {OpCode::kResponseCodeDetails, kParamsOptional});
    add("CONNECTION_TERMINATION_DETAILS", {OpCode::kConnectionTerminationDetails, kCommandOnly});
    add("GRPC_STATUS", {OpCode::kGrpcStatus, kParamsOptional});
    add("GRPC_STATUS_NUMBER", {OpCode::kGrpcStatus, kCommandOnly, 2});
    add("ACCESS_LOG_TYPE", {OpCode::kAccessLogType, kCommandOnly});
    add("RESPONSE_FLAGS", {OpCode::kResponseFlags, kCommandOnly, 0});
    add("RESPONSE_FLAGS_LONG", {OpCode::kResponseFlags, kCommandOnly, 1});
    add("CUSTOM_FLAGS", {OpCode::kEmptyString, kCommandOnly});
    // Addresses (4.5).
    struct AddrName {
      const char* prefix;
      AddressSource src;
    };
    for (auto [prefix, src] : {AddrName{"DOWNSTREAM_REMOTE", AddressSource::kDownstreamRemote},
                               AddrName{"DOWNSTREAM_DIRECT_REMOTE", AddressSource::kDownstreamDirectRemote},
                               AddrName{"DOWNSTREAM_LOCAL", AddressSource::kDownstreamLocal},
                               AddrName{"DOWNSTREAM_DIRECT_LOCAL", AddressSource::kDownstreamDirectLocal},
                               AddrName{"UPSTREAM_REMOTE", AddressSource::kUpstreamRemote},
                               AddrName{"UPSTREAM_LOCAL", AddressSource::kUpstreamLocal}}) {
      const std::string p(prefix);
      add(p + "_ADDRESS", {OpCode::kAddress, kCommandOnly, U(src), 0});
      add(p + "_ADDRESS_WITHOUT_PORT", {OpCode::kAddress, kParamsOptional, U(src), 1});
      add(p + "_PORT", {OpCode::kAddress, kCommandOnly, U(src), 2});
    }
    add("UPSTREAM_HOST", {OpCode::kAddress, kCommandOnly, U(AddressSource::kUpstreamHost), 0});
    add("UPSTREAM_HOST_NAME", {OpCode::kUpstreamHostName, kCommandOnly, 0});
    add("UPSTREAM_HOST_NAME_WITHOUT_PORT", {OpCode::kUpstreamHostName, kCommandOnly, 1});
    add("UPSTREAM_CLUSTER", {OpCode::kUpstreamCluster, kCommandOnly});
    add("UPSTREAM_CLUSTER_RAW", {OpCode::kUpstreamCluster, kCommandOnly});
    add("CONNECTION_ID", {OpCode::kConnectionId, kCommandOnly, 0});
    add("UPSTREAM_CONNECTION_ID", {OpCode::kConnectionId, kCommandOnly, 1});
    add("UPSTREAM_REQUEST_ATTEMPT_COUNT", {OpCode::kAttemptCount, kCommandOnly});
    add("ROUTE_NAME", {OpCode::kStringField, kCommandOnly, U(StringField::kRouteName)});
    add("VIRTUAL_CLUSTER_NAME", {OpCode::kStringField, kCommandOnly, U(StringField::kVirtualClusterName)});
    add("FILTER_CHAIN_NAME", {OpCode::kStringField, kCommandOnly, U(StringField::kFilterChainName)});
    add("UPSTREAM_TRANSPORT_FAILURE_REASON", {OpCode::kTransportFailure, kCommandOnly, 0});
    add("DOWNSTREAM_TRANSPORT_FAILURE_REASON", {OpCode::kTransportFailure, kCommandOnly, 1});
    for (auto n : {"DOWNSTREAM_LOCAL_CLOSE_REASON", "DOWNSTREAM_DETECTED_CLOSE_TYPE", "UPSTREAM_LOCAL_CLOSE_REASON",
                   "UPSTREAM_DETECTED_CLOSE_TYPE"}) {
      add(n, {OpCode::kMissing, kCommandOnly});
    }
    // Headers, path, query (4.6).
    for (auto n : {"REQ", "REQUEST_HEADER", "STREAM_INFO_REQ"}) add(n, {OpCode::kHeader, kParamsRequired | kLengthAllowed, 0});
    for (auto n : {"RESP", "RESPONSE_HEADER"}) add(n, {OpCode::kHeader, kParamsRequired | kLengthAllowed, 1});
    for (auto n : {"TRAILER", "RESPONSE_TRAILER"}) add(n, {OpCode::kHeader, kParamsRequired | kLengthAllowed, 2});
    add("QUERY_PARAM", {OpCode::kQueryParam, kParamsRequired | kLengthAllowed});
    add("PATH", {OpCode::kPath, kParamsOptional | kLengthAllowed});
    add("LOCAL_REPLY_BODY", {OpCode::kLocalReplyBody, kCommandOnly});
    add("TRACE_ID", {OpCode::kStringField, kCommandOnly, U(StringField::kTraceId)});
    add("SPAN_ID", {OpCode::kStringField, kCommandOnly, U(StringField::kSpanId)});
    // Metadata and filter state (4.7): meshlog has none yet; they validate like Envoy.
    for (auto n : {"DYNAMIC_METADATA", "CLUSTER_METADATA", "UPSTREAM_METADATA"}) {
      add(n, {OpCode::kMissing, kParamsRequired | kLengthAllowed, 1});
    }
    for (auto n : {"FILTER_STATE", "UPSTREAM_FILTER_STATE"}) add(n, {OpCode::kMissing, kParamsOptional | kLengthAllowed, 2});
    // TLS (4.8): no TLS yet, always missing.
    for (auto n : {"DOWNSTREAM_PEER_URI_SAN", "DOWNSTREAM_PEER_DNS_SAN", "DOWNSTREAM_PEER_IP_SAN",
                   "DOWNSTREAM_PEER_EMAIL_SAN", "DOWNSTREAM_PEER_OTHERNAME_SAN", "DOWNSTREAM_LOCAL_URI_SAN",
                   "DOWNSTREAM_LOCAL_DNS_SAN", "DOWNSTREAM_LOCAL_IP_SAN", "DOWNSTREAM_LOCAL_EMAIL_SAN",
                   "DOWNSTREAM_LOCAL_OTHERNAME_SAN", "UPSTREAM_PEER_URI_SAN", "UPSTREAM_PEER_DNS_SAN",
                   "UPSTREAM_PEER_IP_SAN", "UPSTREAM_LOCAL_URI_SAN", "UPSTREAM_LOCAL_DNS_SAN",
                   "UPSTREAM_LOCAL_IP_SAN", "DOWNSTREAM_PEER_SUBJECT", "DOWNSTREAM_LOCAL_SUBJECT",
                   "DOWNSTREAM_PEER_ISSUER", "DOWNSTREAM_TLS_SESSION_ID", "DOWNSTREAM_TLS_CIPHER",
                   "DOWNSTREAM_TLS_VERSION", "DOWNSTREAM_PEER_FINGERPRINT_256", "DOWNSTREAM_PEER_FINGERPRINT_1",
                   "DOWNSTREAM_PEER_SERIAL", "DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256",
                   "DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_1", "DOWNSTREAM_PEER_CHAIN_SERIALS", "DOWNSTREAM_PEER_CERT",
                   "UPSTREAM_PEER_SUBJECT", "UPSTREAM_PEER_ISSUER", "UPSTREAM_TLS_SESSION_ID",
                   "UPSTREAM_TLS_CIPHER", "UPSTREAM_TLS_VERSION", "UPSTREAM_PEER_CERT", "TLS_JA3_FINGERPRINT",
                   "TLS_JA4_FINGERPRINT"}) {
      add(n, {OpCode::kMissing, kCommandOnly});
    }
    // Identity / misc (4.9).
    add("REQUESTED_SERVER_NAME", {OpCode::kRequestedServerName, kParamsOptional});
    add("HOSTNAME", {OpCode::kConstant, kCommandOnly, 0});
    add("ENVIRONMENT", {OpCode::kConstant, kParamsRequired | kLengthAllowed, 1});
    add("UNIQUE_ID", {OpCode::kUniqueId, kCommandOnly});
    add("STREAM_ID", {OpCode::kStringField, kCommandOnly, U(StringField::kStreamId)});
    add("COALESCE", {OpCode::kCoalesce, kParamsRequired | kLengthAllowed});
    return t;
  }();
  return *table;
}

bool Fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

// Envoy's generic "A:B:C" splitting (formatter.md 1.4): tokens beyond `n` are ignored.
std::vector<std::string_view> SplitSubcommand(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      break;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  }
  return out;
}

bool ParseHeaderSubcommand(std::string_view sub, Op& op, std::string* error) {
  const auto parts = SplitSubcommand(sub, '?');
  if (parts.size() > 2) {
    return Fail(error, "More than 1 alternative header specified in token: " + std::string(sub));
  }
  for (std::string_view p : parts) {
    for (char c : p) {
      if (c == '\0' || c == '\r' || c == '\n') {
        return Fail(error, "Invalid header configuration. Format string contains null or newline.");
      }
    }
  }
  op.s1 = Lower(parts[0]);
  op.s2 = parts.size() > 1 ? Lower(parts[1]) : std::string();
  return true;
}

std::optional<int> TimePointByName(std::string_view n) {
  static constexpr std::string_view kNames[] = {"DS_RX_BEG", "DS_RX_END", "US_CX_BEG",      "US_CX_END",
                                                "US_HS_END", "US_TX_BEG", "US_TX_END",      "US_RX_BEG",
                                                "US_RX_BODY_BEG", "US_RX_END", "DS_TX_BEG", "DS_TX_END"};
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if (kNames[i] == n) return static_cast<int>(i);
  }
  return std::nullopt;
}

std::string Hostname() {
  char buf[256];
  if (gethostname(buf, sizeof(buf)) != 0) return {};
  buf[sizeof(buf) - 1] = '\0';
  return std::string(buf);
}

// ---- evaluation helpers -------------------------------------------------------------------------

constexpr std::string_view kGrpcCamel[] = {"OK",
                                           "Canceled",
                                           "Unknown",
                                           "InvalidArgument",
                                           "DeadlineExceeded",
                                           "NotFound",
                                           "AlreadyExists",
                                           "PermissionDenied",
                                           "ResourceExhausted",
                                           "FailedPrecondition",
                                           "Aborted",
                                           "OutOfRange",
                                           "Unimplemented",
                                           "Internal",
                                           "Unavailable",
                                           "DataLoss",
                                           "Unauthenticated"};
constexpr std::string_view kGrpcSnake[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};

inline Value Truncate(Value v, const Op& op) {
  if (op.max_length && v.kind == ValueKind::kString && v.len > *op.max_length) {
    v.len = static_cast<uint32_t>(*op.max_length);
  }
  return v;
}

inline Value NonEmpty(std::string_view s, bool traffic) {
  return s.empty() ? Value::Missing() : Value::String(s, traffic);
}

inline int64_t ToMillis(std::chrono::nanoseconds d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::optional<std::chrono::nanoseconds> TimingOf(const StreamInfo& info, int index) {
  if (index < 0 || index >= static_cast<int>(TimePoint::kCount)) return std::nullopt;  // custom keys
  const auto& t = info.timings[static_cast<size_t>(index)];
  // DS_RX_BEG is the stream start itself (Envoy: startTimeMonotonic), always present.
  if (!t && index == static_cast<int>(TimePoint::kDsRxBeg)) return std::chrono::nanoseconds(0);
  return t;
}

std::string_view ProtocolName(Protocol p) {
  switch (p) {
    case Protocol::kHttp10: return "HTTP/1.0";
    case Protocol::kHttp11: return "HTTP/1.1";
    case Protocol::kHttp2: return "HTTP/2";
    case Protocol::kHttp3: return "HTTP/3";
    case Protocol::kUnset: break;
  }
  return {};
}

const Address& AddressOf(const StreamInfo& info, AddressSource src) {
  switch (src) {
    case AddressSource::kDownstreamRemote: return info.downstream_remote;
    case AddressSource::kDownstreamDirectRemote: return info.downstream_direct_remote;
    case AddressSource::kDownstreamLocal: return info.downstream_local;
    case AddressSource::kDownstreamDirectLocal:
      return info.downstream_direct_local.present() ? info.downstream_direct_local : info.downstream_local;
    case AddressSource::kUpstreamHost: return info.upstream_host;
    case AddressSource::kUpstreamRemote:
      return info.upstream_remote.present() ? info.upstream_remote : info.upstream_host;
    case AddressSource::kUpstreamLocal: return info.upstream_local;
  }
  return info.upstream_local;
}

void AppendMasked(std::string& out, const Address& a, unsigned bits) {
  Address m = a;
  const unsigned total = a.kind == Address::Kind::kIpv4 ? 32 : 128;
  if (bits > total) {  // prefix longer than the address: the address itself
    AppendAddressWithoutPort(out, a);
    return;
  }
  for (unsigned i = 0; i < total / 8; ++i) {
    const unsigned keep = bits > i * 8 ? std::min(8u, bits - i * 8) : 0;
    const auto mask = static_cast<uint8_t>(keep == 0 ? 0 : (0xFF << (8 - keep)));
    m.ip[i] = static_cast<uint8_t>(m.ip[i] & mask);
  }
  AppendAddressWithoutPort(out, m);
  char buf[4];
  out.push_back('/');
  out.append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof(buf), bits).ptr - buf));
}

// Envoy's HeaderUtility::stripPortFromHost.
std::string_view StripPortFromHost(std::string_view host) {
  const size_t colon = host.rfind(':');
  if (colon == std::string_view::npos) return host;
  const size_t v6_end = host.rfind(']');
  if (v6_end != std::string_view::npos && v6_end > colon) return host;
  const std::string_view port = host.substr(colon + 1);
  if (port.empty() || port.size() > 10) return host;
  uint64_t v = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return host;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > UINT32_MAX) return host;
  return host.substr(0, colon);
}

inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Envoy's PercentEncoding::decode: "%XX" with two hex digits becomes the byte, all else is copied.
void PercentDecode(std::string_view in, std::string& out) {
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
}

Value QueryParam(const Op& op, const StreamInfo& info, std::string& scratch) {
  if (info.request_headers == nullptr) return Value::Missing();
  const auto path = info.request_headers->get(":path");
  if (!path) return Value::Missing();
  const size_t q = path->find('?');
  if (q == std::string_view::npos) return Value::Missing();
  std::string_view rest = path->substr(q + 1);
  const size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view param = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    const std::string_view raw_key = param.substr(0, eq);
    scratch.clear();
    PercentDecode(raw_key, scratch);
    if (scratch != op.s1) continue;
    scratch.clear();
    if (eq != std::string_view::npos) PercentDecode(param.substr(eq + 1), scratch);
    return Value::String(scratch, true);
  }
  return Value::Missing();
}

Value PathValue(const Op& op, const StreamInfo& info) {
  if (info.request_headers == nullptr) return Value::Missing();
  std::optional<std::string_view> v;
  if (op.b == 1) {
    v = info.request_headers->get(":path");
  } else if (op.b == 2) {
    v = info.request_headers->get("x-envoy-original-path");
  } else {
    v = info.request_headers->get("x-envoy-original-path");
    if (!v || v->empty()) v = info.request_headers->get(":path");
  }
  if (!v) return Value::Missing();
  std::string_view s = *v;
  if (op.a == 1) s = s.substr(0, s.find('?'));
  return Value::String(s, true);
}

// Envoy's StringUtil::sanitizeInvalidHostname (CVE-2024-45808 fix).
void AppendSanitizedHost(std::string& out, std::string_view host) {
  bool valid = true;
  for (char c : host) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) {
      valid = false;
      break;
    }
  }
  if (valid) {
    out.append(host);
    return;
  }
  out.append("invalid:");
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    out.push_back(ok ? c : '_');
  }
}

Value RequestedServerName(const Op& op, const StreamInfo& info, std::string& scratch) {
  auto host = [&]() -> std::string_view {
    if (info.request_headers == nullptr) return {};
    std::optional<std::string_view> h;
    if (op.b == 1) {
      h = info.request_headers->get(":authority");
    } else if (op.b == 2) {
      h = info.request_headers->get("x-envoy-original-host");
    } else {
      h = info.request_headers->get("x-envoy-original-host");
      if (!h || h->empty()) h = info.request_headers->get(":authority");
    }
    return h.value_or(std::string_view());
  };
  std::string_view chosen = info.requested_server_name;
  if (op.a == 1 && chosen.empty()) chosen = host();
  if (op.a == 2) {
    const std::string_view h = host();
    if (!h.empty()) chosen = h;
  }
  if (chosen.empty()) return Value::Missing();
  scratch.clear();
  AppendSanitizedHost(scratch, chosen);
  return Value::String(scratch, true);
}

Value GrpcStatus(const Op& op, const StreamInfo& info, std::string& scratch) {
  if (info.request_headers == nullptr) return Value::Missing();
  const auto ct = info.request_headers->get("content-type");
  if (!ct) return Value::Missing();
  const std::string_view kGrpc = "application/grpc";
  if (!(*ct == kGrpc || (ct->size() > kGrpc.size() && ct->substr(0, kGrpc.size()) == kGrpc &&
                         (*ct)[kGrpc.size()] == '+'))) {
    return Value::Missing();
  }
  int64_t status = 0;
  bool found = false;
  for (const HeaderMap* map : {info.response_trailers, info.response_headers}) {
    if (map == nullptr) continue;
    const auto v = map->get("grpc-status");
    if (!v || v->empty()) continue;
    found = true;
    uint64_t parsed = 0;
    const auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), parsed);
    if (ec != std::errc() || ptr != v->data() + v->size() || parsed > static_cast<uint64_t>(INT64_MAX)) {
      status = -1;  // InvalidCode
    } else {
      status = static_cast<int64_t>(parsed);
    }
    break;
  }
  if (!found) {
    if (!info.response_code) return Value::Missing();
    switch (*info.response_code) {
      case 400: status = 13; break;
      case 401: status = 16; break;
      case 403: status = 7; break;
      case 404: status = 12; break;
      case 429:
      case 502:
      case 503:
      case 504: status = 14; break;
      default: status = 2; break;
    }
  }
  if (op.a == 2) return Value::Int(status);
  if (status >= 0 && status <= 16) return Value::String(op.a == 0 ? kGrpcCamel[status] : kGrpcSnake[status]);
  scratch.clear();
  char buf[24];
  scratch.append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof(buf), status).ptr - buf));
  return Value::String(scratch);
}

// A random (version 4) UUID per evaluation, from a per-thread generator.
Value UniqueId(std::string& scratch) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng();
  uint64_t lo = rng();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[36];
  int pos = 0;
  auto put = [&](uint64_t v, int nibbles) {
    for (int k = nibbles - 1; k >= 0; --k) buf[pos++] = kHex[(v >> (k * 4)) & 0xF];
  };
  put(hi >> 32, 8);
  buf[pos++] = '-';
  put((hi >> 16) & 0xFFFF, 4);
  buf[pos++] = '-';
  put(hi & 0xFFFF, 4);
  buf[pos++] = '-';
  put(lo >> 48, 4);
  buf[pos++] = '-';
  put(lo & 0xFFFFFFFFFFFFULL, 12);
  scratch.assign(buf, sizeof(buf));
  return Value::String(scratch);
}

// COALESCE({"operators": ["CMD", {"command": "CMD", "param": "...", "max_length": N}, ...]})
bool ParseCoalesce(std::string_view sub, Op& op, std::string* error) {
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(sub);
  } catch (const nlohmann::json::exception& ex) {
    return Fail(error, std::string("COALESCE: failed to parse JSON configuration: ") + ex.what());
  }
  if (!config.is_object() || !config.contains("operators")) {
    return Fail(error, "COALESCE: JSON configuration must contain 'operators' array");
  }
  const nlohmann::json& operators = config["operators"];
  if (!operators.is_array()) return Fail(error, "COALESCE: 'operators' must be an array");
  if (operators.empty()) return Fail(error, "COALESCE: 'operators' array must not be empty");
  auto children = std::make_shared<std::vector<Op>>();
  for (size_t i = 0; i < operators.size(); ++i) {
    const nlohmann::json& entry = operators[i];
    const std::string prefix = "COALESCE: failed to parse operator at index " + std::to_string(i) + ": ";
    std::string command;
    std::string param;
    std::optional<size_t> max_length;
    if (entry.is_string()) {
      command = entry.get<std::string>();
    } else if (entry.is_object()) {
      if (!entry.contains("command") || !entry["command"].is_string()) {
        return Fail(error, prefix + "operator object must have 'command' field");
      }
      command = entry["command"].get<std::string>();
      if (entry.contains("param")) {
        if (!entry["param"].is_string()) return Fail(error, prefix + "'param' field must be a string");
        param = entry["param"].get<std::string>();
      }
      if (entry.contains("max_length")) {
        if (!entry["max_length"].is_number_integer()) {
          return Fail(error, prefix + "'max_length' field must be an integer");
        }
        const auto n = entry["max_length"].get<int64_t>();
        if (n <= 0) return Fail(error, prefix + "'max_length' must be a positive integer");
        max_length = static_cast<size_t>(n);
      }
    } else {
      return Fail(error, prefix +
                             "operator entry must be either a string (command name) or an object with 'command' "
                             "field");
    }
    if (KnownOperators().count(command) == 0) return Fail(error, prefix + "unknown command: '" + command + "'");
    auto child = ParseOperator(command, param, max_length, error);
    if (!child) return false;  // the operand's own message, as Envoy's parsers throw it
    children->push_back(std::move(*child));
  }
  op.children = std::move(children);
  return true;
}

}  // namespace

std::optional<Op> ParseOperator(std::string_view command, std::string_view sub, std::optional<size_t> max_length,
                                std::string* error) {
  const Table& table = KnownOperators();
  const auto it = table.find(std::string(command));
  if (it == table.end()) {
    Fail(error, "Not supported field in StreamInfo: " + std::string(command));
    return std::nullopt;
  }
  const Spec& spec = it->second;
  const std::string cmd(command);
  if (spec.flags == kCommandOnly && (!sub.empty() || max_length)) {
    Fail(error, cmd + " does not take any parameters or length");
    return std::nullopt;
  }
  if ((spec.flags & kParamsRequired) != 0 && sub.empty()) {
    Fail(error, cmd + " requires parameters");
    return std::nullopt;
  }
  if ((spec.flags & kLengthAllowed) == 0 && max_length) {
    Fail(error, cmd + " does not allow length to be specified.");
    return std::nullopt;
  }

  Op op;
  op.code = spec.code;
  op.name = cmd;
  op.max_length = max_length;
  op.a = spec.a;
  op.b = spec.b;

  switch (spec.code) {
    case OpCode::kTime: {
      std::string err;
      auto date = DateFormatter::Create(sub, spec.b == 1, &err);
      if (!date) {
        Fail(error, err);
        return std::nullopt;
      }
      op.date = std::make_shared<const DateFormatter>(std::move(*date));
      if (spec.a == 2) op.code = OpCode::kMissing;  // certificate validity: no TLS yet
      break;
    }
    case OpCode::kCommonDuration: {
      const auto parts = SplitSubcommand(sub, ':');
      if (parts.size() < 2 || parts.size() > 3) {
        Fail(error, "Invalid common duration configuration: " + std::string(sub) + ".");
        return std::nullopt;
      }
      op.c = 0;  // ms
      if (parts.size() == 3) {
        if (parts[2] == "ms") {
          op.c = 0;
        } else if (parts[2] == "us") {
          op.c = 1;
        } else if (parts[2] == "ns") {
          op.c = 2;
        } else {
          Fail(error, "Invalid common duration precision: " + std::string(parts[2]) + ".");
          return std::nullopt;
        }
      }
      // Names that are not built-in time points are custom downstream timings (none in meshlog).
      op.a = static_cast<uint8_t>(TimePointByName(parts[0]).value_or(255));
      op.b = static_cast<uint8_t>(TimePointByName(parts[1]).value_or(255));
      break;
    }
    case OpCode::kResponseCodeDetails:
      op.a = sub == "ALLOW_WHITESPACES" ? 1 : 0;
      break;
    case OpCode::kGrpcStatus:
      if (command == "GRPC_STATUS") {
        if (sub.empty() || sub == "CAMEL_STRING") {
          op.a = 0;
        } else if (sub == "SNAKE_STRING") {
          op.a = 1;
        } else if (sub == "NUMBER") {
          op.a = 2;
        } else {
          Fail(error, "GrpcStatusFormatter only supports CAMEL_STRING, SNAKE_STRING or NUMBER.");
          return std::nullopt;
        }
      }
      break;
    case OpCode::kAddress:
      if (!sub.empty()) {  // *_WITHOUT_PORT(MASK_PREFIX_LEN)
        unsigned bits = 0;
        const auto [ptr, ec] = std::from_chars(sub.data(), sub.data() + sub.size(), bits);
        if (ec != std::errc() || ptr != sub.data() + sub.size() || bits > 128) {
          Fail(error, "Invalid mask prefix length for " + cmd + ": " + std::string(sub) +
                          " (expected 0-32 for IPv4, 0-128 for IPv6)");
          return std::nullopt;
        }
        op.c = static_cast<uint8_t>(bits + 1);
      }
      break;
    case OpCode::kHeader:
      if (!ParseHeaderSubcommand(sub, op, error)) return std::nullopt;
      break;
    case OpCode::kQueryParam:
      op.s1 = std::string(sub);
      break;
    case OpCode::kPath: {
      const auto parts = SplitSubcommand(sub, ':');
      const std::string_view query = parts[0];
      const std::string_view source = parts.size() > 1 ? parts[1] : std::string_view();
      if (query.empty() || query == "WQ") {
        op.a = 0;
      } else if (query == "NQ") {
        op.a = 1;
      } else {
        Fail(error, "Invalid PATH option: '" + std::string(query) + "', only 'WQ'/'NQ' are allowed");
        return std::nullopt;
      }
      if (source.empty() || source == "ORIG_OR_PATH") {
        op.b = 0;
      } else if (source == "PATH") {
        op.b = 1;
      } else if (source == "ORIG") {
        op.b = 2;
      } else {
        Fail(error, "Invalid PATH option: '" + std::string(source) +
                        "', only 'ORIG'/'PATH'/'ORIG_OR_PATH' are allowed");
        return std::nullopt;
      }
      break;
    }
    case OpCode::kRequestedServerName: {
      const auto parts = SplitSubcommand(sub, ':');
      const std::string_view mode = parts[0];
      const std::string_view source = parts.size() > 1 ? parts[1] : std::string_view();
      if (mode.empty() || mode == "SNI_ONLY") {
        op.a = 0;
      } else if (mode == "SNI_FIRST") {
        op.a = 1;
      } else if (mode == "HOST_FIRST") {
        op.a = 2;
      } else {
        Fail(error, "Invalid REQUESTED_SERVER_NAME option: '" + std::string(mode) +
                        "', only 'SNI_ONLY'/'SNI_FIRST'/'HOST_FIRST' are allowed");
        return std::nullopt;
      }
      if (source.empty() || source == "ORIG_OR_HOST") {
        op.b = 0;
      } else if (source == "HOST") {
        op.b = 1;
      } else if (source == "ORIG") {
        op.b = 2;
      } else {
        Fail(error, "Invalid REQUESTED_SERVER_NAME option: '" + std::string(source) +
                        "', only 'ORIG'/'HOST'/'ORIG_OR_HOST' are allowed");
        return std::nullopt;
      }
      break;
    }
    case OpCode::kConstant:
      if (spec.a == 0) {  // HOSTNAME, resolved once
        op.s1 = Hostname();
        op.has_const = !op.s1.empty();
      } else {  // ENVIRONMENT(VAR), read once; unset -> the value "-"
        const std::string var(sub);
        const char* value = std::getenv(var.c_str());
        op.s1 = value != nullptr ? std::string(value) : std::string("-");
        if (max_length && op.s1.size() > *max_length) op.s1.resize(*max_length);
        op.has_const = true;
      }
      break;
    case OpCode::kCoalesce:
      if (!ParseCoalesce(sub, op, error)) return std::nullopt;
      break;
    case OpCode::kMissing:
      if (spec.a == 2) {  // FILTER_STATE(KEY[:PLAIN|TYPED|FIELD[:NAME]])
        const auto parts = SplitSubcommand(sub, ':');
        const std::string_view key = parts[0];
        std::string_view type = parts.size() > 1 ? parts[1] : std::string_view();
        const std::string_view field = parts.size() > 2 ? parts[2] : std::string_view();
        if (key.empty()) {
          Fail(error, "Invalid filter state configuration, key cannot be empty.");
          return std::nullopt;
        }
        if (type.empty()) type = "TYPED";
        if (type != "PLAIN" && type != "TYPED" && type != "FIELD") {
          Fail(error, "Invalid filter state serialize type, only support PLAIN/TYPED/FIELD.");
          return std::nullopt;
        }
        if ((type == "FIELD") != !field.empty()) {
          Fail(error, "Invalid filter state serialize type, FIELD should be used with the field name.");
          return std::nullopt;
        }
      }
      break;
    default:
      break;
  }
  return op;
}

Value Evaluate(const Op& op, const StreamInfo& info, std::string& scratch) {
  switch (op.code) {
    case OpCode::kTime: {
      const SystemTime t =
          op.a == 0 ? info.start_time
                    : info.emit_time.value_or(std::chrono::time_point_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now()));
      scratch.clear();
      op.date->Format(t, scratch);
      return Value::String(scratch);
    }
    case OpCode::kMissing:
      return Value::Missing();
    case OpCode::kDuration:
      return info.duration ? Value::Int(ToMillis(*info.duration)) : Value::Missing();
    case OpCode::kTimingMs: {
      const auto& t = info.timings[op.a];
      return t ? Value::Int(ToMillis(*t)) : Value::Missing();
    }
    case OpCode::kResponseTxDuration: {
      const auto& up = info.timing(TimePoint::kUsRxBeg);
      const auto& down = info.timing(TimePoint::kDsTxEnd);
      if (!up || !down) return Value::Missing();
      return Value::Int(ToMillis(*down - *up));
    }
    case OpCode::kCommonDuration: {
      const auto start = TimingOf(info, op.a == 255 ? -1 : op.a);
      const auto end = TimingOf(info, op.b == 255 ? -1 : op.b);
      if (!start || !end || *end < *start) return Value::Missing();
      const auto d = *end - *start;
      switch (op.c) {
        case 1: return Value::Int(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
        case 2: return Value::Int(d.count());
        default: return Value::Int(ToMillis(d));
      }
    }
    case OpCode::kCounter:
      switch (static_cast<Counter>(op.a)) {
        case Counter::kBytesReceived: return Value::Uint(info.bytes_received);
        case Counter::kBytesSent: return Value::Uint(info.bytes_sent);
        case Counter::kZero: return Value::Uint(0);
        case Counter::kUpstreamWireSent: return Value::Uint(info.upstream_wire_bytes_sent);
        case Counter::kUpstreamWireReceived: return Value::Uint(info.upstream_wire_bytes_received);
        case Counter::kUpstreamHeaderSent: return Value::Uint(info.upstream_header_bytes_sent);
        case Counter::kUpstreamHeaderReceived: return Value::Uint(info.upstream_header_bytes_received);
        case Counter::kDownstreamWireSent: return Value::Uint(info.downstream_wire_bytes_sent);
        case Counter::kDownstreamWireReceived: return Value::Uint(info.downstream_wire_bytes_received);
        case Counter::kDownstreamHeaderSent: return Value::Uint(info.downstream_header_bytes_sent);
        case Counter::kDownstreamHeaderReceived: return Value::Uint(info.downstream_header_bytes_received);
        case Counter::kRequestHeadersBytes:
          return Value::Uint(info.request_headers ? info.request_headers->byte_size() : 0);
        case Counter::kResponseHeadersBytes:
          return Value::Uint(info.response_headers ? info.response_headers->byte_size() : 0);
        case Counter::kResponseTrailersBytes:
          return Value::Uint(info.response_trailers ? info.response_trailers->byte_size() : 0);
      }
      return Value::Uint(0);
    case OpCode::kProtocol:
      return NonEmpty(ProtocolName(op.a == 0 ? info.protocol : info.upstream_protocol), false);
    case OpCode::kResponseCode:
      return Value::Uint(info.response_code.value_or(0));
    case OpCode::kResponseCodeDetails: {
      if (info.response_code_details.empty()) return Value::Missing();
      if (op.a == 1) return Value::String(info.response_code_details, true);
      const std::string_view d = info.response_code_details;
      if (d.find_first_of(" \t\f\v\n\r") == std::string_view::npos) return Value::String(d, true);
      scratch.assign(d);
      for (char& c : scratch) {
        if (c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\n' || c == '\r') c = '_';
      }
      return Value::String(scratch, true);
    }
    case OpCode::kConnectionTerminationDetails:
      return NonEmpty(info.connection_termination_details, true);
    case OpCode::kGrpcStatus:
      return GrpcStatus(op, info, scratch);
    case OpCode::kAccessLogType:
      return Value::String(AccessLogTypeName(info.access_log_type));
    case OpCode::kResponseFlags: {
      if (info.response_flags.empty()) return Value::String("-");
      if (info.response_flags.size() == 1) {
        const ResponseFlag f = info.response_flags[0];
        return Value::String(op.a == 1 ? ResponseFlagLongName(f) : ResponseFlagShortName(f));
      }
      scratch.clear();
      for (size_t i = 0; i < info.response_flags.size(); ++i) {
        if (i != 0) scratch.push_back(',');
        const ResponseFlag f = info.response_flags[i];
        scratch.append(op.a == 1 ? ResponseFlagLongName(f) : ResponseFlagShortName(f));
      }
      return Value::String(scratch);
    }
    case OpCode::kEmptyString:
      return Value::String({});
    case OpCode::kAddress: {
      const Address& addr = AddressOf(info, static_cast<AddressSource>(op.a));
      if (!addr.present()) return Value::Missing();
      if (op.b == 2) {
        if (addr.is_ip()) return Value::Uint(addr.port);
        Value v = Value::String({});
        v.flags |= Value::kNullInJson;
        return v;
      }
      scratch.clear();
      if (op.b == 0) {
        AppendAddress(scratch, addr);
      } else if (op.c != 0 && addr.is_ip()) {
        AppendMasked(scratch, addr, op.c - 1u);
      } else {
        AppendAddressWithoutPort(scratch, addr);
      }
      return Value::String(scratch, addr.kind == Address::Kind::kPipe);
    }
    case OpCode::kUpstreamHostName: {
      std::string_view name = info.upstream_host_name;
      if (name.empty()) {
        if (!info.upstream_host.present()) return Value::Missing();
        scratch.clear();
        AppendAddress(scratch, info.upstream_host);
        name = scratch;
      }
      if (op.a == 1) name = StripPortFromHost(name);
      return Value::String(name, true);
    }
    case OpCode::kUpstreamCluster:
      return NonEmpty(info.upstream_cluster, false);
    case OpCode::kStringField:
      switch (static_cast<StringField>(op.a)) {
        case StringField::kRouteName: return NonEmpty(info.route_name, false);
        case StringField::kVirtualClusterName: return NonEmpty(info.virtual_cluster_name, false);
        case StringField::kFilterChainName: return NonEmpty(info.filter_chain_name, false);
        case StringField::kStreamId: return NonEmpty(info.stream_id, true);
        case StringField::kTraceId: return NonEmpty(info.trace_id, true);
        case StringField::kSpanId: return NonEmpty(info.span_id, true);
      }
      return Value::Missing();
    case OpCode::kTransportFailure: {
      const std::string_view r =
          op.a == 0 ? info.upstream_transport_failure_reason : info.downstream_transport_failure_reason;
      if (r.empty()) return Value::Missing();
      if (r.find(' ') == std::string_view::npos) return Value::String(r, true);
      scratch.assign(r);
      for (char& c : scratch) {
        if (c == ' ') c = '_';
      }
      return Value::String(scratch, true);
    }
    case OpCode::kConnectionId:
      return Value::Uint(op.a == 0 ? info.connection_id : info.upstream_connection_id);
    case OpCode::kAttemptCount:
      return Value::Uint(info.upstream_request_attempt_count);
    case OpCode::kHeader: {
      const HeaderMap* map =
          op.a == 0 ? info.request_headers : (op.a == 1 ? info.response_headers : info.response_trailers);
      if (map == nullptr) return Value::Missing();
      const HeaderMap::Entry* e = map->find(op.s1);
      if (e == nullptr && !op.s2.empty()) e = map->find(op.s2);
      if (e == nullptr) return Value::Missing();
      return Truncate(Value::String(e->value, true), op);
    }
    case OpCode::kQueryParam:
      return Truncate(QueryParam(op, info, scratch), op);
    case OpCode::kPath:
      return Truncate(PathValue(op, info), op);
    case OpCode::kLocalReplyBody:
      return Value::String(info.local_reply_body, true);
    case OpCode::kRequestedServerName:
      return RequestedServerName(op, info, scratch);
    case OpCode::kConstant:
      return op.has_const ? Value::String(op.s1) : Value::Missing();
    case OpCode::kUniqueId:
      return UniqueId(scratch);
    case OpCode::kCoalesce:
      for (const Op& child : *op.children) {
        const Value v = Evaluate(child, info, scratch);
        if (v.kind == ValueKind::kMissing || v.null_in_json()) continue;
        if (v.kind == ValueKind::kString && v.len == 0) continue;
        return Truncate(v, op);
      }
      return Value::Missing();
  }
  return Value::Missing();
}

}  // namespace meshlog::format
