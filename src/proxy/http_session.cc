// HTTP/1.1 proxying: one HttpSession per downstream connection, one coroutine handling requests
// in sequence (pipelined requests wait in the read buffer), a watchdog coroutine enforcing the
// timeouts by cancelling socket operations.
#include <array>
#include <cstdio>
#include <random>

#include <sys/socket.h>

#include "proxy/http_parser.h"
#include "proxy/internal.h"

namespace meshlog::proxy {

namespace {

namespace bhttp = boost::beast::http;
using asio::redirect_error;
using asio::use_awaitable;
using format::ResponseFlag;
using format::TimePoint;

constexpr size_t kReadChunk = 16 * 1024;

// Envoy's local reply bodies and response code details.
constexpr std::string_view kBodyNoHealthyUpstream = "no healthy upstream";
constexpr std::string_view kBodyConnectFailure =
    "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
constexpr std::string_view kBodyConnectionTermination =
    "upstream connect error or disconnect/reset before headers. reset reason: connection termination";
constexpr std::string_view kBodyProtocolError =
    "upstream connect error or disconnect/reset before headers. reset reason: protocol error";
constexpr std::string_view kBodyUpstreamTimeout = "upstream request timeout";
constexpr std::string_view kBodyRequestTimeout = "request timeout";
constexpr std::string_view kBodyBadRequest = "Bad Request";

void MakeRequestId(std::string& out) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::array<uint8_t, 16> b;
  const uint64_t x = rng();
  const uint64_t y = rng();
  std::memcpy(b.data(), &x, 8);
  std::memcpy(b.data() + 8, &y, 8);
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  out.clear();
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 15]);
  }
}

struct TunnelState {
  explicit TunnelState(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
  TunnelCounters counters;
  bool done = false;
};

class HttpSession;
asio::awaitable<void> TunnelIdleWatch(std::shared_ptr<HttpSession> self, std::shared_ptr<TunnelState> state,
                                      std::chrono::milliseconds idle);

class HttpSession final : public SessionBase, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Worker& worker, std::shared_ptr<ListenerState> ls, tcp::socket socket)
      : worker_(worker), ls_(std::move(ls)), ds_(std::move(socket)), timer_(worker.io()) {
    worker_.Register(this);
    worker_.active_sessions.fetch_add(1);
    ls_->stats.connections.inc();
    ls_->stats.active_connections.add(1);
    timer_.expires_at(Clock::time_point::max());
  }
  ~HttpSession() override {
    worker_.Unregister(this);
    worker_.active_sessions.fetch_sub(1);
    ls_->stats.active_connections.sub(1);
  }

  asio::awaitable<void> Run();

  void OnDrain() override {
    drain_ = true;
    if (phase_ == Phase::kIdle && rbuf_.empty()) CloseDownstream();
  }
  void Abort() override {
    aborted_ = true;
    CloseDownstream();
    if (us_) {
      error_code ignored;
      us_->socket.close(ignored);
    }
  }

 private:
  enum class Phase : uint8_t { kIdle, kHeaders, kBody, kConnect, kResponse, kTunnel, kLinger, kDone };

  asio::awaitable<void> Watchdog(std::shared_ptr<HttpSession> self);
  void Arm(Phase phase, std::chrono::milliseconds d);
  void OnTimeout();
  asio::awaitable<bool> HandleOne();
  asio::awaitable<size_t> ReadDs();
  asio::awaitable<size_t> ReadUs();
  asio::awaitable<bool> WriteDs(std::string_view data);
  asio::awaitable<bool> WriteUs(std::string_view data);
  // Local replies: PrepareReply() stores the reply (plain function: no coroutine parameters to
  // copy), SendLocalReply() writes it and the record.
  void PrepareReply(unsigned code, std::string_view body, std::string_view details, std::optional<ResponseFlag> flag,
                    bool close);
  asio::awaitable<void> SendLocalReply();
  asio::awaitable<void> Tunnel();
  asio::awaitable<void> LingeringClose();
  void BuildRequestHeaders();
  void SerializeRequestHead(bool chunked);
  void BuildResponseHeaders(bool close, bool chunked_out);
  void Mark(TimePoint p) { info_.timing(p) = Clock::now() - start_; }
  void MarkOnce(TimePoint p) {
    if (!info_.timing(p)) Mark(p);
  }
  void FinishRecord();
  void ReleaseUpstream(bool reusable);
  // While waiting for the response head, notice a client that closed its connection (Envoy logs
  // such requests with DC and code 0): the upstream request is abandoned at once.
  void WatchDownstreamClose();
  void ReleaseBuffers();
  void AcquireBuffers();
  void StopWatchingDownstream();
  void CloseDownstream() {
    error_code ignored;
    ds_.close(ignored);
  }
  bool TimedOut(Phase p) const { return timed_out_ && timeout_phase_ == p; }

  Worker& worker_;
  std::shared_ptr<ListenerState> ls_;
  std::shared_ptr<const ListenerRuntime> rt_;
  tcp::socket ds_;
  asio::steady_timer timer_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Phase phase_ = Phase::kIdle;
  bool closed_ = false;
  bool drain_ = false;
  bool aborted_ = false;
  bool timed_out_ = false;
  Phase timeout_phase_ = Phase::kIdle;
  bool ds_eof_ = false;
  bool ds_watch_active_ = false;
  bool ds_closed_early_ = false;

  // Per connection.
  uint64_t connection_id_ = 0;
  format::Address ds_local_;
  format::Address ds_remote_;
  ReadBuffer rbuf_;
  std::unique_ptr<UpstreamConn> us_;
  const EndpointRuntime* us_endpoint_ = nullptr;

  // Per request (capacity reused).
  Clock::time_point start_;
  format::StreamInfo info_;
  http::Message req_;
  http::Message resp_;
  std::optional<http::RequestParser> req_parser_;
  std::optional<http::ResponseParser> resp_parser_;
  http::ParserLimits limits_;
  format::HeaderMap req_map_;
  format::HeaderMap resp_map_;
  format::HeaderMap trailer_map_;
  std::string request_id_;
  std::string service_time_;
  std::string status_text_;
  std::string content_length_text_;
  std::string us_out_;
  std::string ds_out_;
  std::string retry_head_;
  bool request_active_ = false;
};

void HttpSession::Arm(Phase phase, std::chrono::milliseconds d) {
  phase_ = phase;
  deadline_ = d.count() > 0 ? Clock::now() + d : Clock::time_point::max();
  if (deadline_ < timer_.expiry()) timer_.cancel();
}

asio::awaitable<void> HttpSession::Watchdog(std::shared_ptr<HttpSession> self) {
  (void)self;  // keeps the session alive while the watchdog runs
  while (!closed_) {
    if (deadline_ <= Clock::now()) {
      deadline_ = Clock::time_point::max();
      OnTimeout();
      continue;
    }
    timer_.expires_at(deadline_);
    error_code ec;
    co_await timer_.async_wait(redirect_error(use_awaitable, ec));
  }
}

void HttpSession::OnTimeout() {
  timed_out_ = true;
  timeout_phase_ = phase_;
  error_code ignored;
  switch (phase_) {
    case Phase::kIdle:
    case Phase::kLinger:
      CloseDownstream();
      break;
    case Phase::kHeaders:
    case Phase::kBody:
      ds_.cancel(ignored);
      break;
    case Phase::kResponse:
    case Phase::kTunnel:
      if (us_) us_->socket.close(ignored);
      ds_.cancel(ignored);
      break;
    default:
      break;
  }
}

asio::awaitable<size_t> HttpSession::ReadDs() {
  error_code ec;
  const size_t n = co_await ds_.async_read_some(rbuf_.Prepare(kReadChunk), redirect_error(use_awaitable, ec));
  if (ec) {
    ds_eof_ = true;
    co_return 0;
  }
  rbuf_.Commit(n);
  ls_->stats.downstream_bytes_received.inc(n);
  co_return n;
}

asio::awaitable<size_t> HttpSession::ReadUs() {
  error_code ec;
  const size_t n =
      co_await us_->socket.async_read_some(us_->rbuf.Prepare(kReadChunk), redirect_error(use_awaitable, ec));
  if (ec) co_return 0;
  MarkOnce(TimePoint::kUsRxBeg);
  us_->rbuf.Commit(n);
  co_return n;
}

asio::awaitable<bool> HttpSession::WriteDs(std::string_view data) {
  if (data.empty()) co_return true;
  MarkOnce(TimePoint::kDsTxBeg);
  error_code ec;
  co_await asio::async_write(ds_, asio::buffer(data.data(), data.size()), redirect_error(use_awaitable, ec));
  if (ec) co_return false;
  Mark(TimePoint::kDsTxEnd);
  info_.downstream_wire_bytes_sent += data.size();
  ls_->stats.downstream_bytes_sent.inc(data.size());
  co_return true;
}

asio::awaitable<bool> HttpSession::WriteUs(std::string_view data) {
  if (data.empty()) co_return true;
  MarkOnce(TimePoint::kUsTxBeg);
  error_code ec;
  co_await asio::async_write(us_->socket, asio::buffer(data.data(), data.size()),
                             redirect_error(use_awaitable, ec));
  if (ec) co_return false;
  Mark(TimePoint::kUsTxEnd);
  info_.upstream_wire_bytes_sent += data.size();
  co_return true;
}

void HttpSession::BuildRequestHeaders() {
  req_map_.clear();
  req_map_.add(":method", req_.Method());
  req_map_.add(":path", req_.Target());
  if (auto host = req_.Get(bhttp::field::host)) req_map_.add(":authority", *host);
  req_map_.add(":scheme", "http");
  bool has_request_id = false;
  for (const auto& f : req_.fields) {
    if (f.f == bhttp::field::host) continue;  // HTTP/1 Host becomes :authority (as in Envoy)
    const auto name = req_.View(f.name);
    if (f.f == bhttp::field::unknown && http::IEquals(name, "x-request-id")) {
      has_request_id = true;
      info_.stream_id = req_.View(f.value);
    }
    req_map_.add(name, req_.View(f.value));
  }
  if (!has_request_id) {
    MakeRequestId(request_id_);
    req_map_.add("x-request-id", request_id_);
    info_.stream_id = request_id_;
  }
}

void HttpSession::SerializeRequestHead(bool chunked) {
  us_out_.clear();
  us_out_.append(req_.Method());
  us_out_.push_back(' ');
  us_out_.append(req_.Target());
  us_out_.append(" HTTP/1.1\r\n");
  const bool upgrade = req_.connection_upgrade && req_.Get(bhttp::field::upgrade).has_value();
  for (const auto& f : req_.fields) {
    const auto name = req_.View(f.name);
    if (f.f == bhttp::field::upgrade && upgrade) {
      // kept: the WebSocket handshake is forwarded as is
    } else if (http::IsHopByHop(f.f, name) || f.f == bhttp::field::expect || req_.NamedByConnection(name)) {
      continue;  // Expect: 100-continue is answered by the proxy (as Envoy does)
    }
    us_out_.append(name);
    us_out_.append(": ");
    us_out_.append(req_.View(f.value));
    us_out_.append("\r\n");
  }
  if (request_id_.size() && info_.stream_id.data() == request_id_.data()) {
    us_out_.append("x-request-id: ");
    us_out_.append(request_id_);
    us_out_.append("\r\n");
  }
  if (chunked) us_out_.append("transfer-encoding: chunked\r\n");
  if (upgrade) us_out_.append("connection: upgrade\r\n");
  us_out_.append("\r\n");
  info_.upstream_header_bytes_sent = us_out_.size();
}

void HttpSession::BuildResponseHeaders(bool close, bool chunked_out) {
  resp_map_.clear();
  status_text_ = std::to_string(resp_.status);
  resp_map_.add(":status", status_text_);
  ds_out_.clear();
  ds_out_.append("HTTP/1.1 ");
  ds_out_.append(status_text_);
  ds_out_.push_back(' ');
  ds_out_.append(resp_.Reason().empty() ? http::ReasonPhrase(resp_.status) : resp_.Reason());
  ds_out_.append("\r\n");
  const bool upgrade = resp_.status == 101;
  for (const auto& f : resp_.fields) {
    const auto name = resp_.View(f.name);
    const auto value = resp_.View(f.value);
    if (upgrade && (f.f == bhttp::field::upgrade || f.f == bhttp::field::connection)) {
      // forwarded for the WebSocket handshake
    } else if (http::IsHopByHop(f.f, name) || resp_.NamedByConnection(name)) {
      continue;
    }
    if (f.f == bhttp::field::unknown && http::IEquals(name, "x-envoy-upstream-service-time")) continue;
    resp_map_.add(name, value);
    ds_out_.append(name);
    ds_out_.append(": ");
    ds_out_.append(value);
    ds_out_.append("\r\n");
  }
  if (!upgrade) {
    resp_map_.add("x-envoy-upstream-service-time", service_time_);
    ds_out_.append("x-envoy-upstream-service-time: ");
    ds_out_.append(service_time_);
    ds_out_.append("\r\n");
  }
  if (chunked_out) ds_out_.append("transfer-encoding: chunked\r\n");
  if (close && !upgrade) ds_out_.append("connection: close\r\n");
  else if (!close && req_.version == 10) ds_out_.append("connection: keep-alive\r\n");
  ds_out_.append("\r\n");
  info_.downstream_header_bytes_sent = ds_out_.size();
  info_.response_headers = &resp_map_;
}

void HttpSession::ReleaseUpstream(bool reusable) {
  if (!us_) return;
  if (reusable && us_->rbuf.empty() && !drain_) {
    worker_.PutIdle(std::move(us_));
  } else {
    error_code ignored;
    us_->socket.close(ignored);
  }
  us_.reset();
}

void HttpSession::WatchDownstreamClose() {
  ds_closed_early_ = false;
  if (!rbuf_.empty()) return;  // a pipelined request is waiting: the client is still there
  ds_watch_active_ = true;
  ds_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](const error_code& ec) {
    if (ec || !self->ds_watch_active_) return;
    self->ds_watch_active_ = false;
    char c;
    const ssize_t n = ::recv(self->ds_.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
      self->ds_closed_early_ = true;
      if (self->us_) {
        error_code ignored;
        self->us_->socket.close(ignored);  // wakes the pending upstream read
      }
    }
    // n > 0: a pipelined request arrived; it is read after this response.
  });
}

void HttpSession::ReleaseBuffers() {
  rbuf_.ReleaseTo(worker_.read_buffers());
  auto& pool = worker_.string_buffers();
  for (std::string* s : {&us_out_, &ds_out_}) {
    if (s->capacity() > 1024 && pool.size() < 8192) {
      s->clear();
      pool.push_back(std::move(*s));
      *s = std::string();
    }
  }
}

void HttpSession::AcquireBuffers() {
  rbuf_.AcquireFrom(worker_.read_buffers());
  auto& pool = worker_.string_buffers();
  for (std::string* s : {&us_out_, &ds_out_}) {
    if (s->capacity() <= 1024 && !pool.empty()) {
      *s = std::move(pool.back());
      pool.pop_back();
    }
  }
}

void HttpSession::StopWatchingDownstream() {
  if (!ds_watch_active_) return;
  ds_watch_active_ = false;
  error_code ignored;
  ds_.cancel(ignored);
}

void HttpSession::FinishRecord() {
  if (!request_active_) return;
  request_active_ = false;
  if (!info_.duration) info_.duration = Clock::now() - start_;
  info_.bytes_received = req_.body_bytes;
  if (info_.response_code) {
    const unsigned c = *info_.response_code;
    auto& s = ls_->stats;
    (c < 200 ? s.responses_1xx : c < 300 ? s.responses_2xx : c < 400 ? s.responses_3xx : c < 500 ? s.responses_4xx
                                                                                                   : s.responses_5xx)
        .inc();
  }
  ls_->stats.active_requests.sub(1);
  LogRecord(*rt_, ls_->stats, info_);
}

void HttpSession::PrepareReply(unsigned code, std::string_view body, std::string_view details,
                               std::optional<ResponseFlag> flag, bool close) {
  ls_->stats.local_replies.inc();
  if (flag) info_.response_flags.set(*flag);
  info_.response_code = code;
  info_.response_code_details = details;
  info_.local_reply_body = body;
  status_text_ = std::to_string(code);
  content_length_text_ = std::to_string(body.size());
  resp_map_.clear();
  resp_map_.add(":status", status_text_);
  resp_map_.add("content-length", content_length_text_);
  resp_map_.add("content-type", "text/plain");
  info_.response_headers = &resp_map_;
  ds_out_.clear();
  ds_out_.append("HTTP/1.1 ");
  ds_out_.append(status_text_);
  ds_out_.push_back(' ');
  ds_out_.append(http::ReasonPhrase(code));
  ds_out_.append("\r\ncontent-length: ");
  ds_out_.append(content_length_text_);
  ds_out_.append("\r\ncontent-type: text/plain\r\n");
  if (close) ds_out_.append("connection: close\r\n");
  ds_out_.append("\r\n");
  info_.downstream_header_bytes_sent = ds_out_.size();
  ds_out_.append(body);
}

asio::awaitable<void> HttpSession::SendLocalReply() {
  const auto r1 = co_await WriteDs(ds_out_);
  if (r1) {
    info_.bytes_sent = info_.local_reply_body.size();
  } else {
    info_.response_flags.set(ResponseFlag::DC);
  }
  FinishRecord();
}

asio::awaitable<void> HttpSession::LingeringClose() {
  // Half-close, then read and discard what the client still sends (bounded in time), so the
  // kernel does not answer unread input with a RST that could destroy our response.
  error_code ec;
  ds_.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  Arm(Phase::kLinger, std::chrono::milliseconds(1000));
  size_t total = 0;
  while (!ds_eof_ && total < 1024 * 1024) {
    rbuf_.Clear();
    const size_t n = co_await ReadDs();
    if (n == 0) break;
    total += n;
  }
}

asio::awaitable<void> HttpSession::Run() {
  auto self = shared_from_this();
  asio::co_spawn(worker_.io(), Watchdog(self), asio::detached);
  connection_id_ = NextConnectionId();
  error_code ec;
  auto local = ds_.local_endpoint(ec);
  if (!ec) ds_local_ = ToAddress(local);
  auto remote = ds_.remote_endpoint(ec);
  if (!ec) ds_remote_ = ToAddress(remote);
  ds_.set_option(tcp::no_delay(true), ec);
  bool linger = false;
  for (;;) {
    bool keep = false;
    try {
      keep = co_await HandleOne();
    } catch (const std::exception& e) {
      // Never expected (every I/O path uses error codes); a bug must not take the process down.
      std::fprintf(stderr, "meshlog: http session: %s\n", e.what());
      FinishRecord();
    }
    if (!keep || aborted_ || !ds_.is_open()) {
      linger = ds_.is_open() && !aborted_;
      break;
    }
  }
  if (linger) co_await LingeringClose();
  ReleaseUpstream(false);
  closed_ = true;
  phase_ = Phase::kDone;
  timer_.cancel();
  CloseDownstream();
}

asio::awaitable<bool> HttpSession::HandleOne() {
  // ---- wait for the next request ----
  timed_out_ = false;
  if (drain_ && rbuf_.empty()) co_return false;
  Arm(Phase::kIdle, ls_->runtime.load()->config.timeouts.idle);
  if (rbuf_.empty()) {
    // Idle keep-alive connection: hold no buffers while waiting (10k idle connections must stay
    // cheap); they come back from the worker's pools when the next request arrives.
    ReleaseBuffers();
    error_code ec;
    co_await ds_.async_wait(tcp::socket::wait_read, redirect_error(use_awaitable, ec));
    if (ec) co_return false;
    AcquireBuffers();
  }
  while (rbuf_.empty()) {
    const auto r2 = co_await ReadDs();
    if (r2 == 0) co_return false;  // closed, idle timeout or drain: no record
  }

  // ---- a request starts: it uses the listener configuration current at its first byte ----
  rt_ = ls_->runtime.load();
  const auto& cfg = rt_->config;
  limits_.max_header_bytes = cfg.limits.max_header_bytes;
  limits_.max_uri_bytes = cfg.limits.max_uri_bytes;
  start_ = Clock::now();
  info_ = format::StreamInfo{};
  info_.start_time = std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
  info_.timing(TimePoint::kDsRxBeg) = std::chrono::nanoseconds(0);
  info_.access_log_type = format::AccessLogType::DownstreamEnd;
  info_.connection_id = connection_id_;
  info_.downstream_local = ds_local_;
  info_.downstream_remote = ds_remote_;
  info_.downstream_direct_remote = ds_remote_;
  info_.upstream_cluster = cfg.cluster_name;
  info_.route_name = cfg.route_name;
  info_.request_headers = &req_map_;
  req_map_.clear();
  resp_map_.clear();
  trailer_map_.clear();
  request_id_.clear();
  req_.Clear();
  resp_.Clear();
  request_active_ = true;
  ls_->stats.requests.inc();
  ls_->stats.active_requests.add(1);
  Arm(Phase::kHeaders, cfg.timeouts.request_headers);

  req_parser_.emplace(req_, limits_);
  for (;;) {
    error_code ec;
    const size_t used = req_parser_->put(asio::buffer(rbuf_.data(), rbuf_.size()), ec);
    rbuf_.Consume(used);
    info_.downstream_wire_bytes_received += used;
    info_.downstream_header_bytes_received += used;
    if (ec == bhttp::error::need_more) ec = {};
    if (ec) {
      const auto failure = http::ClassifyRequestError(req_, ec);
      ls_->stats.protocol_errors.inc();
      info_.protocol = req_.version == 10 ? format::Protocol::kHttp10 : format::Protocol::kHttp11;
      const std::string_view body = failure.status == 400 ? kBodyBadRequest : http::ReasonPhrase(failure.status);
      PrepareReply(failure.status, body, failure.details, ResponseFlag::DPE, true);
      co_await SendLocalReply();
      co_return false;
    }
    if (req_parser_->is_header_done()) break;
    const auto r3 = co_await ReadDs();
    if (r3 == 0) {
      if (TimedOut(Phase::kHeaders)) {
        ls_->stats.request_timeouts.inc();
        PrepareReply(408, kBodyRequestTimeout, "request_header_timeout", std::nullopt, true);
        co_await SendLocalReply();
      } else {
        ls_->stats.downstream_resets.inc();
        info_.response_flags.set(ResponseFlag::DC);
        info_.response_code_details = "downstream_remote_disconnect";
        FinishRecord();
      }
      co_return false;
    }
  }

  // ---- request head parsed ----
  if (req_parser_->is_done()) Mark(TimePoint::kDsRxEnd);
  info_.protocol = req_.version == 10 ? format::Protocol::kHttp10 : format::Protocol::kHttp11;
  BuildRequestHeaders();
  bool keep_alive = req_.version == 11 ? !req_.connection_close : req_.connection_keep_alive && !req_.connection_close;
  const bool chunked_in = req_parser_->chunked();
  const bool has_body = !req_parser_->is_done();
  const bool upgrade = req_.connection_upgrade && req_.Get(bhttp::field::upgrade).has_value();

  // ---- upstream connection: pool first, then connect ----
  Arm(Phase::kConnect, std::chrono::milliseconds(0));
  us_.reset();
  const EndpointRuntime* first = rt_->Pick({});
  if (first != nullptr && !upgrade) us_ = worker_.TakeIdle(first->key, cfg.timeouts.upstream_idle);
  uint32_t attempts = 1;
  bool pooled = false;
  if (us_) {
    us_endpoint_ = first;
    pooled = true;
    ls_->stats.upstream_pool_reuses.inc();
  } else {
    auto result = co_await ConnectUpstream(worker_, *rt_, cfg.limits.max_connect_attempts, start_);
    attempts = result.attempts;
    info_.upstream_request_attempt_count = attempts;
    if (!result.conn) {
      if (result.endpoint) {
        info_.upstream_host = result.endpoint->address;
        info_.upstream_host_name = result.endpoint->host_name;
      }
      const bool close = has_body || !keep_alive;
      if (result.no_endpoint) {
        ls_->stats.no_healthy_upstream.inc();
        PrepareReply(503, kBodyNoHealthyUpstream, "no_healthy_upstream", ResponseFlag::UH, close);
        co_await SendLocalReply();
      } else {
        ls_->stats.upstream_connect_failures.inc();
        if (attempts > 1) info_.response_flags.set(ResponseFlag::UF);
        PrepareReply(503, kBodyConnectFailure, "upstream_reset_before_response_started{connection_failure}",
                            attempts > 1 ? std::optional(ResponseFlag::URX) : std::optional(ResponseFlag::UF), close);
        co_await SendLocalReply();
      }
      co_return !close;
    }
    us_ = std::move(result.conn);
    us_endpoint_ = result.endpoint;
    info_.timing(TimePoint::kUsCxBeg) = result.connect_begin;
    info_.timing(TimePoint::kUsCxEnd) = result.connect_end;
    ls_->stats.upstream_connections.inc();
  }
  info_.upstream_request_attempt_count = attempts;
  info_.upstream_host = us_endpoint_->address;
  info_.upstream_host_name = us_endpoint_->host_name;
  info_.upstream_remote = us_->remote;
  info_.upstream_local = us_->local;
  info_.upstream_connection_id = us_->id;
  info_.upstream_protocol = format::Protocol::kHttp11;

  // ---- request head + body upstream ----
  if (req_.expect_continue && has_body && req_.version == 11) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    error_code ec;
    co_await asio::async_write(ds_, asio::buffer(kContinue.data(), kContinue.size()), redirect_error(use_awaitable, ec));
    if (!ec) info_.downstream_wire_bytes_sent += kContinue.size();
  }
  SerializeRequestHead(chunked_in);
  // A pooled connection may have been closed by the upstream just as we reused it; a request
  // without body can then be sent again once on a fresh connection (never after response bytes).
  const bool may_retry = pooled && !has_body;
  if (may_retry) retry_head_.assign(us_out_);
  req_.body_out = &us_out_;
  req_.out_framing = chunked_in ? http::Framing::kChunked : http::Framing::kRaw;
  req_parser_->eager(true);
  Arm(Phase::kBody, cfg.timeouts.request.count() > 0 ? cfg.timeouts.request : cfg.timeouts.idle);
  for (;;) {
    if (!req_parser_->is_done() && http::CanPut(*req_parser_, rbuf_.size())) {
      error_code ec;
      const size_t used = req_parser_->put(asio::buffer(rbuf_.data(), rbuf_.size()), ec);
      rbuf_.Consume(used);
      info_.downstream_wire_bytes_received += used;
      if (req_parser_->is_done()) MarkOnce(TimePoint::kDsRxEnd);
      if (ec == bhttp::error::need_more) ec = {};
      if (ec) {
        // Bad chunking after the head went upstream: the upstream request is abandoned.
        ls_->stats.protocol_errors.inc();
        ReleaseUpstream(false);
        const auto failure = http::ClassifyRequestError(req_, ec);
        PrepareReply(failure.status, kBodyBadRequest, failure.details, ResponseFlag::DPE, true);
        co_await SendLocalReply();
        co_return false;
      }
    }
    if (!us_out_.empty()) {
      const auto r4 = co_await WriteUs(us_out_);
      if (!r4) {
        ls_->stats.upstream_resets.inc();
        ReleaseUpstream(false);
        PrepareReply(503, kBodyConnectionTermination,
                            "upstream_reset_before_response_started{connection_termination}", ResponseFlag::UC, true);
        co_await SendLocalReply();
        co_return false;
      }
      us_out_.clear();
    }
    if (req_parser_->is_done()) break;
    const auto r5 = co_await ReadDs();
    if (r5 == 0) {
      ReleaseUpstream(false);
      if (TimedOut(Phase::kBody)) {
        ls_->stats.request_timeouts.inc();
        PrepareReply(408, kBodyRequestTimeout, "request_overall_timeout", std::nullopt, true);
        co_await SendLocalReply();
      } else {
        ls_->stats.downstream_resets.inc();
        info_.response_flags.set(ResponseFlag::DC);
        info_.response_code_details = "downstream_remote_disconnect";
        FinishRecord();
      }
      co_return false;
    }
  }
  MarkOnce(TimePoint::kDsRxEnd);
  const auto sent_at = Clock::now();

  // ---- response head ----
  bool retried = false;
  Arm(Phase::kResponse, cfg.timeouts.response);
  WatchDownstreamClose();
  for (;;) {
    resp_.Clear();
    resp_parser_.emplace(resp_, limits_);
    if (req_.verb == bhttp::verb::head) resp_parser_->skip(true);
    bool got_head = false;
    for (;;) {
      error_code ec;
      if (!us_->rbuf.empty()) {
        const size_t used = resp_parser_->put(asio::buffer(us_->rbuf.data(), us_->rbuf.size()), ec);
        us_->rbuf.Consume(used);
        info_.upstream_wire_bytes_received += used;
        info_.upstream_header_bytes_received += used;
        if (ec == bhttp::error::need_more) ec = {};
        if (ec) {
          ls_->stats.upstream_resets.inc();
          ReleaseUpstream(false);
          PrepareReply(502, kBodyProtocolError, "upstream_reset_before_response_started{protocol_error}",
                              ResponseFlag::UPE, !keep_alive);
          co_await SendLocalReply();
          co_return keep_alive;
        }
        if (resp_parser_->is_header_done()) {
          got_head = true;
          break;
        }
      }
      const auto r6 = co_await ReadUs();
      if (r6 == 0 && may_retry && !retried && !ds_closed_early_ && !TimedOut(Phase::kResponse) &&
          info_.upstream_wire_bytes_received == 0 && us_->rbuf.empty()) {
        retried = true;
        ReleaseUpstream(false);
        ls_->stats.upstream_pool_retries.inc();
        auto again = co_await ConnectUpstream(worker_, *rt_, cfg.limits.max_connect_attempts, start_);
        if (again.conn) {
          us_ = std::move(again.conn);
          us_endpoint_ = again.endpoint;
          ls_->stats.upstream_connections.inc();
          info_.upstream_request_attempt_count += again.attempts;
          info_.upstream_host = us_endpoint_->address;
          info_.upstream_remote = us_->remote;
          info_.upstream_local = us_->local;
          info_.upstream_connection_id = us_->id;
          info_.timing(TimePoint::kUsCxBeg) = again.connect_begin;
          info_.timing(TimePoint::kUsCxEnd) = again.connect_end;
          const auto resent = co_await WriteUs(retry_head_);
          if (resent) {
            if (!ds_watch_active_) WatchDownstreamClose();
            continue;
          }
        }
      }
      if (r6 == 0) {
        ReleaseUpstream(false);
        if (ds_closed_early_) {
          // The client went away while we waited for the response: nothing is sent (code 0).
          ls_->stats.downstream_resets.inc();
          info_.response_flags.set(ResponseFlag::DC);
          info_.response_code_details = "downstream_remote_disconnect";
          FinishRecord();
          co_return false;
        }
        if (TimedOut(Phase::kResponse)) {
          ls_->stats.upstream_timeouts.inc();
          PrepareReply(504, kBodyUpstreamTimeout, "upstream_response_timeout", ResponseFlag::UT, !keep_alive);
          co_await SendLocalReply();
          co_return keep_alive && ds_.is_open();
        }
        ls_->stats.upstream_resets.inc();
        PrepareReply(503, kBodyConnectionTermination,
                            "upstream_reset_before_response_started{connection_termination}", ResponseFlag::UC,
                            !keep_alive);
        co_await SendLocalReply();
        co_return keep_alive;
      }
    }
    if (got_head && resp_.status >= 100 && resp_.status < 200 && resp_.status != 101) continue;  // interim
    break;
  }
  StopWatchingDownstream();
  {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sent_at).count();
    service_time_ = std::to_string(ms);
  }
  info_.response_code = resp_.status;
  info_.response_code_details = "via_upstream";

  // ---- upgrade: tunnel and log once with 101 ----
  if (resp_.status == 101 && upgrade) {
    ls_->stats.upgrades.inc();
    BuildResponseHeaders(false, false);
    const auto r7 = co_await WriteDs(ds_out_);
    if (!r7) {
      info_.response_flags.set(ResponseFlag::DC);
      ReleaseUpstream(false);
      FinishRecord();
      co_return false;
    }
    co_await Tunnel();
    co_return false;
  }

  // ---- response body ----
  const bool upstream_keep = resp_.version == 11 ? !resp_.connection_close : resp_.connection_keep_alive;
  const bool body_to_eof = resp_parser_->need_eof() && !resp_parser_->is_done();
  const bool chunked_resp = resp_parser_->chunked();
  bool chunked_out = false;
  http::Framing framing = http::Framing::kRaw;
  if (chunked_resp || body_to_eof) {
    if (req_.version == 11) {
      chunked_out = true;
      framing = http::Framing::kChunked;
    } else {
      keep_alive = false;  // an HTTP/1.0 client learns the end of the body from the close
    }
  }
  if (drain_) keep_alive = false;
  BuildResponseHeaders(!keep_alive, chunked_out);
  resp_.body_out = &ds_out_;
  resp_.out_framing = framing;
  resp_parser_->eager(true);
  bool upstream_ok = true;
  for (;;) {
    if (!resp_parser_->is_done() && http::CanPut(*resp_parser_, us_->rbuf.size())) {
      error_code ec;
      const size_t used = resp_parser_->put(asio::buffer(us_->rbuf.data(), us_->rbuf.size()), ec);
      us_->rbuf.Consume(used);
      info_.upstream_wire_bytes_received += used;
      if (ec == bhttp::error::need_more) ec = {};
      if (ec) {
        info_.response_flags.set(ResponseFlag::UPE);
        info_.response_code_details = "upstream_reset_after_response_started{protocol_error}";
        upstream_ok = false;
      }
      if (resp_.body_bytes > 0) MarkOnce(TimePoint::kUsRxBodyBeg);
    }
    if (!ds_out_.empty()) {
      const auto r8 = co_await WriteDs(ds_out_);
      if (!r8) {
        ls_->stats.downstream_resets.inc();
        info_.response_flags.set(ResponseFlag::DC);
        info_.response_code_details = "downstream_remote_disconnect";
        info_.bytes_sent = resp_.body_bytes;
        ReleaseUpstream(false);
        FinishRecord();
        co_return false;
      }
      ds_out_.clear();
    }
    if (!upstream_ok) break;
    if (resp_parser_->is_done()) break;
    const auto r9 = co_await ReadUs();
    if (r9 == 0) {
      if (resp_parser_->need_eof() && !TimedOut(Phase::kResponse)) {
        error_code ec;
        resp_parser_->put_eof(ec);
        if (!ec && resp_parser_->is_done()) {
          upstream_ok = false;  // the upstream connection is closed: not reusable
          bool written = true;
          if (!ds_out_.empty()) written = co_await WriteDs(ds_out_);
          if (!written) {
            info_.response_flags.set(ResponseFlag::DC);
            keep_alive = false;
          }
          ds_out_.clear();
          Mark(TimePoint::kUsRxEnd);
          info_.bytes_sent = resp_.body_bytes;
          ReleaseUpstream(false);
          FinishRecord();
          co_return keep_alive;
        }
      }
      if (TimedOut(Phase::kResponse)) {
        ls_->stats.upstream_timeouts.inc();
        info_.response_flags.set(ResponseFlag::UT);
        info_.response_code_details = "upstream_response_timeout";
      } else {
        ls_->stats.upstream_resets.inc();
        info_.response_flags.set(ResponseFlag::UC);
        info_.response_code_details = "upstream_reset_after_response_started{connection_termination}";
      }
      upstream_ok = false;
      break;
    }
  }
  info_.bytes_sent = resp_.body_bytes;
  if (!upstream_ok) {
    // The response could not be completed: the downstream connection cannot carry another one.
    ReleaseUpstream(false);
    FinishRecord();
    co_return false;
  }
  Mark(TimePoint::kUsRxEnd);
  if (!resp_.trailers.empty()) {
    for (const auto& t : resp_.trailers) trailer_map_.add(resp_.TrailerView(t.name), resp_.TrailerView(t.value));
    info_.response_trailers = &trailer_map_;
  }
  ReleaseUpstream(upstream_keep);
  FinishRecord();
  co_return keep_alive;
}

asio::awaitable<void> HttpSession::Tunnel() {
  // Bytes already read past the heads belong to the tunnel.
  const auto& cfg = rt_->config;
  if (!rbuf_.empty()) {
    const std::string_view pending(rbuf_.data(), rbuf_.size());
    const auto r11 = co_await WriteUs(pending);
    if (r11) req_.body_bytes += pending.size();  // FinishRecord reports body_bytes
    rbuf_.Clear();
  }
  if (!us_->rbuf.empty()) {
    const std::string_view pending(us_->rbuf.data(), us_->rbuf.size());
    const auto r12 = co_await WriteDs(pending);
    if (r12) info_.bytes_sent += pending.size();
    us_->rbuf.Clear();
  }
  Arm(Phase::kTunnel, std::chrono::milliseconds(0));
  auto state = std::make_shared<TunnelState>(worker_.io());
  state->counters.last_activity = Clock::now();
  asio::co_spawn(worker_.io(), TunnelIdleWatch(shared_from_this(), state, cfg.timeouts.idle), asio::detached);
  co_await RunTunnel(ds_, us_->socket, state->counters);
  state->done = true;
  state->timer.cancel();
  const TunnelCounters& counters = state->counters;
  req_.body_bytes += counters.a_to_b;  // FinishRecord reports it as BYTES_RECEIVED
  info_.bytes_sent += counters.b_to_a;
  info_.downstream_wire_bytes_received += counters.a_to_b;
  info_.downstream_wire_bytes_sent += counters.b_to_a;
  info_.upstream_wire_bytes_sent += counters.a_to_b;
  info_.upstream_wire_bytes_received += counters.b_to_a;
  if (counters.b_to_a > 0) Mark(TimePoint::kDsTxEnd);
  if (counters.a_reset) info_.response_flags.set(ResponseFlag::DC);
  if (counters.b_reset) info_.response_flags.set(ResponseFlag::UC);
  ReleaseUpstream(false);
  FinishRecord();
}

asio::awaitable<void> TunnelIdleWatch(std::shared_ptr<HttpSession> self, std::shared_ptr<TunnelState> state,
                                      std::chrono::milliseconds idle) {
  while (!state->done) {
    state->timer.expires_at(state->counters.last_activity + idle);
    error_code ec;
    co_await state->timer.async_wait(redirect_error(use_awaitable, ec));
    if (state->done) co_return;
    if (Clock::now() - state->counters.last_activity >= idle) {
      self->Abort();
      co_return;
    }
  }
}

}  // namespace

void StartHttpSession(Worker& worker, std::shared_ptr<ListenerState> listener, tcp::socket socket) {
  auto session = std::make_shared<HttpSession>(worker, std::move(listener), std::move(socket));
  asio::co_spawn(worker.io(), [session]() -> asio::awaitable<void> { co_await session->Run(); }, asio::detached);
}

}  // namespace meshlog::proxy
