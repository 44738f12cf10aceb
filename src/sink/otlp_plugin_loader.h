// File: otlp_plugin_loader.h
//
// Finds and loads meshlog-otlp.so (otlp_plugin.h) the first time a configuration needs an
// OpenTelemetry backend, so a File/TCP-only sidecar never maps gRPC, protobuf or OpenSSL.
//
// Lookup order (the first loadable plugin with this binary's ABI wins):
//   1. $MESHLOG_PLUGIN_DIR (when set and not empty)
//   2. the directory of /proc/self/exe (the build tree: build/<preset>/src/cli/)
//   3. <that directory>/../lib/meshlog/ (an installed tree: bin/meshlog, lib/meshlog/meshlog-otlp.so)
// A plugin whose ABI string differs from the binary's is refused (and the search goes on); when
// none can be loaded, OtlpPluginError lists every path tried with its reason (dlerror(), missing
// entry point, ABI mismatch). A loaded plugin is never unloaded.
//
// Example:
//   NetSinkRegistry netsinks(nullptr, PluginOtlpSinkFactory());
//   netsinks.otlp(config);   // loads the plugin on first use; throws OtlpPluginError if it cannot
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "sink/netsink_registry.h"
#include "sink/otlp_plugin.h"

namespace meshlog::sink {

// The plugin could not be loaded (the message names every path tried and why).
class OtlpPluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The ABI string this binary was built with (MESHLOG_OTLP_PLUGIN_ABI).
const char* OtlpPluginAbi();

// The directories searched, in order (see above).
std::vector<std::string> OtlpPluginSearchDirs();

// Loads kOtlpPluginFileName from the first of `dirs` that holds a plugin with this binary's ABI.
// Throws OtlpPluginError when none does.
const OtlpPluginApi& LoadOtlpPlugin(const std::vector<std::string>& dirs);

// The OTLP sink factory of the `meshlog` binary: on its first call loads the plugin from
// OtlpPluginSearchDirs() (a failed load is tried again on the next call, e.g. on a reload after
// the plugin was installed). Throws OtlpPluginError (plugin missing) or std::invalid_argument
// (bad endpoint). The registry's IoThread is not used: the plugin has its own.
OtlpSinkFactory PluginOtlpSinkFactory();

}  // namespace meshlog::sink
