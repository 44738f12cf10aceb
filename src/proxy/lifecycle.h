// File: lifecycle.h
//
// RunUntilSignal: the sidecar's main loop on the calling thread.
//   SIGUSR1          -> reopen every file sink (log rotation)
//   SIGHUP           -> the reload callback (re-read configuration; the caller applies it)
//   SIGTERM / SIGINT -> stop accepting, finish in-flight requests up to `drain_timeout`, flush and
//                       shut down every sink (no record of a finished request is lost), return 0.
//
// Example:
//   int rc = RunUntilSignal(server, {.drain_timeout = std::chrono::seconds(5),
//                                    .reopen = [&] { registry.ReopenAll(); },
//                                    .reload = [&] { Reload(); },
//                                    .sinks = [&] { return AllSinks(); }});
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "proxy/server.h"
#include "sink/sink.h"

namespace meshlog::proxy {

struct LifecycleOptions {
  std::chrono::milliseconds drain_timeout{5000};
  std::function<void()> reopen;
  std::function<void()> reload;
  // Every sink to flush and shut down at exit (called once, at shutdown).
  std::function<std::vector<std::shared_ptr<sink::Sink>>()> sinks;
  // Called when shutdown starts (e.g. to stop the admin server).
  std::function<void()> on_shutdown;
};

int RunUntilSignal(Server& server, const LifecycleOptions& options);

}  // namespace meshlog::proxy
