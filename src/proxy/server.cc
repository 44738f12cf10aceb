#include "proxy/server.h"

#include <malloc.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <array>
#include <random>

#include "proxy/internal.h"

namespace meshlog::proxy {

namespace {
std::atomic<uint64_t> g_connection_id{0};
using asio::redirect_error;
}  // namespace

uint64_t NextConnectionId() { return g_connection_id.fetch_add(1, std::memory_order_relaxed) + 1; }

format::Address ToAddress(const tcp::endpoint& ep) {
  format::Address a;
  a.port = ep.port();
  if (ep.address().is_v4()) {
    a.kind = format::Address::Kind::kIpv4;
    const auto b = ep.address().to_v4().to_bytes();
    std::copy(b.begin(), b.end(), a.ip.begin());
  } else {
    a.kind = format::Address::Kind::kIpv6;
    const auto b = ep.address().to_v6().to_bytes();
    std::copy(b.begin(), b.end(), a.ip.begin());
  }
  return a;
}

std::optional<tcp::endpoint> ParseEndpoint(std::string_view text) {
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5) return std::nullopt;
  unsigned p = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return std::nullopt;
    p = p * 10 + static_cast<unsigned>(c - '0');
  }
  if (p > 65535) return std::nullopt;
  error_code ec;
  auto addr = asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return tcp::endpoint(addr, static_cast<uint16_t>(p));
}

const EndpointRuntime* ListenerRuntime::Pick(const std::vector<const EndpointRuntime*>& tried) const {
  const size_t n = endpoints.size();
  if (n == 0) return nullptr;
  const int64_t now = Clock::now().time_since_epoch().count();
  const uint32_t start = rr.fetch_add(1, std::memory_order_relaxed);
  const EndpointRuntime* fallback = nullptr;
  for (size_t i = 0; i < n; ++i) {
    const EndpointRuntime* ep = endpoints[(start + i) % n].get();
    if (std::find(tried.begin(), tried.end(), ep) != tried.end()) continue;
    if (ep->ejected_until_ns.load(std::memory_order_relaxed) > now) {
      if (fallback == nullptr) fallback = ep;
      continue;
    }
    return ep;
  }
  return fallback;
}

void ListenerRuntime::Eject(const EndpointRuntime* ep) const {
  const auto until = Clock::now() + config.timeouts.ejection;
  ep->ejected_until_ns.store(until.time_since_epoch().count(), std::memory_order_relaxed);
}

Awaitable<void> Worker::Sweep() {
  Timer timer(io_);
  for (;;) {
    timer.expires_after(kSweepInterval);
    error_code ec;
    co_await timer.async_wait(asio::redirect_error(kUseAwaitable, ec));
    const auto now = Clock::now();
    for (auto* s : sessions_) s->OnSweep(now);  // sessions only post work here: no (un)registering
    if (freed_since_trim_ >= kTrimAfterFrees) {
      freed_since_trim_ = 0;
      ::malloc_trim(0);
    }
  }
}

void Worker::StartPeerCloseWatch() {
  if (!peer_close_epoll_) return;
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return;  // sessions fall back to a read as their watch
  peer_close_watch_.emplace(io_, fd);
  asio::co_spawn(io_, DispatchPeerCloses(), asio::detached);
}

bool Worker::WatchPeerClose(int fd, SessionBase* s) {
  if (!peer_close_watch_) return false;
  epoll_event ev{};
  ev.events = EPOLLRDHUP | EPOLLET;
  ev.data.ptr = s;
  return ::epoll_ctl(peer_close_watch_->native_handle(), EPOLL_CTL_ADD, fd, &ev) == 0;
}

Awaitable<void> Worker::DispatchPeerCloses() {
  for (;;) {
    error_code ec;
    co_await peer_close_watch_->async_wait(asio::posix::descriptor_base::wait_read,
                                           asio::redirect_error(kUseAwaitable, ec));
    if (ec) co_return;
    std::array<epoll_event, 64> events;
    for (;;) {
      const int n = ::epoll_wait(peer_close_watch_->native_handle(), events.data(), static_cast<int>(events.size()), 0);
      for (int i = 0; i < n; ++i) {
        // Every returned descriptor is still open (closing it ends its registration), so its
        // session is alive; the registry check guards against a session that gave up its watch.
        auto* s = static_cast<SessionBase*>(events[i].data.ptr);
        if (sessions_.count(s)) s->OnPeerClosed();
      }
      if (n < static_cast<int>(events.size())) break;
    }
  }
}

std::unique_ptr<UpstreamConn> Worker::TakeIdle(const std::string& key, Clock::duration max_idle,
                                               Clock::duration probe_after) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  const auto now = Clock::now();
  while (!list.empty()) {
    auto conn = std::move(list.back());
    list.pop_back();
    if (now - conn->idle_since > max_idle) continue;  // closed by the destructor
    if (now - conn->idle_since < probe_after) return conn;
    // The upstream may have closed it while idle: a readable idle connection is EOF or junk.
    char probe;
    const ssize_t n = ::recv(conn->socket.native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || n > 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) continue;
    return conn;
  }
  return nullptr;
}

void Worker::PutIdle(std::unique_ptr<UpstreamConn> conn) {
  conn->idle_since = Clock::now();
  auto& list = idle_[conn->key];
  if (list.size() >= 1024) return;  // bounded pool per endpoint and worker
  list.push_back(std::move(conn));
}

Awaitable<ConnectResult> ConnectUpstream(Worker& worker, const ListenerRuntime& rt, uint32_t max_attempts,
                                         Clock::time_point start) {
  ConnectResult result;
  if (rt.endpoints.empty()) {
    result.no_endpoint = true;
    co_return result;
  }
  std::vector<const EndpointRuntime*> tried;
  const uint32_t limit = std::max<uint32_t>(1, std::min<uint32_t>(max_attempts, rt.endpoints.size()));
  while (result.attempts < limit) {
    const EndpointRuntime* ep = rt.Pick(tried);
    if (ep == nullptr) break;
    tried.push_back(ep);
    ++result.attempts;
    result.endpoint = ep;
    auto conn = std::make_unique<UpstreamConn>(worker.io());
    struct TimerState {
      bool done = false;
      bool timed_out = false;
      Socket* socket = nullptr;
    };
    auto st = std::make_shared<TimerState>();
    st->socket = &conn->socket;
    Timer timer(worker.io());
    timer.expires_after(rt.config.timeouts.connect);
    timer.async_wait([st](const error_code& ec) {
      if (!ec && !st->done) {
        st->timed_out = true;
        error_code ignored;
        st->socket->close(ignored);
      }
    });
    if (!result.connect_begin) result.connect_begin = Clock::now() - start;
    error_code ec;
    co_await conn->socket.async_connect(ep->endpoint, redirect_error(kUseAwaitable, ec));
    st->done = true;
    timer.cancel();
    if (!ec && !st->timed_out) {
      result.connect_end = Clock::now() - start;
      error_code ignored;
      conn->socket.set_option(tcp::no_delay(true), ignored);
      conn->id = NextConnectionId();
      conn->key = ep->key;
      conn->remote = ep->address;
      auto local = conn->socket.local_endpoint(ignored);
      if (!ignored) conn->local = ToAddress(local);
      result.conn = std::move(conn);
      co_return result;
    }
    result.timed_out = st->timed_out;
    rt.Eject(ep);
  }
  co_return result;
}

void LogRecord(const ListenerRuntime& rt, ListenerStats& stats, const format::StreamInfo& info) {
  for (const auto& log : rt.config.access_logs) {
    if (!log) continue;
    log->log(info);
    stats.access_log_records.inc();
  }
}

namespace {

Awaitable<void> AcceptLoop(Worker& worker, std::shared_ptr<ListenerState> ls, std::shared_ptr<Acceptor> acceptor) {
  for (;;) {
    Socket socket(worker.io());
    error_code ec;
    co_await acceptor->async_accept(socket, redirect_error(kUseAwaitable, ec));
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      ls->stats.accept_errors.inc();  // EMFILE and friends: back off briefly
      Timer t(worker.io());
      t.expires_after(std::chrono::milliseconds(10));
      co_await t.async_wait(redirect_error(kUseAwaitable, ec));
      continue;
    }
    if (worker.draining()) continue;  // closes the socket
    auto rt = ls->runtime.load();
    if (rt->config.protocol == ListenerProtocol::kHttp) {
      StartHttpSession(worker, ls, std::move(socket));
    } else {
      StartTcpSession(worker, ls, std::move(socket));
    }
  }
}

std::shared_ptr<const ListenerRuntime> BuildRuntime(const ListenerConfig& config, std::string& error) {
  auto rt = std::make_shared<ListenerRuntime>();
  rt->config = config;
  for (const auto& e : config.endpoints) {
    auto ep = ParseEndpoint(e.address);
    if (!ep) {
      error = "listener " + config.name + ": invalid endpoint address '" + e.address + "'";
      return nullptr;
    }
    auto er = std::make_unique<EndpointRuntime>();
    er->endpoint = *ep;
    er->key = e.address;
    er->host_name = e.host_name;
    er->address = ToAddress(*ep);
    rt->endpoints.push_back(std::move(er));
  }
  return rt;
}

}  // namespace

Server::Server(Options options) : options_(options) {
  if (options_.workers == 0) options_.workers = std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < options_.workers; ++i) workers_.push_back(std::make_unique<Worker>(i, options_.peer_close_epoll));
}

Server::~Server() { Stop(); }

std::string Server::Apply(const std::vector<ListenerConfig>& listeners) {
  std::lock_guard lock(mu_);
  // Validate everything first: a bad change leaves the running configuration untouched.
  std::vector<std::shared_ptr<const ListenerRuntime>> runtimes;
  for (const auto& config : listeners) {
    std::string error;
    auto rt = BuildRuntime(config, error);
    if (!rt) return error;
    if (!ParseEndpoint(config.bind_address)) {
      return "listener " + config.name + ": invalid bind address '" + config.bind_address + "'";
    }
    runtimes.push_back(std::move(rt));
  }
  // Bind new listeners (and listeners whose bind address changed).
  std::vector<std::shared_ptr<ListenerState>> fresh;
  for (size_t i = 0; i < listeners.size(); ++i) {
    const auto& config = listeners[i];
    auto it = listeners_.find(config.name);
    if (it != listeners_.end() && it->second->runtime.load()->config.bind_address == config.bind_address) continue;
    auto ls = std::make_shared<ListenerState>();
    ls->name = config.name;
    ls->runtime.store(runtimes[i]);
    tcp::endpoint ep = *ParseEndpoint(config.bind_address);
    try {
      if (ep.port() != 0) {
        // SO_REUSEPORT would let us share a port that another process (e.g. a second sidecar
        // with a clashing configuration) already listens on: probe without it first.
        Acceptor probe(workers_[0]->io());
        probe.open(ep.protocol());
        probe.set_option(asio::socket_base::reuse_address(true));  // TIME_WAIT is not "in use"
        probe.bind(ep);
      }
      for (auto& w : workers_) {
        auto acc = std::make_shared<Acceptor>(w->io());
        acc->open(ep.protocol());
        acc->set_option(asio::socket_base::reuse_address(true));
        acc->set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true));
        acc->bind(ep);
        acc->listen(asio::socket_base::max_listen_connections);
        if (ep.port() == 0) ep = acc->local_endpoint();  // the other workers bind the same port
        ls->acceptors.push_back(std::move(acc));
      }
    } catch (const boost::system::system_error& e) {
      for (auto& f : fresh) f->acceptors.clear();
      return "listener " + config.name + ": cannot listen on " + config.bind_address + ": " + e.code().message();
    }
    ls->bound = ep;
    ls->port = ep.port();
    fresh.push_back(ls);
  }
  // Commit: swap configurations, start new acceptors, stop removed ones.
  std::map<std::string, std::shared_ptr<ListenerState>, std::less<>> next;
  size_t fresh_index = 0;
  for (size_t i = 0; i < listeners.size(); ++i) {
    const auto& name = listeners[i].name;
    if (fresh_index < fresh.size() && fresh[fresh_index]->name == name) {
      next[name] = fresh[fresh_index++];
      continue;
    }
    auto ls = listeners_.at(name);
    ls->runtime.store(runtimes[i]);
    next[name] = ls;
  }
  for (auto& [name, ls] : listeners_) {
    auto it = next.find(name);
    if (it != next.end() && it->second == ls) continue;
    for (size_t w = 0; w < ls->acceptors.size(); ++w) {
      auto acc = ls->acceptors[w];
      asio::post(workers_[w]->io(), [acc] {
        error_code ignored;
        acc->close(ignored);
      });
    }
  }
  for (auto& ls : fresh) {
    for (size_t w = 0; w < ls->acceptors.size(); ++w) {
      asio::co_spawn(workers_[w]->io(), AcceptLoop(*workers_[w], ls, ls->acceptors[w]), asio::detached);
    }
  }
  listeners_ = std::move(next);
  return "";
}

void Server::Start() {
  std::lock_guard lock(mu_);
  if (started_) return;
  started_ = true;
  for (auto& w : workers_) w->Run();
}

uint16_t Server::Port(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = listeners_.find(name);
  return it == listeners_.end() ? 0 : it->second->port;
}

void Server::StopAccepting() {
  std::lock_guard lock(mu_);
  for (auto& [name, ls] : listeners_) {
    for (size_t w = 0; w < ls->acceptors.size(); ++w) {
      auto acc = ls->acceptors[w];
      asio::post(workers_[w]->io(), [acc] {
        error_code ignored;
        acc->close(ignored);
      });
    }
  }
}

int64_t Server::ActiveConnections() const {
  int64_t n = 0;
  for (const auto& w : workers_) n += w->active_sessions.load();
  return n;
}

bool Server::Drain(std::chrono::milliseconds timeout) {
  StopAccepting();
  for (auto& w : workers_) {
    Worker* wp = w.get();
    asio::post(wp->io(), [wp] { wp->DrainSessions(); });
  }
  const auto deadline = Clock::now() + timeout;
  while (ActiveConnections() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (ActiveConnections() == 0) return true;
  for (auto& w : workers_) {
    Worker* wp = w.get();
    asio::post(wp->io(), [wp] { wp->AbortSessions(); });
  }
  const auto hard = Clock::now() + std::chrono::seconds(2);
  while (ActiveConnections() > 0 && Clock::now() < hard) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return false;
}

void Server::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  for (auto& w : workers_) w->Stop();
  std::lock_guard lock(mu_);
  for (auto& [name, ls] : listeners_) ls->acceptors.clear();
}

void Server::VisitListenerStats(const ListenerStatVisitor& visit_listener) const {
  std::lock_guard lock(mu_);
  for (const auto& entry : listeners_) {
    const std::string& name = entry.first;
    const ListenerStats& stats = entry.second->stats;
    auto visit = [&](std::string_view stat, StatKind kind, double value) { visit_listener(name, stat, kind, value); };
    MESHLOG_LISTENER_STATS(MESHLOG_VISIT_STAT_COUNTER, MESHLOG_VISIT_STAT_GAUGE)
  }
}

}  // namespace meshlog::proxy
