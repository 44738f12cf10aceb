#include "format/stream_info.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace meshlog::format {

namespace {

struct FlagNames {
  std::string_view short_name;
  std::string_view long_name;
};

// Envoy's core response-flag table, in table order (formatter.md 4.4).
constexpr std::array<FlagNames, static_cast<size_t>(ResponseFlag::kCount)> kFlagNames{{
    {"LH", "FailedLocalHealthCheck"},
    {"UH", "NoHealthyUpstream"},
    {"UT", "UpstreamRequestTimeout"},
    {"LR", "LocalReset"},
    {"UR", "UpstreamRemoteReset"},
    {"UF", "UpstreamConnectionFailure"},
    {"UC", "UpstreamConnectionTermination"},
    {"UO", "UpstreamOverflow"},
    {"NR", "NoRouteFound"},
    {"DI", "DelayInjected"},
    {"FI", "FaultInjected"},
    {"RL", "RateLimited"},
    {"UAEX", "UnauthorizedExternalService"},
    {"RLSE", "RateLimitServiceError"},
    {"DC", "DownstreamConnectionTermination"},
    {"URX", "UpstreamRetryLimitExceeded"},
    {"SI", "StreamIdleTimeout"},
    {"IH", "InvalidEnvoyRequestHeaders"},
    {"DPE", "DownstreamProtocolError"},
    {"UMSDR", "UpstreamMaxStreamDurationReached"},
    {"RFCF", "ResponseFromCacheFilter"},
    {"NFCF", "NoFilterConfigFound"},
    {"DT", "DurationTimeout"},
    {"UPE", "UpstreamProtocolError"},
    {"NC", "NoClusterFound"},
    {"OM", "OverloadManagerTerminated"},
    {"DF", "DnsResolutionFailed"},
    {"DO", "DropOverload"},
    {"DR", "DownstreamRemoteReset"},
    {"UDO", "UnconditionalDropOverload"},
}};

constexpr std::array<std::string_view, 14> kAccessLogTypeNames{
    "NotSet",
    "TcpUpstreamConnected",
    "TcpPeriodic",
    "TcpConnectionEnd",
    "DownstreamStart",
    "DownstreamTunnelSuccessfullyEstablished",
    "DownstreamPeriodic",
    "DownstreamEnd",
    "UpstreamPoolReady",
    "UpstreamPeriodic",
    "UpstreamEnd",
    "UdpTunnelUpstreamConnected",
    "UdpPeriodic",
    "UdpSessionEnd",
};

inline char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

bool ParsePort(std::string_view text, uint16_t& port) {
  if (text.empty() || text.size() > 5) return false;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > 65535) return false;
  port = static_cast<uint16_t>(value);
  return true;
}

// "0".."255" as text, so an IPv4 address is four table copies.
struct OctetTable {
  char text[256][4];
  uint8_t len[256];
  constexpr OctetTable() : text(), len() {
    for (int v = 0; v < 256; ++v) {
      int n = 0;
      if (v >= 100) text[v][n++] = static_cast<char>('0' + v / 100);
      if (v >= 10) text[v][n++] = static_cast<char>('0' + (v / 10) % 10);
      text[v][n++] = static_cast<char>('0' + v % 10);
      len[v] = static_cast<uint8_t>(n);
    }
  }
};
constexpr OctetTable kOctets;

void AppendIpv4(std::string& out, const uint8_t* ip) {
  char buf[16];
  size_t n = 0;
  for (int i = 0; i < 4; ++i) {
    if (i != 0) buf[n++] = '.';
    std::memcpy(buf + n, kOctets.text[ip[i]], 4);  // copies a little slack, buf has room
    n += kOctets.len[ip[i]];
  }
  out.append(buf, n);
}

void AppendIpv6(std::string& out, const uint8_t* ip) {
  char buf[INET6_ADDRSTRLEN];
  if (inet_ntop(AF_INET6, ip, buf, sizeof(buf)) != nullptr) out.append(buf);
}

}  // namespace

std::string_view ResponseFlagShortName(ResponseFlag flag) {
  const auto i = static_cast<size_t>(flag);
  return i < kFlagNames.size() ? kFlagNames[i].short_name : std::string_view();
}

std::string_view ResponseFlagLongName(ResponseFlag flag) {
  const auto i = static_cast<size_t>(flag);
  return i < kFlagNames.size() ? kFlagNames[i].long_name : std::string_view();
}

std::string_view AccessLogTypeName(AccessLogType type) {
  const auto i = static_cast<size_t>(type);
  return i < kAccessLogTypeNames.size() ? kAccessLogTypeNames[i] : kAccessLogTypeNames[0];
}

std::optional<Address> Address::Parse(std::string_view text) {
  Address a;
  if (!text.empty() && text.front() == '/') {
    a.kind = Kind::kPipe;
    a.pipe_path = text;
    return a;
  }
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    const std::string host(text.substr(1, close - 1));
    if (inet_pton(AF_INET6, host.c_str(), a.ip.data()) != 1) return std::nullopt;
    if (!ParsePort(text.substr(close + 2), a.port)) return std::nullopt;
    a.kind = Kind::kIpv6;
    return a;
  }
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string host(text.substr(0, colon));
  if (inet_pton(AF_INET, host.c_str(), a.ip.data()) != 1) return std::nullopt;
  if (!ParsePort(text.substr(colon + 1), a.port)) return std::nullopt;
  a.kind = Kind::kIpv4;
  return a;
}

Address Address::Ipv4(uint32_t host_order_ip, uint16_t port) {
  Address a;
  a.kind = Kind::kIpv4;
  a.ip[0] = static_cast<uint8_t>(host_order_ip >> 24);
  a.ip[1] = static_cast<uint8_t>(host_order_ip >> 16);
  a.ip[2] = static_cast<uint8_t>(host_order_ip >> 8);
  a.ip[3] = static_cast<uint8_t>(host_order_ip);
  a.port = port;
  return a;
}

void AppendAddress(std::string& out, const Address& a) {
  char port[8];
  switch (a.kind) {
    case Address::Kind::kNone:
      return;
    case Address::Kind::kPipe:
      out.append(a.pipe_path);
      return;
    case Address::Kind::kIpv4:
      AppendIpv4(out, a.ip.data());
      break;
    case Address::Kind::kIpv6:
      out.push_back('[');
      AppendIpv6(out, a.ip.data());
      out.push_back(']');
      break;
  }
  out.push_back(':');
  out.append(port, static_cast<size_t>(std::to_chars(port, port + sizeof(port), a.port).ptr - port));
}

void AppendAddressWithoutPort(std::string& out, const Address& a) {
  switch (a.kind) {
    case Address::Kind::kNone:
      return;
    case Address::Kind::kPipe:
      out.append(a.pipe_path);
      return;
    case Address::Kind::kIpv4:
      AppendIpv4(out, a.ip.data());
      return;
    case Address::Kind::kIpv6:
      AppendIpv6(out, a.ip.data());
      return;
  }
}

namespace {

// ASCII lower-casing of 8 bytes at once (only 'A'..'Z' change).
inline uint64_t Lower8(uint64_t x) {
  const uint64_t heptets = x & 0x7F7F7F7F7F7F7F7FULL;
  const uint64_t ge_a = heptets + 0x3F3F3F3F3F3F3F3FULL;  // high bit set where byte >= 'A'
  const uint64_t gt_z = heptets + 0x2525252525252525ULL;  // high bit set where byte > 'Z'
  const uint64_t upper = ge_a & ~gt_z & ~x & 0x8080808080808080ULL;
  return x | (upper >> 2);
}

inline bool EqualsLower(const char* have, const char* want, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t a, b;
    std::memcpy(&a, have + i, 8);
    std::memcpy(&b, want + i, 8);
    if (Lower8(a) != b) return false;
  }
  for (; i < n; ++i) {
    if (LowerAscii(have[i]) != want[i]) return false;
  }
  return true;
}

}  // namespace

const HeaderMap::Entry* HeaderMap::find(std::string_view lower_name) const {
  const size_t n = lower_name.size();
  const char* want = lower_name.data();
  for (const Entry& e : entries_) {
    if (e.name.size() == n && EqualsLower(e.name.data(), want, n)) return &e;
  }
  return nullptr;
}

std::optional<std::string_view> HeaderMap::get(std::string_view lower_name) const {
  const Entry* e = find(lower_name);
  if (e == nullptr) return std::nullopt;
  return e->value;
}

uint64_t HeaderMap::byte_size() const {
  uint64_t total = 0;
  for (const Entry& e : entries_) total += e.name.size() + e.value.size();
  return total;
}

}  // namespace meshlog::format
