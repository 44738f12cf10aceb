// meshlog-otlp.so: the OpenTelemetry plugin (otlp_plugin.h). Exports `meshlog_otlp_plugin` only;
// everything else (OtlpSink, the gRPC and HTTP transports, Asio) stays private to the plugin.
#include "sink/otlp_plugin.h"

#include <exception>
#include <memory>
#include <mutex>

#include "sink/io_thread.h"
#include "sink/otlp_plugin_abi.h"
#include "sink/otlp_sink.h"

namespace meshlog::sink {
namespace {

// One I/O thread for every OTLP sink of the process, started with the first sink and stopped
// when the last one is gone.
IoThreadPtr SharedIoThread() {
  static std::mutex mu;
  static std::weak_ptr<IoThread> shared;
  std::lock_guard<std::mutex> lock(mu);
  IoThreadPtr io = shared.lock();
  if (!io) {
    io = std::make_shared<IoThread>("meshlog-otlp");
    shared = io;
  }
  return io;
}

OtelSinkPtr CreateSink(const OtlpSinkConfig& config, std::string* error) {
  try {
    return OtlpSink::Create(SharedIoThread(), config);
  } catch (const std::exception& e) {
    if (error != nullptr) *error = e.what();
  } catch (...) {
    if (error != nullptr) *error = "unknown error";
  }
  return nullptr;
}

constexpr OtlpPluginApi kApi{MESHLOG_OTLP_PLUGIN_ABI, &CreateSink};

}  // namespace
}  // namespace meshlog::sink

extern "C" __attribute__((visibility("default"))) const meshlog::sink::OtlpPluginApi* meshlog_otlp_plugin() {
  return &meshlog::sink::kApi;
}
