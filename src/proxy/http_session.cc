// HTTP/1.1 proxying: one HttpSession per downstream connection, one coroutine handling requests
// in sequence (pipelined requests wait in the read buffer), a watchdog coroutine enforcing the
// timeouts by cancelling socket operations. A request goes through phases (HandleOne): wait for
// its first byte, read the head, take a pooled upstream connection or connect, send head and
// body, read the response head, then forward the body or tunnel an upgrade; each phase that can
// end the request answers locally and writes the record itself.
#include <array>
#include <cstdio>
#include <random>

#include <sys/socket.h>

#include "proxy/http_parser.h"
#include "proxy/internal.h"

namespace meshlog::proxy {

// Everything one request needs, kept apart from the connection so an idle keep-alive connection
// holds none of it (states are pooled per worker: no allocation per request in steady state).
struct HttpRequestState {
  format::StreamInfo info;
  http::Message req;
  http::Message resp;
  http::ParserLimits limits;
  std::optional<http::RequestParser> req_parser;
  std::optional<http::ResponseParser> resp_parser;
  format::HeaderMap req_map;
  format::HeaderMap resp_map;
  format::HeaderMap trailer_map;
  std::string request_id;
  std::string service_time;
  std::string status_text;
  std::string content_length_text;
  std::string retry_head;
  bool add_forwarded_proto = false;  // the request had no x-forwarded-proto: the proxy adds one
};

void HttpRequestStateDeleter::operator()(HttpRequestState* state) const { delete state; }

namespace {

namespace bhttp = boost::beast::http;
using asio::redirect_error;
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
  Timer timer;
  TunnelCounters counters;
  bool done = false;
};

class HttpSession;
Awaitable<void> TunnelIdleWatch(std::shared_ptr<HttpSession> self, std::shared_ptr<TunnelState> state,
                                std::chrono::milliseconds idle);

class HttpSession final : public SessionBase, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(Worker& worker, std::shared_ptr<ListenerState> ls, Socket socket)
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

  Awaitable<void> Run();

  void OnDrain() override {
    drain_ = true;
    if (phase_ == Phase::kIdle && rbuf_.empty()) CloseDownstream();
  }
  void OnPeerClosed() override {
    ds_peer_closed_ = true;
    if (streaming_body_) {
      // Whatever ForwardResponseBody waits for (more of the body from the upstream, or room to
      // write to the client) ends now, and it sees ClientGone().
      error_code ignored;
      if (us_) us_->socket.close(ignored);
      ds_.cancel(ignored);
      return;
    }
    if (!ds_watch_active_) return;  // idle: the next read sees it
    ds_watch_active_ = false;
    ClientLeftDuringUpstreamWait();
  }
  void OnSweep(Clock::time_point now) override {
    if (idle_reading_ && !park_requested_ && now - idle_since_ >= kIdleParkAfter) {
      park_requested_ = true;
      error_code ignored;
      ds_.cancel(ignored);  // the idle read ends with operation_aborted; HandleOne parks
    }
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

  Awaitable<void> Watchdog(std::shared_ptr<HttpSession> self);
  void Arm(Phase phase, std::chrono::milliseconds d);
  void OnTimeout();
  // How a phase of a request ends: go on to the next phase, or end the request keeping (kKeep) or
  // closing (kClose) the client connection.
  enum class Step : uint8_t { kNext, kKeep, kClose };
  // What the phases of one request share (reset by PlanRequest).
  struct Flow {
    bool keep_alive = false;  // the client connection may carry another request
    bool chunked_in = false;  // the request body is chunked
    bool has_body = false;
    bool upgrade = false;     // Connection: upgrade with an Upgrade field
    bool pooled = false;      // the upstream connection came from the pool
    bool may_retry = false;   // pooled and bodiless: may be sent once more on a fresh connection
    Clock::time_point sent_at{};  // the request was fully sent upstream
  };

  Awaitable<bool> HandleOne();
  void BeginRequest();
  enum class HeadParse : uint8_t { kDone, kNeedMore, kBad };
  HeadParse ParseBufferedHead();
  Awaitable<Step> ReadRequestHead(HeadParse first);
  void PlanRequest();
  bool TakePooledUpstream();
  Awaitable<Step> ConnectForRequest();
  void NoteUpstream(uint32_t attempts);
  Awaitable<Step> SendRequest();
  Awaitable<Step> ReadResponseHead();
  Awaitable<void> UpgradeToTunnel();
  Awaitable<bool> ForwardResponseBody();
  Awaitable<size_t> ReadDs();
  Awaitable<size_t> ReadUs();
  Awaitable<bool> WriteDs(std::string_view data);
  Awaitable<bool> WriteUs(std::string_view data);
  // Local replies: PrepareReply() stores the reply (plain function: no coroutine parameters to
  // copy), SendLocalReply() writes it and the record.
  void PrepareReply(unsigned code, std::string_view body, std::string_view details, std::optional<ResponseFlag> flag,
                    bool close);
  Awaitable<void> SendLocalReply();
  Awaitable<void> Tunnel();
  Awaitable<void> LingeringClose();
  void BuildRequestHeaders();
  void SerializeRequestHead(bool chunked);
  void BuildResponseHeaders(bool close, bool chunked_out);
  void Mark(TimePoint p) { rq_->info.timing(p) = Clock::now() - start_; }
  void MarkOnce(TimePoint p) {
    if (!rq_->info.timing(p)) Mark(p);
  }
  void FinishRecord();
  void ReleaseUpstream(bool reusable);
  // While waiting for the response head, notice a client that closed its connection (Envoy logs
  // such requests with DC and code 0): the upstream request is abandoned at once.
  void WatchDownstreamClose();
  // Waits until the completion handler of the close watch has run (after StopWatchingDownstream
  // cancelled it): the watch may hold the first byte of a pipelined request, which must be in
  // rbuf_ before anything else reads the downstream socket.
  Awaitable<void> SettleWatch();
  void ReleaseBuffers();
  void AcquireBuffers();
  void AcquireRequestState();
  void StopWatchingDownstream();
  // The client closed or reset while the request waits for the response head: the upstream
  // request is abandoned (its pending read wakes up) and the request is logged DC with code 0.
  void ClientLeftDuringUpstreamWait() {
    ds_closed_early_ = true;
    if (us_) {
      error_code ignored;
      us_->socket.close(ignored);
    }
  }
  void CloseDownstream() {
    error_code ignored;
    ds_.close(ignored);
  }
  bool TimedOut(Phase p) const { return timed_out_ && timeout_phase_ == p; }
  // While the response body streams: the worker's peer-close watch saw the client shut down or
  // reset. Envoy keeps no half-closed HTTP connection, so the response is cut off there.
  bool ClientGone() const { return ds_peer_closed_; }
  // Ends a response whose client has gone (a failed write, or ClientGone()): logged DC with the
  // status already sent; neither connection is reused. Returns false (the connection closes).
  bool EndResponseForGoneClient();

  Worker& worker_;
  std::shared_ptr<ListenerState> ls_;
  std::shared_ptr<const ListenerRuntime> rt_;
  Socket ds_;
  Timer timer_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Phase phase_ = Phase::kIdle;
  bool closed_ = false;
  bool drain_ = false;
  bool aborted_ = false;
  bool timed_out_ = false;
  Phase timeout_phase_ = Phase::kIdle;
  bool ds_eof_ = false;
  bool ds_watch_active_ = false;
  bool ds_watch_inflight_ = false;  // the watch's handler has not run yet
  bool ds_closed_early_ = false;
  char ds_watch_byte_ = 0;
  bool peer_close_watched_ = false;  // the worker's peer-close watch has this connection
  bool ds_peer_closed_ = false;      // ... and reported that the client shut down or reset
  bool streaming_body_ = false;      // ForwardResponseBody is running
  // Idle keep-alive read (see kIdleParkAfter).
  bool idle_reading_ = false;
  bool park_requested_ = false;
  Clock::time_point idle_since_{};

  // Per connection.
  uint64_t connection_id_ = 0;
  format::Address ds_local_;
  format::Address ds_remote_;
  ReadBuffer rbuf_;
  std::unique_ptr<UpstreamConn> us_;
  const EndpointRuntime* us_endpoint_ = nullptr;

  // Per request (capacity reused).
  Clock::time_point start_;
  HttpRequestStatePtr rq_;  // per request; pooled while idle
  std::string us_out_;
  std::string ds_out_;
  bool request_active_ = false;
  Flow flow_;
  http::ParseFailure parse_failure_;
};

void HttpSession::Arm(Phase phase, std::chrono::milliseconds d) {
  phase_ = phase;
  deadline_ = d.count() > 0 ? Clock::now() + d : Clock::time_point::max();
  if (deadline_ < timer_.expiry()) timer_.cancel();
}

Awaitable<void> HttpSession::Watchdog(std::shared_ptr<HttpSession> self) {
  (void)self;  // keeps the session alive while the watchdog runs
  while (!closed_) {
    if (deadline_ <= Clock::now()) {
      deadline_ = Clock::time_point::max();
      OnTimeout();
      continue;
    }
    timer_.expires_at(deadline_);
    error_code ec;
    co_await timer_.async_wait(redirect_error(kUseAwaitable, ec));
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

Awaitable<size_t> HttpSession::ReadDs() {
  error_code ec;
  const size_t n = co_await ds_.async_read_some(rbuf_.Prepare(kReadChunk), redirect_error(kUseAwaitable, ec));
  if (ec) {
    ds_eof_ = true;
    co_return 0;
  }
  rbuf_.Commit(n);
  ls_->stats.downstream_bytes_received.inc(n);
  co_return n;
}

Awaitable<size_t> HttpSession::ReadUs() {
  error_code ec;
  const size_t n =
      co_await us_->socket.async_read_some(us_->rbuf.Prepare(kReadChunk), redirect_error(kUseAwaitable, ec));
  if (ec) co_return 0;
  MarkOnce(TimePoint::kUsRxBeg);
  us_->rbuf.Commit(n);
  co_return n;
}

Awaitable<bool> HttpSession::WriteDs(std::string_view data) {
  if (data.empty()) co_return true;
  MarkOnce(TimePoint::kDsTxBeg);
  error_code ec;
  co_await asio::async_write(ds_, asio::buffer(data.data(), data.size()), redirect_error(kUseAwaitable, ec));
  if (ec) co_return false;
  Mark(TimePoint::kDsTxEnd);
  rq_->info.downstream_wire_bytes_sent += data.size();
  ls_->stats.downstream_bytes_sent.inc(data.size());
  co_return true;
}

Awaitable<bool> HttpSession::WriteUs(std::string_view data) {
  if (data.empty()) co_return true;
  MarkOnce(TimePoint::kUsTxBeg);
  error_code ec;
  co_await asio::async_write(us_->socket, asio::buffer(data.data(), data.size()), redirect_error(kUseAwaitable, ec));
  if (ec) co_return false;
  Mark(TimePoint::kUsTxEnd);
  rq_->info.upstream_wire_bytes_sent += data.size();
  co_return true;
}

// The request headers as Envoy's connection manager leaves them (what %REQ(...)% sees): Host as
// :authority, :scheme, x-forwarded-proto added when absent ("http": this listener is plaintext),
// x-request-id generated when absent.
void HttpSession::BuildRequestHeaders() {
  rq_->req_map.clear();
  rq_->req_map.add(":method", rq_->req.Method());
  rq_->req_map.add(":path", rq_->req.Path());
  if (auto authority = rq_->req.Authority()) rq_->req_map.add(":authority", *authority);
  std::optional<std::string_view> forwarded_proto;
  bool has_request_id = false;
  for (const auto& f : rq_->req.fields) {
    if (f.f == bhttp::field::host) continue;  // HTTP/1 Host becomes :authority (as in Envoy)
    const auto name = rq_->req.View(f.name);
    if (f.f == bhttp::field::unknown) {
      if (http::IEquals(name, "x-request-id")) {
        has_request_id = true;
        rq_->info.stream_id = rq_->req.View(f.value);
      } else if (!forwarded_proto && http::IEquals(name, "x-forwarded-proto")) {
        forwarded_proto = rq_->req.View(f.value);
      }
    }
    rq_->req_map.add(name, rq_->req.View(f.value));
  }
  // :scheme: an absolute-form target's scheme; else x-forwarded-proto when it names a valid scheme
  // (Envoy's getScheme); else the connection's, http.
  std::string_view scheme = "http";
  if (rq_->req.absolute_form) {
    scheme = rq_->req.View(rq_->req.abs_scheme);
  } else if (forwarded_proto && (*forwarded_proto == "http" || *forwarded_proto == "https")) {
    scheme = *forwarded_proto;
  }
  rq_->req_map.add(":scheme", scheme);
  rq_->add_forwarded_proto = !forwarded_proto.has_value();
  if (rq_->add_forwarded_proto) rq_->req_map.add("x-forwarded-proto", "http");
  if (!has_request_id) {
    MakeRequestId(rq_->request_id);
    rq_->req_map.add("x-request-id", rq_->request_id);
    rq_->info.stream_id = rq_->request_id;
  }
}

void HttpSession::SerializeRequestHead(bool chunked) {
  us_out_.clear();
  us_out_.append(rq_->req.Method());
  us_out_.push_back(' ');
  us_out_.append(rq_->req.Path());
  us_out_.append(" HTTP/1.1\r\n");
  if (rq_->req.absolute_form) {
    // RFC 9112 3.2.2: a proxy replaces Host with the absolute-form target's authority.
    us_out_.append("host: ");
    us_out_.append(rq_->req.View(rq_->req.abs_authority));
    us_out_.append("\r\n");
  }
  const bool upgrade = rq_->req.connection_upgrade && rq_->req.Get(bhttp::field::upgrade).has_value();
  for (const auto& f : rq_->req.fields) {
    const auto name = rq_->req.View(f.name);
    if (f.f == bhttp::field::host && rq_->req.absolute_form) {
      continue;  // replaced above
    } else if (f.f == bhttp::field::upgrade && upgrade) {
      // kept: the WebSocket handshake is forwarded as is
    } else if (http::IsHopByHop(f.f, name) || f.f == bhttp::field::expect || rq_->req.NamedByConnection(name)) {
      continue;  // Expect: 100-continue is answered by the proxy (as Envoy does)
    }
    us_out_.append(name);
    us_out_.append(": ");
    us_out_.append(rq_->req.View(f.value));
    us_out_.append("\r\n");
  }
  if (rq_->add_forwarded_proto) us_out_.append("x-forwarded-proto: http\r\n");
  if (rq_->request_id.size() && rq_->info.stream_id.data() == rq_->request_id.data()) {
    us_out_.append("x-request-id: ");
    us_out_.append(rq_->request_id);
    us_out_.append("\r\n");
  }
  if (chunked) us_out_.append("transfer-encoding: chunked\r\n");
  if (upgrade) us_out_.append("connection: upgrade\r\n");
  us_out_.append("\r\n");
  rq_->info.upstream_header_bytes_sent = us_out_.size();
}

void HttpSession::BuildResponseHeaders(bool close, bool chunked_out) {
  rq_->resp_map.clear();
  rq_->status_text = std::to_string(rq_->resp.status);
  rq_->resp_map.add(":status", rq_->status_text);
  ds_out_.clear();
  ds_out_.append("HTTP/1.1 ");
  ds_out_.append(rq_->status_text);
  ds_out_.push_back(' ');
  ds_out_.append(rq_->resp.Reason().empty() ? http::ReasonPhrase(rq_->resp.status) : rq_->resp.Reason());
  ds_out_.append("\r\n");
  const bool upgrade = rq_->resp.status == 101;
  for (const auto& f : rq_->resp.fields) {
    const auto name = rq_->resp.View(f.name);
    const auto value = rq_->resp.View(f.value);
    if (upgrade && (f.f == bhttp::field::upgrade || f.f == bhttp::field::connection)) {
      // forwarded for the WebSocket handshake
    } else if (http::IsHopByHop(f.f, name) || rq_->resp.NamedByConnection(name)) {
      continue;
    }
    if (f.f == bhttp::field::unknown && http::IEquals(name, "x-envoy-upstream-service-time")) continue;
    rq_->resp_map.add(name, value);
    ds_out_.append(name);
    ds_out_.append(": ");
    ds_out_.append(value);
    ds_out_.append("\r\n");
  }
  if (!upgrade) {
    rq_->resp_map.add("x-envoy-upstream-service-time", rq_->service_time);
    ds_out_.append("x-envoy-upstream-service-time: ");
    ds_out_.append(rq_->service_time);
    ds_out_.append("\r\n");
  }
  if (chunked_out) ds_out_.append("transfer-encoding: chunked\r\n");
  if (close && !upgrade) ds_out_.append("connection: close\r\n");
  else if (!close && rq_->req.version == 10) ds_out_.append("connection: keep-alive\r\n");
  ds_out_.append("\r\n");
  rq_->info.downstream_header_bytes_sent = ds_out_.size();
  rq_->info.response_headers = &rq_->resp_map;
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
  if (peer_close_watched_) {
    // No I/O: the worker's peer-close watch calls OnPeerClosed (see Worker::WatchPeerClose). As in
    // Envoy, a client that has shut down its side is gone even when pipelined requests are still
    // buffered: this request is logged DC and the buffered ones are never served.
    if (ds_peer_closed_) {
      ClientLeftDuringUpstreamWait();
    } else {
      ds_watch_active_ = true;
    }
    return;
  }
  if (!rbuf_.empty()) return;  // a pipelined request is waiting: the client is still there
  if (ds_watch_inflight_) return;  // the last watch's handler (and maybe a byte) is still pending
  ds_watch_active_ = true;
  ds_watch_inflight_ = true;
  // Fallback when the worker's peer-close watch is unavailable: a one-byte read rather than a
  // readiness wait (Asio re-registers the descriptor with epoll for every wait; a read first tries
  // a recv, which fails with EAGAIN, then is queued).
  ds_.async_read_some(asio::buffer(&ds_watch_byte_, 1), [self = shared_from_this()](const error_code& ec, size_t n) {
    self->ds_watch_inflight_ = false;
    if (n == 1) {
      // A pipelined request started: keep its first byte; it is parsed after this response.
      auto b = self->rbuf_.Prepare(1);
      *static_cast<char*>(b.data()) = self->ds_watch_byte_;
      self->rbuf_.Commit(1);
      self->ls_->stats.downstream_bytes_received.inc(1);
    }
    if (!self->ds_watch_active_) return;  // stopped: the response head arrived first
    self->ds_watch_active_ = false;
    if (n == 0 && ec && ec != asio::error::operation_aborted) {
      self->ClientLeftDuringUpstreamWait();  // EOF or reset: the client is gone
    }
  });
}

Awaitable<void> HttpSession::SettleWatch() {
  while (ds_watch_inflight_) co_await asio::post(worker_.io(), kUseAwaitable);
}

void HttpSession::AcquireRequestState() {
  if (rq_) return;
  auto& pool = worker_.request_states();
  if (!pool.empty()) {
    rq_ = std::move(pool.back());
    pool.pop_back();
  } else {
    rq_.reset(new HttpRequestState());
  }
}

void HttpSession::ReleaseBuffers() {
  if (rq_ && !request_active_) {
    auto& pool = worker_.request_states();
    if (pool.size() < kMaxPooledBuffers) {
      pool.push_back(std::move(rq_));
    } else {
      worker_.NoteFreed();
    }
    rq_.reset();
  }
  if (rbuf_.ReleaseTo(worker_.read_buffers(), kMaxPooledBuffers)) worker_.NoteFreed();
  auto& pool = worker_.string_buffers();
  for (std::string* s : {&us_out_, &ds_out_}) {
    if (s->capacity() <= 1024) continue;
    if (pool.size() < 2 * kMaxPooledBuffers) {
      s->clear();
      pool.push_back(std::move(*s));
    } else {
      worker_.NoteFreed();
    }
    *s = std::string();
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
  if (peer_close_watched_) return;  // nothing pending on the socket
  error_code ignored;
  ds_.cancel(ignored);
}

void HttpSession::FinishRecord() {
  if (!request_active_) return;
  request_active_ = false;
  StopWatchingDownstream();  // local replies and resets end the request without a response head
  if (!rq_->info.duration) rq_->info.duration = Clock::now() - start_;
  rq_->info.bytes_received = rq_->req.body_bytes;
  if (rq_->info.response_code) {
    const unsigned c = *rq_->info.response_code;
    auto& s = ls_->stats;
    (c < 200 ? s.responses_1xx : c < 300 ? s.responses_2xx : c < 400 ? s.responses_3xx : c < 500 ? s.responses_4xx
                                                                                                   : s.responses_5xx)
        .inc();
  }
  ls_->stats.active_requests.sub(1);
  LogRecord(*rt_, ls_->stats, rq_->info);
}

void HttpSession::PrepareReply(unsigned code, std::string_view body, std::string_view details,
                               std::optional<ResponseFlag> flag, bool close) {
  ls_->stats.local_replies.inc();
  if (flag) rq_->info.response_flags.set(*flag);
  rq_->info.response_code = code;
  rq_->info.response_code_details = details;
  rq_->info.local_reply_body = body;
  rq_->status_text = std::to_string(code);
  rq_->content_length_text = std::to_string(body.size());
  rq_->resp_map.clear();
  rq_->resp_map.add(":status", rq_->status_text);
  rq_->resp_map.add("content-length", rq_->content_length_text);
  rq_->resp_map.add("content-type", "text/plain");
  rq_->info.response_headers = &rq_->resp_map;
  ds_out_.clear();
  ds_out_.append("HTTP/1.1 ");
  ds_out_.append(rq_->status_text);
  ds_out_.push_back(' ');
  ds_out_.append(http::ReasonPhrase(code));
  ds_out_.append("\r\ncontent-length: ");
  ds_out_.append(rq_->content_length_text);
  ds_out_.append("\r\ncontent-type: text/plain\r\n");
  if (close) ds_out_.append("connection: close\r\n");
  ds_out_.append("\r\n");
  rq_->info.downstream_header_bytes_sent = ds_out_.size();
  ds_out_.append(body);
}

Awaitable<void> HttpSession::SendLocalReply() {
  const auto r1 = co_await WriteDs(ds_out_);
  if (r1) {
    rq_->info.bytes_sent = rq_->info.local_reply_body.size();
  } else {
    rq_->info.response_flags.set(ResponseFlag::DC);
  }
  FinishRecord();
}

Awaitable<void> HttpSession::LingeringClose() {
  // Half-close, then read and discard what the client still sends (bounded in time), so the
  // kernel does not answer unread input with a RST that could destroy our response.
  error_code ec;
  ds_.shutdown(Socket::shutdown_send, ec);
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

Awaitable<void> HttpSession::Run() {
  auto self = shared_from_this();
  asio::co_spawn(worker_.io(), Watchdog(self), asio::detached);
  connection_id_ = NextConnectionId();
  error_code ec;
  auto local = ds_.local_endpoint(ec);
  if (!ec) ds_local_ = ToAddress(local);
  auto remote = ds_.remote_endpoint(ec);
  if (!ec) ds_remote_ = ToAddress(remote);
  ds_.set_option(tcp::no_delay(true), ec);
  peer_close_watched_ = worker_.WatchPeerClose(ds_.native_handle(), this);
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
  co_await SettleWatch();
  if (linger) co_await LingeringClose();
  ReleaseUpstream(false);
  closed_ = true;
  phase_ = Phase::kDone;
  timer_.cancel();
  CloseDownstream();
}

// One request/response exchange, in phases. Each phase that can end the request returns a Step;
// the state the phases share lives in flow_ (per request) and rq_. The phases that rarely wait
// (the idle read below, the pooled upstream connection) are not coroutines of their own: every
// coroutine call costs a frame and a trip through the scheduler, ~0.1 us a request each.
Awaitable<bool> HttpSession::HandleOne() {
  // ---- wait for the first byte of the next request (false: closed, idle timeout, drain; no record) ----
  timed_out_ = false;
  co_await SettleWatch();
  if (drain_ && rbuf_.empty()) co_return false;
  Arm(Phase::kIdle, ls_->runtime.load()->config.timeouts.idle);
  if (rbuf_.empty()) {
    // Between requests: a plain read with the buffer attached (saves the epoll_ctl that Asio
    // makes for every readiness wait). After kIdleParkAfter the worker's sweep cancels it and the
    // connection parks: no buffers held while waiting (10k idle connections must stay cheap);
    // they come back from the worker's pools when the next request arrives.
    AcquireBuffers();
    idle_since_ = Clock::now();
    park_requested_ = false;
    idle_reading_ = true;
    error_code ec;
    const size_t n = co_await ds_.async_read_some(rbuf_.Prepare(kIdleReadChunk), redirect_error(kUseAwaitable, ec));
    idle_reading_ = false;
    if (!ec) {
      rbuf_.Commit(n);
      ls_->stats.downstream_bytes_received.inc(n);
    } else if (ec == asio::error::operation_aborted && park_requested_ && ds_.is_open() && !drain_ && !aborted_) {
      ReleaseBuffers();
      co_await ds_.async_wait(Socket::wait_read, redirect_error(kUseAwaitable, ec));
      if (ec) co_return false;
      AcquireBuffers();
    } else {
      ds_eof_ = true;
      co_return false;  // closed, idle timeout or drain: no record
    }
  }
  while (rbuf_.empty()) {
    const auto r2 = co_await ReadDs();
    if (r2 == 0) co_return false;  // closed, idle timeout or drain: no record
  }

  BeginRequest();
  Step step = Step::kNext;
  const HeadParse head = ParseBufferedHead();
  if (head != HeadParse::kDone) {
    step = co_await ReadRequestHead(head);
    if (step != Step::kNext) co_return step == Step::kKeep;
  }
  PlanRequest();
  if (!TakePooledUpstream()) {
    step = co_await ConnectForRequest();
    if (step != Step::kNext) co_return step == Step::kKeep;
  }
  step = co_await SendRequest();
  if (step != Step::kNext) co_return step == Step::kKeep;
  step = co_await ReadResponseHead();
  if (step != Step::kNext) co_return step == Step::kKeep;
  if (rq_->resp.status == 101 && flow_.upgrade) {
    co_await UpgradeToTunnel();
    co_return false;
  }
  const bool keep = co_await ForwardResponseBody();
  co_return keep;
}

// A request starts: it uses the listener configuration current at its first byte.
void HttpSession::BeginRequest() {
  rt_ = ls_->runtime.load();
  const auto& cfg = rt_->config;
  AcquireRequestState();
  rq_->limits.max_header_bytes = cfg.limits.max_header_bytes;
  rq_->limits.max_uri_bytes = cfg.limits.max_uri_bytes;
  start_ = Clock::now();
  rq_->info = format::StreamInfo{};
  rq_->info.start_time = std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
  rq_->info.timing(TimePoint::kDsRxBeg) = std::chrono::nanoseconds(0);
  rq_->info.access_log_type = format::AccessLogType::DownstreamEnd;
  rq_->info.connection_id = connection_id_;
  rq_->info.downstream_local = ds_local_;
  rq_->info.downstream_remote = ds_remote_;
  rq_->info.downstream_direct_remote = ds_remote_;
  rq_->info.upstream_cluster = cfg.cluster_name;
  rq_->info.route_name = cfg.route_name;
  rq_->info.request_headers = &rq_->req_map;
  rq_->req_map.clear();
  rq_->resp_map.clear();
  rq_->trailer_map.clear();
  rq_->request_id.clear();
  rq_->req.Clear();
  rq_->resp.Clear();
  request_active_ = true;
  ls_->stats.requests.inc();
  ls_->stats.active_requests.add(1);
  Arm(Phase::kHeaders, cfg.timeouts.request_headers);
  rq_->req_parser.emplace(rq_->req, rq_->limits);
}

// Feeds the buffered bytes to the request parser: kDone when the head is complete, kNeedMore when
// more must be read, kBad when the head is malformed (parse_failure_ says how to answer).
HttpSession::HeadParse HttpSession::ParseBufferedHead() {
  error_code ec;
  const size_t used = rq_->req_parser->put(asio::buffer(rbuf_.data(), rbuf_.size()), ec);
  rbuf_.Consume(used);
  rq_->info.downstream_wire_bytes_received += used;
  rq_->info.downstream_header_bytes_received += used;
  if (ec == bhttp::error::need_more) ec = {};
  if (ec) {
    parse_failure_ = http::ClassifyRequestError(rq_->req, ec);
    return HeadParse::kBad;
  }
  return rq_->req_parser->is_header_done() ? HeadParse::kDone : HeadParse::kNeedMore;
}

// The rest of the request head, when the first bytes did not complete it (`first` is what they
// gave): reads until it is complete; a malformed head is answered 400/414/431 (DPE), a client
// that stops sending 408, one that leaves is logged DC.
Awaitable<HttpSession::Step> HttpSession::ReadRequestHead(HeadParse first) {
  HeadParse state = first;
  for (;;) {
    if (state == HeadParse::kBad) {
      ls_->stats.protocol_errors.inc();
      rq_->info.protocol = rq_->req.version == 10 ? format::Protocol::kHttp10 : format::Protocol::kHttp11;
      const unsigned status = parse_failure_.status;
      const std::string_view body = status == 400 ? kBodyBadRequest : http::ReasonPhrase(status);
      PrepareReply(status, body, parse_failure_.details, ResponseFlag::DPE, true);
      co_await SendLocalReply();
      co_return Step::kClose;
    }
    if (state == HeadParse::kDone) co_return Step::kNext;
    const auto n = co_await ReadDs();
    if (n == 0) {
      if (TimedOut(Phase::kHeaders)) {
        ls_->stats.request_timeouts.inc();
        PrepareReply(408, kBodyRequestTimeout, "request_header_timeout", std::nullopt, true);
        co_await SendLocalReply();
      } else {
        ls_->stats.downstream_resets.inc();
        rq_->info.response_flags.set(ResponseFlag::DC);
        rq_->info.response_code_details = "downstream_remote_disconnect";
        FinishRecord();
      }
      co_return Step::kClose;
    }
    state = ParseBufferedHead();
  }
}

// What the request head says about framing and the connection.
void HttpSession::PlanRequest() {
  if (rq_->req_parser->is_done()) Mark(TimePoint::kDsRxEnd);
  rq_->info.protocol = rq_->req.version == 10 ? format::Protocol::kHttp10 : format::Protocol::kHttp11;
  BuildRequestHeaders();
  flow_ = Flow{};
  flow_.keep_alive = rq_->req.version == 11 ? !rq_->req.connection_close : rq_->req.connection_keep_alive && !rq_->req.connection_close;
  flow_.chunked_in = rq_->req_parser->chunked();
  flow_.has_body = !rq_->req_parser->is_done();
  flow_.upgrade = rq_->req.connection_upgrade && rq_->req.Get(bhttp::field::upgrade).has_value();
}

// The upstream connection from the worker's pool, when it has one for the first endpoint picked
// (no coroutine: this is the path of nearly every request under load).
bool HttpSession::TakePooledUpstream() {
  const auto& cfg = rt_->config;
  Arm(Phase::kConnect, std::chrono::milliseconds(0));
  us_.reset();
  const EndpointRuntime* first = rt_->Pick({});
  if (first != nullptr && !flow_.upgrade) {
    // A request with a body cannot be retried on a fresh connection: always probe its connection.
    us_ = worker_.TakeIdle(first->key, cfg.timeouts.upstream_idle,
                           flow_.has_body ? Clock::duration::zero() : Clock::duration(kPoolProbeAfter));
  }
  if (!us_) return false;
  us_endpoint_ = first;
  flow_.pooled = true;
  ls_->stats.upstream_pool_reuses.inc();
  NoteUpstream(1);
  return true;
}

// A new upstream connection (503 UH without endpoints, UF/URX when every connect fails).
Awaitable<HttpSession::Step> HttpSession::ConnectForRequest() {
  const auto& cfg = rt_->config;
  auto result = co_await ConnectUpstream(worker_, *rt_, cfg.limits.max_connect_attempts, start_);
  const uint32_t attempts = result.attempts;
  rq_->info.upstream_request_attempt_count = attempts;
  if (!result.conn) {
    if (result.endpoint) {
      rq_->info.upstream_host = result.endpoint->address;
      rq_->info.upstream_host_name = result.endpoint->host_name;
    }
    const bool close = flow_.has_body || !flow_.keep_alive;
    if (result.no_endpoint) {
      ls_->stats.no_healthy_upstream.inc();
      PrepareReply(503, kBodyNoHealthyUpstream, "no_healthy_upstream", ResponseFlag::UH, close);
      co_await SendLocalReply();
    } else {
      ls_->stats.upstream_connect_failures.inc();
      if (attempts > 1) rq_->info.response_flags.set(ResponseFlag::UF);
      PrepareReply(503, kBodyConnectFailure, "upstream_reset_before_response_started{connection_failure}",
                   attempts > 1 ? std::optional(ResponseFlag::URX) : std::optional(ResponseFlag::UF), close);
      co_await SendLocalReply();
    }
    co_return close ? Step::kClose : Step::kKeep;
  }
  us_ = std::move(result.conn);
  us_endpoint_ = result.endpoint;
  rq_->info.timing(TimePoint::kUsCxBeg) = result.connect_begin;
  rq_->info.timing(TimePoint::kUsCxEnd) = result.connect_end;
  ls_->stats.upstream_connections.inc();
  NoteUpstream(attempts);
  co_return Step::kNext;
}

void HttpSession::NoteUpstream(uint32_t attempts) {
  rq_->info.upstream_request_attempt_count = attempts;
  rq_->info.upstream_host = us_endpoint_->address;
  rq_->info.upstream_host_name = us_endpoint_->host_name;
  rq_->info.upstream_remote = us_->remote;
  rq_->info.upstream_local = us_->local;
  rq_->info.upstream_connection_id = us_->id;
  rq_->info.upstream_protocol = format::Protocol::kHttp11;
}

// The request head and body go upstream, the body streamed as it arrives (100-continue answered).
Awaitable<HttpSession::Step> HttpSession::SendRequest() {
  const auto& cfg = rt_->config;
  if (rq_->req.expect_continue && flow_.has_body && rq_->req.version == 11) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    error_code ec;
    co_await asio::async_write(ds_, asio::buffer(kContinue.data(), kContinue.size()),
                               redirect_error(kUseAwaitable, ec));
    if (!ec) rq_->info.downstream_wire_bytes_sent += kContinue.size();
  }
  SerializeRequestHead(flow_.chunked_in);
  // A pooled connection may have been closed by the upstream just as we reused it; a request
  // without body can then be sent again once on a fresh connection (never after response bytes).
  flow_.may_retry = flow_.pooled && !flow_.has_body;
  if (flow_.may_retry) rq_->retry_head.assign(us_out_);
  rq_->req.body_out = &us_out_;
  rq_->req.out_framing = flow_.chunked_in ? http::Framing::kChunked : http::Framing::kRaw;
  rq_->req_parser->eager(true);
  Arm(Phase::kBody, cfg.timeouts.request.count() > 0 ? cfg.timeouts.request : cfg.timeouts.idle);
  for (;;) {
    if (!rq_->req_parser->is_done() && http::CanPut(*rq_->req_parser, rbuf_.size())) {
      error_code ec;
      const size_t used = rq_->req_parser->put(asio::buffer(rbuf_.data(), rbuf_.size()), ec);
      rbuf_.Consume(used);
      rq_->info.downstream_wire_bytes_received += used;
      if (rq_->req_parser->is_done()) MarkOnce(TimePoint::kDsRxEnd);
      if (ec == bhttp::error::need_more) ec = {};
      if (ec) {
        // Bad chunking after the head went upstream: the upstream request is abandoned.
        ls_->stats.protocol_errors.inc();
        ReleaseUpstream(false);
        const auto failure = http::ClassifyRequestError(rq_->req, ec);
        PrepareReply(failure.status, kBodyBadRequest, failure.details, ResponseFlag::DPE, true);
        co_await SendLocalReply();
        co_return Step::kClose;
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
        co_return Step::kClose;
      }
      us_out_.clear();
    }
    if (rq_->req_parser->is_done()) break;
    const auto r5 = co_await ReadDs();
    if (r5 == 0) {
      ReleaseUpstream(false);
      if (TimedOut(Phase::kBody)) {
        ls_->stats.request_timeouts.inc();
        PrepareReply(408, kBodyRequestTimeout, "request_overall_timeout", std::nullopt, true);
        co_await SendLocalReply();
      } else {
        ls_->stats.downstream_resets.inc();
        rq_->info.response_flags.set(ResponseFlag::DC);
        rq_->info.response_code_details = "downstream_remote_disconnect";
        FinishRecord();
      }
      co_return Step::kClose;
    }
  }
  MarkOnce(TimePoint::kDsRxEnd);
  flow_.sent_at = Clock::now();
  co_return Step::kNext;
}

// Waits for the response head (interim 1xx skipped), watching for a client that leaves; a bodiless
// request on a pooled connection that turns out closed is sent once more on a fresh one.
Awaitable<HttpSession::Step> HttpSession::ReadResponseHead() {
  const auto& cfg = rt_->config;
  const bool keep_alive = flow_.keep_alive;
  bool retried = false;
  Arm(Phase::kResponse, cfg.timeouts.response);
  WatchDownstreamClose();
  for (;;) {
    rq_->resp.Clear();
    rq_->resp_parser.emplace(rq_->resp, rq_->limits);
    if (rq_->req.verb == bhttp::verb::head) rq_->resp_parser->skip(true);
    bool got_head = false;
    for (;;) {
      error_code ec;
      if (!us_->rbuf.empty()) {
        const size_t used = rq_->resp_parser->put(asio::buffer(us_->rbuf.data(), us_->rbuf.size()), ec);
        us_->rbuf.Consume(used);
        rq_->info.upstream_wire_bytes_received += used;
        rq_->info.upstream_header_bytes_received += used;
        if (ec == bhttp::error::need_more) ec = {};
        if (ec) {
          ls_->stats.upstream_resets.inc();
          ReleaseUpstream(false);
          PrepareReply(502, kBodyProtocolError, "upstream_reset_before_response_started{protocol_error}",
                              ResponseFlag::UPE, !keep_alive);
          co_await SendLocalReply();
          co_return keep_alive ? Step::kKeep : Step::kClose;
        }
        if (rq_->resp_parser->is_header_done()) {
          got_head = true;
          break;
        }
      }
      const auto r6 = co_await ReadUs();
      if (r6 == 0 && flow_.may_retry && !retried && !ds_closed_early_ && !TimedOut(Phase::kResponse) &&
          rq_->info.upstream_wire_bytes_received == 0 && us_->rbuf.empty()) {
        retried = true;
        ReleaseUpstream(false);
        ls_->stats.upstream_pool_retries.inc();
        auto again = co_await ConnectUpstream(worker_, *rt_, cfg.limits.max_connect_attempts, start_);
        if (again.conn) {
          us_ = std::move(again.conn);
          us_endpoint_ = again.endpoint;
          ls_->stats.upstream_connections.inc();
          rq_->info.upstream_request_attempt_count += again.attempts;
          rq_->info.upstream_host = us_endpoint_->address;
          rq_->info.upstream_remote = us_->remote;
          rq_->info.upstream_local = us_->local;
          rq_->info.upstream_connection_id = us_->id;
          rq_->info.timing(TimePoint::kUsCxBeg) = again.connect_begin;
          rq_->info.timing(TimePoint::kUsCxEnd) = again.connect_end;
          const auto resent = co_await WriteUs(rq_->retry_head);
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
          rq_->info.response_flags.set(ResponseFlag::DC);
          rq_->info.response_code_details = "downstream_remote_disconnect";
          FinishRecord();
          co_return Step::kClose;
        }
        if (TimedOut(Phase::kResponse)) {
          ls_->stats.upstream_timeouts.inc();
          PrepareReply(504, kBodyUpstreamTimeout, "upstream_response_timeout", ResponseFlag::UT, !keep_alive);
          co_await SendLocalReply();
          co_return keep_alive && ds_.is_open() ? Step::kKeep : Step::kClose;
        }
        ls_->stats.upstream_resets.inc();
        PrepareReply(503, kBodyConnectionTermination,
                            "upstream_reset_before_response_started{connection_termination}", ResponseFlag::UC,
                            !keep_alive);
        co_await SendLocalReply();
        co_return keep_alive ? Step::kKeep : Step::kClose;
      }
    }
    if (got_head && rq_->resp.status >= 100 && rq_->resp.status < 200 && rq_->resp.status != 101) continue;  // interim
    break;
  }
  StopWatchingDownstream();
  {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - flow_.sent_at).count();
    rq_->service_time = std::to_string(ms);
  }
  rq_->info.response_code = rq_->resp.status;
  rq_->info.response_code_details = "via_upstream";
  co_return Step::kNext;
}

// A 101 answer to an Upgrade request: the connection becomes a tunnel, logged once.
Awaitable<void> HttpSession::UpgradeToTunnel() {
  ls_->stats.upgrades.inc();
  BuildResponseHeaders(false, false);
  const auto r7 = co_await WriteDs(ds_out_);
  if (!r7) {
    rq_->info.response_flags.set(ResponseFlag::DC);
    ReleaseUpstream(false);
    FinishRecord();
    co_return;
  }
  co_await Tunnel();
}

bool HttpSession::EndResponseForGoneClient() {
  ls_->stats.downstream_resets.inc();
  rq_->info.response_flags.set(ResponseFlag::DC);
  rq_->info.response_code_details = "downstream_remote_disconnect";
  rq_->info.bytes_sent = rq_->resp.body_bytes;
  ReleaseUpstream(false);
  FinishRecord();
  return false;
}

// The response body goes downstream as it arrives (re-chunked when its length is unknown); the
// record is written when it ends. Returns whether the client connection carries another request.
Awaitable<bool> HttpSession::ForwardResponseBody() {
  bool keep_alive = flow_.keep_alive;
  const bool upstream_keep = rq_->resp.version == 11 ? !rq_->resp.connection_close : rq_->resp.connection_keep_alive;
  const bool body_to_eof = rq_->resp_parser->need_eof() && !rq_->resp_parser->is_done();
  const bool chunked_resp = rq_->resp_parser->chunked();
  bool chunked_out = false;
  http::Framing framing = http::Framing::kRaw;
  if (chunked_resp || body_to_eof) {
    if (rq_->req.version == 11) {
      chunked_out = true;
      framing = http::Framing::kChunked;
    } else {
      keep_alive = false;  // an HTTP/1.0 client learns the end of the body from the close
    }
  }
  if (drain_) keep_alive = false;
  BuildResponseHeaders(!keep_alive, chunked_out);
  rq_->resp.body_out = &ds_out_;
  rq_->resp.out_framing = framing;
  rq_->resp_parser->eager(true);
  bool upstream_ok = true;
  streaming_body_ = true;
  struct StreamingEnds {
    bool& flag;
    ~StreamingEnds() { flag = false; }
  } streaming_ends{streaming_body_};
  for (;;) {
    if (ClientGone()) co_return EndResponseForGoneClient();
    if (!rq_->resp_parser->is_done() && http::CanPut(*rq_->resp_parser, us_->rbuf.size())) {
      error_code ec;
      const size_t used = rq_->resp_parser->put(asio::buffer(us_->rbuf.data(), us_->rbuf.size()), ec);
      us_->rbuf.Consume(used);
      rq_->info.upstream_wire_bytes_received += used;
      if (ec == bhttp::error::need_more) ec = {};
      if (ec) {
        rq_->info.response_flags.set(ResponseFlag::UPE);
        rq_->info.response_code_details = "upstream_reset_after_response_started{protocol_error}";
        upstream_ok = false;
      }
      if (rq_->resp.body_bytes > 0) MarkOnce(TimePoint::kUsRxBodyBeg);
    }
    if (!ds_out_.empty()) {
      const auto r8 = co_await WriteDs(ds_out_);
      if (!r8) co_return EndResponseForGoneClient();
      ds_out_.clear();
    }
    if (!upstream_ok) break;
    if (rq_->resp_parser->is_done()) break;
    const auto r9 = co_await ReadUs();
    if (r9 == 0) {
      if (ClientGone()) co_return EndResponseForGoneClient();  // the read was woken by OnPeerClosed
      if (rq_->resp_parser->need_eof() && !TimedOut(Phase::kResponse)) {
        error_code ec;
        rq_->resp_parser->put_eof(ec);
        if (!ec && rq_->resp_parser->is_done()) {
          upstream_ok = false;  // the upstream connection is closed: not reusable
          bool written = true;
          if (!ds_out_.empty()) written = co_await WriteDs(ds_out_);
          if (!written) {
            rq_->info.response_flags.set(ResponseFlag::DC);
            keep_alive = false;
          }
          ds_out_.clear();
          Mark(TimePoint::kUsRxEnd);
          rq_->info.bytes_sent = rq_->resp.body_bytes;
          ReleaseUpstream(false);
          FinishRecord();
          co_return keep_alive;
        }
      }
      if (TimedOut(Phase::kResponse)) {
        ls_->stats.upstream_timeouts.inc();
        rq_->info.response_flags.set(ResponseFlag::UT);
        rq_->info.response_code_details = "upstream_response_timeout";
      } else {
        ls_->stats.upstream_resets.inc();
        rq_->info.response_flags.set(ResponseFlag::UC);
        rq_->info.response_code_details = "upstream_reset_after_response_started{connection_termination}";
      }
      upstream_ok = false;
      break;
    }
  }
  rq_->info.bytes_sent = rq_->resp.body_bytes;
  if (!upstream_ok) {
    // The response could not be completed: the downstream connection cannot carry another one.
    ReleaseUpstream(false);
    FinishRecord();
    co_return false;
  }
  Mark(TimePoint::kUsRxEnd);
  if (!rq_->resp.trailers.empty()) {
    for (const auto& t : rq_->resp.trailers) rq_->trailer_map.add(rq_->resp.TrailerView(t.name), rq_->resp.TrailerView(t.value));
    rq_->info.response_trailers = &rq_->trailer_map;
  }
  ReleaseUpstream(upstream_keep);
  FinishRecord();
  co_return keep_alive;
}

Awaitable<void> HttpSession::Tunnel() {
  // Bytes already read past the heads belong to the tunnel.
  co_await SettleWatch();
  const auto& cfg = rt_->config;
  if (!rbuf_.empty()) {
    const std::string_view pending(rbuf_.data(), rbuf_.size());
    const auto r11 = co_await WriteUs(pending);
    if (r11) rq_->req.body_bytes += pending.size();  // FinishRecord reports body_bytes
    rbuf_.Clear();
  }
  if (!us_->rbuf.empty()) {
    const std::string_view pending(us_->rbuf.data(), us_->rbuf.size());
    const auto r12 = co_await WriteDs(pending);
    if (r12) rq_->info.bytes_sent += pending.size();
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
  rq_->req.body_bytes += counters.a_to_b;  // FinishRecord reports it as BYTES_RECEIVED
  rq_->info.bytes_sent += counters.b_to_a;
  rq_->info.downstream_wire_bytes_received += counters.a_to_b;
  rq_->info.downstream_wire_bytes_sent += counters.b_to_a;
  rq_->info.upstream_wire_bytes_sent += counters.a_to_b;
  rq_->info.upstream_wire_bytes_received += counters.b_to_a;
  if (counters.b_to_a > 0) Mark(TimePoint::kDsTxEnd);
  if (counters.a_reset) rq_->info.response_flags.set(ResponseFlag::DC);
  if (counters.b_reset) rq_->info.response_flags.set(ResponseFlag::UC);
  ReleaseUpstream(false);
  FinishRecord();
}

Awaitable<void> TunnelIdleWatch(std::shared_ptr<HttpSession> self, std::shared_ptr<TunnelState> state,
                                std::chrono::milliseconds idle) {
  while (!state->done) {
    state->timer.expires_at(state->counters.last_activity + idle);
    error_code ec;
    co_await state->timer.async_wait(redirect_error(kUseAwaitable, ec));
    if (state->done) co_return;
    if (Clock::now() - state->counters.last_activity >= idle) {
      self->Abort();
      co_return;
    }
  }
}

}  // namespace

void StartHttpSession(Worker& worker, std::shared_ptr<ListenerState> listener, Socket socket) {
  auto session = std::make_shared<HttpSession>(worker, std::move(listener), std::move(socket));
  asio::co_spawn(
      worker.io(), [session]() -> Awaitable<void> { co_await session->Run(); }, asio::detached);
}

}  // namespace meshlog::proxy
