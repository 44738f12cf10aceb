// A stand-in meshlog-otlp.so built for another ABI (another meshlog version): the loader must
// refuse it without calling create_sink (otlp_plugin_loader_test.cc).
#include "sink/otlp_plugin.h"

namespace {
constexpr meshlog::sink::OtlpPluginApi kApi{"0.0.0+0000000000000000", nullptr};
}

extern "C" __attribute__((visibility("default"))) const meshlog::sink::OtlpPluginApi* meshlog_otlp_plugin() {
  return &kApi;
}
