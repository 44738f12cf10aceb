#include "proxy/lifecycle.h"

#include <csignal>
#include <cstdio>

#include "proxy/internal.h"

namespace meshlog::proxy {

int RunUntilSignal(Server& server, const LifecycleOptions& options) {
  asio::io_context io(1);
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.add(SIGUSR1);
  signals.add(SIGHUP);
  bool stop = false;
  std::function<void(const error_code&, int)> on_signal = [&](const error_code& ec, int sig) {
    if (ec) return;
    if (sig == SIGUSR1) {
      if (options.reopen) options.reopen();
    } else if (sig == SIGHUP) {
      if (options.reload) options.reload();
    } else {
      stop = true;
      return;
    }
    signals.async_wait(on_signal);
  };
  signals.async_wait(on_signal);
  while (!stop && io.run_one() > 0) {
  }
  std::fprintf(stderr, "meshlog: shutting down: draining for up to %lld ms\n",
               static_cast<long long>(options.drain_timeout.count()));
  if (options.on_shutdown) options.on_shutdown();
  const bool clean = server.Drain(options.drain_timeout);
  if (!clean) std::fprintf(stderr, "meshlog: drain timeout: aborted the remaining connections (logged)\n");
  server.Stop();
  if (options.sinks) {
    for (const auto& sink : options.sinks()) {
      if (sink) sink->shutdown(std::chrono::seconds(5));
    }
  }
  return 0;
}

}  // namespace meshlog::proxy
