// TCP proxying: one TcpSession per downstream connection; bytes are spliced both ways with
// half-close; one record at close (TcpConnectionEnd), optionally one on upstream connect
// (TcpUpstreamConnected) and periodic ones (TcpPeriodic) for long connections.
#include <array>
#include <cstdio>
#include <memory>

#include "proxy/internal.h"

namespace meshlog::proxy {

namespace {

using asio::redirect_error;
using format::ResponseFlag;

struct JoinState {
  explicit JoinState(asio::io_context& io) : timer(io) { timer.expires_at(Clock::time_point::max()); }
  Timer timer;
  int left = 2;
};

void CloseBoth(Socket& a, Socket& b) {
  error_code ignored;
  a.close(ignored);
  b.close(ignored);
}

// A direction starts with a small buffer (an idle or interactive connection costs little); once a
// read fills it, the stream is bulk and switches to a large one, so a bulk transfer needs a
// quarter of the read/write system calls and event-loop round trips per byte (issue 5: TCP bulk
// throughput >= HAProxy's tcp mode; see bench/tcp_bulk.sh).
constexpr size_t kSmallBuffer = 16 * 1024;
constexpr size_t kBulkBuffer = 128 * 1024;

// One direction. `from_is_a` tells which reset flag to set.
Awaitable<void> Pump(Socket& from, Socket& to, uint64_t& count, bool& from_reset, bool& to_reset,
                     Clock::time_point& activity) {
  std::array<char, kSmallBuffer> small;
  std::unique_ptr<char[]> bulk;
  asio::mutable_buffer buf = asio::buffer(small);
  for (;;) {
    error_code ec;
    const size_t n = co_await from.async_read_some(buf, redirect_error(kUseAwaitable, ec));
    if (ec) {
      if (ec == asio::error::eof) {
        error_code ignored;
        to.shutdown(Socket::shutdown_send, ignored);  // half-close
      } else {
        if (ec != asio::error::operation_aborted && ec != asio::error::bad_descriptor) from_reset = true;
        CloseBoth(from, to);
      }
      co_return;
    }
    activity = Clock::now();
    co_await asio::async_write(to, asio::buffer(buf.data(), n), redirect_error(kUseAwaitable, ec));
    if (ec) {
      if (ec != asio::error::operation_aborted && ec != asio::error::bad_descriptor) to_reset = true;
      CloseBoth(from, to);
      co_return;
    }
    count += n;
    if (!bulk && n == small.size()) {
      bulk = std::make_unique_for_overwrite<char[]>(kBulkBuffer);
      buf = asio::buffer(bulk.get(), kBulkBuffer);
    }
  }
}

}  // namespace

Awaitable<void> RunTunnel(Socket& a, Socket& b, TunnelCounters& c) {
  auto executor = co_await asio::this_coro::executor;
  auto& io = static_cast<asio::io_context&>(asio::query(executor, asio::execution::context));
  auto join = std::make_shared<JoinState>(io);
  // Upstream -> downstream runs as its own coroutine; downstream -> upstream runs here.
  asio::co_spawn(executor, Pump(b, a, c.b_to_a, c.b_reset, c.a_reset, c.last_activity),
                 [join](std::exception_ptr) {
                   if (--join->left == 0) join->timer.cancel();
                 });
  co_await Pump(a, b, c.a_to_b, c.a_reset, c.b_reset, c.last_activity);
  if (--join->left > 0) {
    error_code ec;
    co_await join->timer.async_wait(redirect_error(kUseAwaitable, ec));
  }
}

namespace {

class TcpSession final : public SessionBase, public std::enable_shared_from_this<TcpSession> {
 public:
  TcpSession(Worker& worker, std::shared_ptr<ListenerState> ls, Socket socket)
      : worker_(worker), ls_(std::move(ls)), ds_(std::move(socket)), timer_(worker.io()) {
    worker_.Register(this);
    worker_.active_sessions.fetch_add(1);
    ls_->stats.connections.inc();
    ls_->stats.active_connections.add(1);
  }
  ~TcpSession() override {
    worker_.Unregister(this);
    worker_.active_sessions.fetch_sub(1);
    ls_->stats.active_connections.sub(1);
  }

  Awaitable<void> Run();
  // A TCP connection has no request boundary: drain lets it run until the drain timeout.
  void OnDrain() override {}
  void Abort() override {
    error_code ignored;
    ds_.close(ignored);
    if (us_) us_->socket.close(ignored);
  }

 private:
  Awaitable<void> Timers(std::shared_ptr<TcpSession> self);
  void Snapshot(format::AccessLogType type) {
    info_.access_log_type = type;
    info_.duration = Clock::now() - start_;
    info_.bytes_received = counters_.a_to_b;
    info_.bytes_sent = counters_.b_to_a;
    info_.downstream_wire_bytes_received = counters_.a_to_b;
    info_.downstream_wire_bytes_sent = counters_.b_to_a;
    info_.upstream_wire_bytes_sent = counters_.a_to_b;
    info_.upstream_wire_bytes_received = counters_.b_to_a;
    LogRecord(*rt_, ls_->stats, info_);
  }

  Worker& worker_;
  std::shared_ptr<ListenerState> ls_;
  std::shared_ptr<const ListenerRuntime> rt_;
  Socket ds_;
  Timer timer_;
  std::unique_ptr<UpstreamConn> us_;
  Clock::time_point start_;
  format::StreamInfo info_;
  TunnelCounters counters_;
  bool done_ = false;
};

Awaitable<void> TcpSession::Timers(std::shared_ptr<TcpSession> self) {
  (void)self;  // keeps the session alive while the timer coroutine runs
  // Idle timeout and periodic records share one timer.
  const auto idle = rt_->config.timeouts.idle;
  const auto periodic = rt_->config.tcp.periodic;
  auto next_periodic = periodic.count() > 0 ? Clock::now() + periodic : Clock::time_point::max();
  while (!done_) {
    auto idle_at = idle.count() > 0 ? counters_.last_activity + idle : Clock::time_point::max();
    timer_.expires_at(std::min(idle_at, next_periodic));
    error_code ec;
    co_await timer_.async_wait(redirect_error(kUseAwaitable, ec));
    if (done_) co_return;
    const auto now = Clock::now();
    if (now >= next_periodic) {
      Snapshot(format::AccessLogType::TcpPeriodic);
      next_periodic = now + periodic;
    }
    if (idle.count() > 0 && now - counters_.last_activity >= idle) {
      Abort();
      co_return;
    }
  }
}

Awaitable<void> TcpSession::Run() {
  auto self = shared_from_this();
  rt_ = ls_->runtime.load();
  start_ = Clock::now();
  info_.start_time = std::chrono::time_point_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now());
  info_.connection_id = NextConnectionId();
  error_code ec;
  auto local = ds_.local_endpoint(ec);
  if (!ec) info_.downstream_local = ToAddress(local);
  auto remote = ds_.remote_endpoint(ec);
  if (!ec) info_.downstream_remote = info_.downstream_direct_remote = ToAddress(remote);
  info_.upstream_cluster = rt_->config.cluster_name;
  info_.route_name = rt_->config.route_name;

  auto result = co_await ConnectUpstream(worker_, *rt_, rt_->config.limits.max_connect_attempts, start_);
  info_.upstream_request_attempt_count = result.attempts;
  if (result.endpoint) {
    info_.upstream_host = result.endpoint->address;
    info_.upstream_host_name = result.endpoint->host_name;
  }
  if (!result.conn) {
    if (result.no_endpoint) {
      ls_->stats.no_healthy_upstream.inc();
      info_.response_flags.set(ResponseFlag::UH);
    } else {
      // Envoy's tcp_proxy: the failed connect (UF) and the exhausted connect attempts (URX).
      ls_->stats.upstream_connect_failures.inc();
      info_.response_flags.set(ResponseFlag::UF);
      info_.response_flags.set(ResponseFlag::URX);
      info_.upstream_transport_failure_reason = result.timed_out ? "connect_timeout" : "connection_failure";
    }
    Snapshot(format::AccessLogType::TcpConnectionEnd);
    Abort();
    co_return;
  }
  us_ = std::move(result.conn);
  ls_->stats.upstream_connections.inc();
  info_.upstream_remote = us_->remote;
  info_.upstream_local = us_->local;
  info_.upstream_connection_id = us_->id;
  error_code ignored;
  ds_.set_option(tcp::no_delay(true), ignored);
  if (rt_->config.tcp.log_on_upstream_connect) Snapshot(format::AccessLogType::TcpUpstreamConnected);

  counters_.last_activity = Clock::now();
  asio::co_spawn(worker_.io(), Timers(self), asio::detached);
  co_await RunTunnel(ds_, us_->socket, counters_);
  done_ = true;
  timer_.cancel();
  if (counters_.a_reset) ls_->stats.downstream_resets.inc();
  if (counters_.b_reset) ls_->stats.upstream_resets.inc();
  Snapshot(format::AccessLogType::TcpConnectionEnd);
  Abort();
}

}  // namespace

void StartTcpSession(Worker& worker, std::shared_ptr<ListenerState> listener, Socket socket) {
  auto session = std::make_shared<TcpSession>(worker, std::move(listener), std::move(socket));
  asio::co_spawn(
      worker.io(), [session]() -> Awaitable<void> { co_await session->Run(); }, asio::detached);
}

}  // namespace meshlog::proxy
