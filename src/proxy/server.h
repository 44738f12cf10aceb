// File: server.h
//
// Server: the multi-core data plane. N worker threads, each with its own asio::io_context; every
// listener is bound once per worker with SO_REUSEPORT, so the kernel spreads new connections over
// the workers' accept queues and a connection lives its whole life on one event loop (no locks or
// cross-thread hand-off on the data path, no thundering herd; the cost is hash imbalance with few
// long-lived connections, which the kernel's 4-tuple hash makes rare).
//
// HTTP listeners proxy HTTP/1.1 (one access-log record per request), TCP listeners proxy bytes with
// half-close (one record per connection). See listener_config.h for the input.
//
// Configuration changes apply without dropping connections: Apply() binds new listeners, swaps the
// configuration of existing ones (endpoints, access logs, timeouts; used by new requests and new
// connections) and stops accepting on removed ones (their connections finish normally).
//
// Lifecycle: Start() -> ... -> StopAccepting() -> Drain(timeout) -> Stop(). Records of requests
// that finish during the drain are written; requests still running at the timeout are aborted and
// logged too.
//
// Example:
//   Server server(Server::Options{.workers = 2});
//   std::string err = server.Apply({listener});   // binds; "" on success
//   server.Start();
//   uint16_t port = server.Port("inbound:web");   // the bound port (useful with port 0)
//   ...
//   server.StopAccepting();
//   server.Drain(std::chrono::seconds(5));
//   server.Stop();
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/stats.h"
#include "proxy/listener_config.h"

namespace meshlog::proxy {

// Per-listener stats. Every failure path increments a named counter.
#define MESHLOG_LISTENER_STATS(COUNTER, GAUGE)                                                       \
  COUNTER(connections) GAUGE(active_connections) COUNTER(requests) GAUGE(active_requests)             \
  COUNTER(responses_1xx) COUNTER(responses_2xx) COUNTER(responses_3xx) COUNTER(responses_4xx)         \
  COUNTER(responses_5xx) COUNTER(local_replies) COUNTER(protocol_errors) COUNTER(request_timeouts)    \
  COUNTER(no_healthy_upstream) COUNTER(upstream_connect_failures) COUNTER(upstream_timeouts)          \
  COUNTER(upstream_resets) COUNTER(downstream_resets) COUNTER(upstream_connections)                   \
  COUNTER(upstream_pool_reuses) COUNTER(upstream_pool_retries) COUNTER(upgrades) COUNTER(access_log_records) COUNTER(accept_errors)  \
  COUNTER(downstream_bytes_received) COUNTER(downstream_bytes_sent)

struct ListenerStats {
  MESHLOG_LISTENER_STATS(MESHLOG_DECLARE_COUNTER, MESHLOG_DECLARE_GAUGE)
};

struct ListenerState;
class Worker;

class Server {
 public:
  struct Options {
    unsigned workers = 1;
    // Notice clients that leave during an upstream wait through each worker's own epoll set
    // (Worker::WatchPeerClose). Off: a 1-byte read per request does it (the fallback used when
    // that set cannot be created; tests run both).
    bool peer_close_epoll = true;
  };

  explicit Server(Options options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Adds, updates and removes listeners (see the file comment). Returns "" on success or the
  // error of the first listener that could not be bound or parsed; then nothing was changed.
  std::string Apply(const std::vector<ListenerConfig>& listeners);
  void Start();
  // The bound port of a listener; 0 when unknown.
  uint16_t Port(std::string_view listener_name) const;
  void StopAccepting();
  // Waits until no connection is left or `timeout` passed, then aborts what is left (those
  // requests are logged). Returns true when everything finished in time.
  bool Drain(std::chrono::milliseconds timeout);
  void Stop();

  using ListenerStatVisitor =
      std::function<void(std::string_view listener, std::string_view stat, StatKind kind, double value)>;
  void VisitListenerStats(const ListenerStatVisitor& visit) const;
  int64_t ActiveConnections() const;

 private:
  Options options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<ListenerState>, std::less<>> listeners_;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace meshlog::proxy
