// File: admin.h
//
// AdminServer: the sidecar's admin HTTP endpoint, bound to a loopback address only.
//   GET  /ready        -> 200 "LIVE\n" when the ready callback says so, else 503
//   GET  /metrics      -> Prometheus text exposition (listener and access-log backend stats)
//   GET  /config_dump  -> the JSON string supplied by the caller (application/json)
//   POST /reopen_logs  -> calls the reopen callback (log rotation), 200 "OK\n"
// Anything else -> 404; a wrong method on a known path -> 405.
//
// RenderPrometheus() renders the stats of a Server and a set of sinks:
//   meshlog_listener_requests_total{listener="inbound:web"} 12
//   meshlog_listener_active_connections{listener="inbound:web"} 1
//   meshlog_access_log_written_total{backend="file",destination="/tmp/a.log"} 12
//   meshlog_access_log_queued{backend="file",destination="/tmp/a.log"} 0
// and, when given, the sidecar's configuration reloads (ConfigStats):
//   meshlog_config_reloads_total 3            (changes applied after startup: files or SIGHUP)
//   meshlog_config_reloads_rejected_total 1   (invalid changes refused; the last good one stays)
//
// Example:
//   AdminServer admin("127.0.0.1:9901", {.ready = [] { return true; },
//                                        .metrics = [&](std::string& out) { RenderPrometheus(out, server, sinks); },
//                                        .config_dump = [] { return std::string("{}"); },
//                                        .reopen_logs = [&] { registry.ReopenAll(); }});
//   std::string err = admin.Start();   // "" on success
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "proxy/server.h"
#include "sink/sink.h"

namespace meshlog::proxy {

// Configuration reloads of the sidecar (`meshlog run`): every reload attempt ends in exactly one
// of them.
#define MESHLOG_CONFIG_STATS(COUNTER, GAUGE) COUNTER(reloads) COUNTER(reloads_rejected)

struct ConfigStats {
  MESHLOG_CONFIG_STATS(MESHLOG_DECLARE_COUNTER, MESHLOG_DECLARE_GAUGE)
};

struct AdminCallbacks {
  std::function<bool()> ready;
  std::function<void(std::string& out)> metrics;
  std::function<std::string()> config_dump;
  std::function<void()> reopen_logs;
};

class AdminServer {
 public:
  AdminServer(std::string address, AdminCallbacks callbacks);
  ~AdminServer();
  // Binds (loopback addresses only) and starts serving on its own thread. "" on success.
  std::string Start();
  void Stop();
  uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Appends the Prometheus text exposition of the server's listener stats, the sinks' stats and,
// when `config` is not null, the reload stats (families meshlog_config_*, no labels).
void RenderPrometheus(std::string& out, const Server& server, const std::vector<std::shared_ptr<sink::Sink>>& sinks,
                      const ConfigStats* config = nullptr);

}  // namespace meshlog::proxy
