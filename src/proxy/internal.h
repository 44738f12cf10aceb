// File: internal.h
//
// Private pieces of the proxy shared by server.cc, http_session.cc and tcp_session.cc: the
// per-listener runtime snapshot (parsed endpoints, passive health), the per-worker upstream
// connection pool and session registry, a small read buffer, and helpers.
#pragma once

#include <utility>  // before asio: awaitable.hpp uses std::exchange

#include <boost/asio.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "format/stream_info.h"
#include "proxy/listener_config.h"
#include "proxy/server.h"

namespace meshlog::proxy {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

// The data path's I/O objects and coroutines are bound to io_context's own executor type rather
// than Asio's default, the type-erased any_io_executor: every operation copies, queries and
// destroys its executor several times, which through any_executor are indirect calls. Every socket
// and timer of the proxy lives on one worker's io_context, so nothing needs the erasure.
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using Timer = asio::basic_waitable_timer<Clock, asio::wait_traits<Clock>, Executor>;
template <typename T>
using Awaitable = asio::awaitable<T, Executor>;
inline constexpr asio::use_awaitable_t<Executor> kUseAwaitable;

format::Address ToAddress(const tcp::endpoint& ep);
std::optional<tcp::endpoint> ParseEndpoint(std::string_view text);
uint64_t NextConnectionId();

struct EndpointRuntime {
  tcp::endpoint endpoint;
  std::string key;  // "ip:port"
  std::string host_name;
  format::Address address;
  mutable std::atomic<int64_t> ejected_until_ns{0};  // steady clock; passive health
};

// An immutable snapshot of a listener's configuration (plus atomics for round-robin and health).
struct ListenerRuntime {
  ListenerConfig config;
  std::vector<std::unique_ptr<EndpointRuntime>> endpoints;
  mutable std::atomic<uint32_t> rr{0};

  // Next endpoint to try, skipping `tried` and ejected ones; when all untried ones are ejected,
  // returns an ejected one anyway (panic mode) so traffic is never refused on stale health.
  const EndpointRuntime* Pick(const std::vector<const EndpointRuntime*>& tried) const;
  void Eject(const EndpointRuntime* ep) const;
};

struct ListenerState {
  std::string name;
  ListenerStats stats;
  std::atomic<std::shared_ptr<const ListenerRuntime>> runtime;
  uint16_t port = 0;
  tcp::endpoint bound;
  std::vector<std::shared_ptr<Acceptor>> acceptors;  // one per worker (index = worker)
};

// A growable contiguous read buffer (Beast parses from one contiguous range).
class ReadBuffer {
 public:
  char* data() { return buf_.data() + begin_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  asio::mutable_buffer Prepare(size_t n) {
    if (buf_.size() - end_ < n) {
      if (begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (buf_.size() - end_ < n) buf_.resize(end_ + n);
    }
    return asio::buffer(buf_.data() + end_, n);
  }
  void Commit(size_t n) { end_ += n; }
  void Clear() { begin_ = end_ = 0; }
  // Idle connections give their (empty) buffer back to the worker's pool and take one again when
  // data arrives: memory follows active connections, and steady state allocates nothing.
  // Returns true when the buffer was freed rather than pooled (the pool is full or it grew big).
  bool ReleaseTo(std::vector<std::vector<char>>& pool, size_t max_pooled) {
    if (!empty() || buf_.empty()) return false;
    const bool pooled = pool.size() < max_pooled && buf_.capacity() <= 64 * 1024;
    if (pooled) pool.push_back(std::move(buf_));
    buf_ = std::vector<char>();
    begin_ = end_ = 0;
    return !pooled;
  }
  void AcquireFrom(std::vector<std::vector<char>>& pool) {
    if (!buf_.empty() || pool.empty()) return;
    buf_ = std::move(pool.back());
    pool.pop_back();
  }

 private:
  std::vector<char> buf_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

struct UpstreamConn {
  explicit UpstreamConn(asio::io_context& io) : socket(io) {}
  Socket socket;
  ReadBuffer rbuf;
  uint64_t id = 0;
  format::Address local;
  format::Address remote;
  std::string key;
  Clock::time_point idle_since{};
};

// Per-request state of an HTTP session (http_session.cc), pooled per worker.
struct HttpRequestState;
struct HttpRequestStateDeleter {
  void operator()(HttpRequestState* state) const;
};
using HttpRequestStatePtr = std::unique_ptr<HttpRequestState, HttpRequestStateDeleter>;

class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Drain: close if idle, otherwise close after the current request.
  virtual void OnDrain() = 0;
  // Drain timeout: abort now (the record is still written).
  virtual void Abort() = 0;
  // Called by the worker every kSweepInterval (worker thread): lets a session that has been
  // idle for a while give its buffers back (see HttpSession). Must not destroy the session.
  virtual void OnSweep(Clock::time_point /*now*/) {}
  // The peer of a connection given to Worker::WatchPeerClose shut down its sending side or reset
  // the connection (worker thread). Must not destroy the session.
  virtual void OnPeerClosed() {}
};

// A keep-alive connection keeps its read buffer and a plain read pending while it is briefly
// idle between requests (the common case under load: no extra epoll_ctl per request); once it has
// been idle for kIdleParkAfter the worker's sweep parks it (buffers back to the pool, a zero-byte
// readiness wait instead), so thousands of idle connections stay cheap.
inline constexpr std::chrono::milliseconds kSweepInterval{100};
inline constexpr std::chrono::milliseconds kIdleParkAfter{200};
// The read between requests asks for this much room (a request head usually fits): a burst of
// new connections holds small buffers until they park.
inline constexpr size_t kIdleReadChunk = 4 * 1024;
// A pooled upstream connection idle for less than this is reused without probing it for a close
// (one recv per request saved); requests without a body are retried once on a fresh connection if
// a reused one turns out closed, requests with a body always probe.
inline constexpr std::chrono::milliseconds kPoolProbeAfter{10};
// Per-worker pools of idle buffers and request states: enough for the connections active at once
// under load; what parks beyond that is freed, and the worker's sweep gives freed memory back to
// the system (malloc_trim) once kTrimAfterFrees buffers were freed, so a burst of connections
// that then sits idle does not keep its peak memory.
inline constexpr size_t kMaxPooledBuffers = 256;
inline constexpr size_t kTrimAfterFrees = 64;

class Worker {
 public:
  Worker(unsigned index, bool peer_close_epoll) : index_(index), peer_close_epoll_(peer_close_epoll) {}
  ~Worker() {
    Stop();
    idle_.clear();  // pooled sockets go before their io_context; io_ (declared last) goes first
    peer_close_watch_.reset();
  }
  asio::io_context& io() { return io_; }
  unsigned index() const { return index_; }

  // Upstream pool (worker thread only).
  // `probe_after`: connections idle at least this long are checked for a close (MSG_PEEK).
  std::unique_ptr<UpstreamConn> TakeIdle(const std::string& key, Clock::duration max_idle,
                                         Clock::duration probe_after = Clock::duration::zero());
  void PutIdle(std::unique_ptr<UpstreamConn> conn);

  // Peer-close watch (worker thread only). Registers `fd` once, edge-triggered for EPOLLRDHUP
  // (plus the implicit EPOLLHUP/EPOLLERR), in this worker's own epoll set, whose descriptor Asio
  // waits on; `s->OnPeerClosed()` runs when the peer shuts down or resets. It tells a session that
  // its client left while a request waits for the upstream without a system call per request
  // (an Asio read used as a watch first tries a recv that fails with EAGAIN, every request). The
  // registration ends when `fd` is closed. False when the watch set is unavailable: the caller
  // then watches with a read.
  bool WatchPeerClose(int fd, SessionBase* s);

  // Session registry (worker thread only).
  void Register(SessionBase* s) { sessions_.insert(s); }
  void Unregister(SessionBase* s) { sessions_.erase(s); }
  void DrainSessions() {
    draining_ = true;
    auto copy = sessions_;
    for (auto* s : copy) s->OnDrain();
  }
  void AbortSessions() {
    auto copy = sessions_;
    for (auto* s : copy) s->Abort();
  }
  bool draining() const { return draining_; }
  std::vector<std::vector<char>>& read_buffers() { return read_buffers_; }
  std::vector<std::string>& string_buffers() { return string_buffers_; }
  std::vector<HttpRequestStatePtr>& request_states() { return request_states_; }
  // Counts memory freed (not pooled) since the last trim; see kTrimAfterFrees.
  void NoteFreed(size_t n = 1) { freed_since_trim_ += n; }

  void Run() {
    asio::co_spawn(io_, Sweep(), asio::detached);
    StartPeerCloseWatch();
    thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(io_);
      io_.run();
    });
  }
  void Stop() {
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::atomic<int64_t> active_sessions{0};

 private:
  Awaitable<void> Sweep();
  void StartPeerCloseWatch();
  Awaitable<void> DispatchPeerCloses();

  unsigned index_;
  bool peer_close_epoll_;
  std::thread thread_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConn>>> idle_;
  std::unordered_set<SessionBase*> sessions_;
  bool draining_ = false;
  std::vector<std::vector<char>> read_buffers_;
  std::vector<std::string> string_buffers_;
  std::vector<HttpRequestStatePtr> request_states_;
  size_t freed_since_trim_ = 0;
  std::optional<asio::posix::basic_stream_descriptor<Executor>> peer_close_watch_;  // owns the epoll descriptor
  // Last member: destroyed first, so coroutine frames of sessions (which unregister themselves)
  // are destroyed while the registry still exists.
  // UNSAFE_IO: no per-descriptor mutex in the reactor. Every socket of a worker (sessions, pooled
  // upstream connections, its acceptors once created) is only operated on from the worker's own
  // thread; other threads reach a worker through asio::post, which keeps the scheduler's lock, and
  // open acceptors under the reactor's registration lock, which also stays.
  asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
};

// Bidirectional splice of two connected sockets with half-close: EOF on one side shuts down the
// sending side of the other; a reset/error on either side closes both. Returns when both
// directions have finished. `a` is the downstream side.
struct TunnelCounters {
  uint64_t a_to_b = 0;
  uint64_t b_to_a = 0;
  bool a_reset = false;  // a read/write error on the downstream side
  bool b_reset = false;  // ... on the upstream side
  Clock::time_point last_activity{};
};
Awaitable<void> RunTunnel(Socket& a, Socket& b, TunnelCounters& counters);

// Starts a session for an accepted connection (http_session.cc / tcp_session.cc).
void StartHttpSession(Worker& worker, std::shared_ptr<ListenerState> listener, Socket socket);
void StartTcpSession(Worker& worker, std::shared_ptr<ListenerState> listener, Socket socket);

// Connects to the listener's endpoints: up to `max_attempts` distinct endpoints, each bounded by
// `timeout`, ejecting those that fail. Sets `attempts`. nullptr when all failed or none exist.
struct ConnectResult {
  std::unique_ptr<UpstreamConn> conn;
  const EndpointRuntime* endpoint = nullptr;  // last tried
  uint32_t attempts = 0;
  bool no_endpoint = false;
  bool timed_out = false;
  std::optional<std::chrono::nanoseconds> connect_begin;  // offsets from `start`
  std::optional<std::chrono::nanoseconds> connect_end;
};
Awaitable<ConnectResult> ConnectUpstream(Worker& worker, const ListenerRuntime& rt, uint32_t max_attempts,
                                         Clock::time_point start);

void LogRecord(const ListenerRuntime& rt, ListenerStats& stats, const format::StreamInfo& info);

}  // namespace meshlog::proxy
