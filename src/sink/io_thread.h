// File: io_thread.h
//
// IoThread: one boost::asio::io_context run by exactly one thread, shared by every network sink
// (TCP connections, OTLP/HTTP connections, batching and retry timers of OTLP/gRPC).
//
// Why one thread for all network sinks rather than one per sink: the sinks do little CPU work per
// byte (batch assembly, one copy, large write syscalls), so one thread sustains well over 1M
// records/s (see docs/benchmarks.md) while the proxy's worker threads keep the cores; a thread
// per destination would add a context switch per wake-up and per-destination stacks for no
// throughput gain. Because exactly one thread runs the context, sink state touched only from
// handlers needs no locks. gRPC keeps its own completion threads; the OTLP/gRPC transport hands
// results back to this thread with asio::post. In the `meshlog` binary the OTLP sinks live in the
// plugin meshlog-otlp.so (otlp_plugin.h), which runs them on an IoThread of its own
// ("meshlog-otlp"): the binary's and the plugin's copies of Asio never share an io_context.
//
// Example:
//   auto io = std::make_shared<IoThread>("meshlog-netio");
//   boost::asio::post(io->context(), [] { /* runs on the I/O thread */ });
//   io.reset();  // stops the context and joins the thread
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace meshlog::sink {

class IoThread {
 public:
  explicit IoThread(std::string name = "meshlog-netio");
  ~IoThread();
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  boost::asio::io_context& context() { return *context_; }
  // True when called from the I/O thread itself.
  bool inThread() const { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  // Shared with the thread: when the last owner lets go from inside a handler (a sink released
  // by its own completion handler), the thread is detached and destroys the context itself
  // after run() returns, instead of joining itself.
  std::shared_ptr<boost::asio::io_context> context_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
};
using IoThreadPtr = std::shared_ptr<IoThread>;

}  // namespace meshlog::sink
