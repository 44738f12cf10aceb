#include "proxy/test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace meshlog::proxy::testing {

namespace {
constexpr const char* kFlagNames[] = {"LH",  "UH",  "UT", "LR",   "UR",   "UF", "UC", "UO", "NR", "DI",
                                      "FI",  "RL",  "UAEX", "RLSE", "DC",  "URX", "SI", "IH", "DPE", "UMSDR",
                                      "RFCF", "NFCF", "DT", "UPE",  "NC",   "OM", "DF", "DO", "DR", "UDO"};

bool IEq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}
}  // namespace

std::string FlagsString(const format::ResponseFlags& flags) {
  if (flags.empty()) return "-";
  std::string out;
  for (size_t i = 0; i < flags.size(); ++i) {
    if (i) out += ',';
    out += kFlagNames[static_cast<size_t>(flags[i])];
  }
  return out;
}

std::string AddressString(const format::Address& a) {
  if (!a.present()) return "-";
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.kind == format::Address::Kind::kIpv4) {
    inet_ntop(AF_INET, a.ip.data(), buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(a.port);
  }
  if (a.kind == format::Address::Kind::kIpv6) {
    inet_ntop(AF_INET6, a.ip.data(), buf, sizeof buf);
    return "[" + std::string(buf) + "]:" + std::to_string(a.port);
  }
  return std::string(a.pipe_path);
}

std::optional<std::string> Header(const format::HeaderMap* map, std::string_view lower_name) {
  if (map == nullptr) return std::nullopt;
  for (const auto& e : map->entries()) {
    if (IEq(e.name, lower_name)) return std::string(e.value);
  }
  return std::nullopt;
}

void RecordingLog::log(const format::StreamInfo& info) {
  Record r;
  r.code = info.response_code;
  r.flags = FlagsString(info.response_flags);
  r.details = std::string(info.response_code_details);
  r.local_reply_body = std::string(info.local_reply_body);
  r.protocol = info.protocol;
  r.type = info.access_log_type;
  r.has_request_headers = info.request_headers != nullptr;
  r.method = Header(info.request_headers, ":method");
  r.path = Header(info.request_headers, ":path");
  r.authority = Header(info.request_headers, ":authority");
  r.request_id = Header(info.request_headers, "x-request-id");
  r.user_agent = Header(info.request_headers, "user-agent");
  r.scheme = Header(info.request_headers, ":scheme");
  r.forwarded_proto = Header(info.request_headers, "x-forwarded-proto");
  r.service_time = Header(info.response_headers, "x-envoy-upstream-service-time");
  r.status_header = Header(info.response_headers, ":status");
  r.trailer_checksum = Header(info.response_trailers, "x-checksum");
  r.stream_id = std::string(info.stream_id);
  r.bytes_received = info.bytes_received;
  r.bytes_sent = info.bytes_sent;
  r.ds_wire_received = info.downstream_wire_bytes_received;
  r.ds_wire_sent = info.downstream_wire_bytes_sent;
  r.us_wire_sent = info.upstream_wire_bytes_sent;
  r.us_wire_received = info.upstream_wire_bytes_received;
  r.upstream_host = AddressString(info.upstream_host);
  r.upstream_local = AddressString(info.upstream_local);
  r.downstream_remote = AddressString(info.downstream_remote);
  r.downstream_local = AddressString(info.downstream_local);
  r.cluster = std::string(info.upstream_cluster);
  r.connection_id = info.connection_id;
  r.upstream_connection_id = info.upstream_connection_id;
  r.attempts = info.upstream_request_attempt_count;
  r.duration = info.duration;
  r.timings = info.timings;
  std::lock_guard lock(mu_);
  records_.push_back(std::move(r));
  cv_.notify_all();
}

std::vector<Record> RecordingLog::WaitFor(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return records_.size() >= n; });
  return records_;
}

std::vector<Record> RecordingLog::records() {
  std::lock_guard lock(mu_);
  return records_;
}

void TinyFormatter::format(const format::StreamInfo& info, std::string& out) const {
  out += std::to_string(info.response_code.value_or(0));
  out += ' ';
  out += FlagsString(info.response_flags);
  out += ' ';
  out += Header(info.request_headers, ":method").value_or("-");
  out += ' ';
  out += Header(info.request_headers, ":path").value_or("-");
  out += '\n';
}

Client::Client(uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

Client::~Client() { Close(); }

void Client::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void Client::Send(std::string_view data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

void Client::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

namespace {
// Reads once with a timeout; returns bytes read, 0 on EOF, -1 on timeout/error.
ssize_t ReadSome(int fd, std::string& out, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return -1;
  char buf[16384];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n > 0) out.append(buf, static_cast<size_t>(n));
  return n;
}
}  // namespace

std::string Client::ReadUntil(std::string_view needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pending_.find(needle) == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || ReadSome(fd_, pending_, left) <= 0) break;
  }
  const auto pos = pending_.find(needle);
  std::string out;
  if (pos == std::string::npos) {
    out.swap(pending_);
  } else {
    out = pending_.substr(0, pos + needle.size());
    pending_.erase(0, pos + needle.size());
  }
  return out;
}

std::string Client::ReadResponse(std::chrono::milliseconds timeout) {
  std::string head = ReadUntil("\r\n\r\n", timeout);
  size_t len = 0;
  std::string lower = head;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto cl = lower.find("content-length:");
  if (cl != std::string::npos) len = std::strtoul(lower.c_str() + cl + 15, nullptr, 10);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pending_.size() < len) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || ReadSome(fd_, pending_, left) <= 0) break;
  }
  const size_t take = std::min(len, pending_.size());
  head += pending_.substr(0, take);
  pending_.erase(0, take);
  if (pending_.empty()) std::string().swap(pending_);  // idle clients hold no buffer
  return head;
}

size_t Client::ReadExactly(size_t n, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pending_.size() < n) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || ReadSome(fd_, pending_, left) <= 0) break;
  }
  const size_t got = std::min(n, pending_.size());
  pending_.erase(0, got);
  return got;
}

std::string Client::ReadToEof(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || ReadSome(fd_, pending_, left) <= 0) break;
  }
  std::string out;
  out.swap(pending_);
  return out;
}

std::string Exchange(uint16_t port, std::string_view request, bool half_close, std::chrono::milliseconds timeout) {
  Client c(port);
  if (!c.ok()) return "<connect failed>";
  c.Send(request);
  if (half_close) c.ShutdownWrite();
  return c.ReadToEof(timeout);
}

std::string HttpExchange(uint16_t port, std::string_view request, std::chrono::milliseconds timeout) {
  std::string req(request);
  const auto eol = req.find("\r\n");
  if (eol != std::string::npos) req.insert(eol + 2, "Connection: close\r\n");
  return Exchange(port, req, /*half_close=*/false, timeout);
}

std::string Run(const std::string& command) {
  std::string out;
  FILE* f = ::popen(command.c_str(), "r");
  if (f == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  ::pclose(f);
  return out;
}

ClosedPort::ClosedPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
}

ClosedPort::~ClosedPort() { ::close(fd_); }

}  // namespace meshlog::proxy::testing
