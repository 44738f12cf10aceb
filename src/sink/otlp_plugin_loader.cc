#include "sink/otlp_plugin_loader.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string_view>

#include "sink/otlp_plugin_abi.h"

namespace meshlog::sink {

const char* OtlpPluginAbi() { return MESHLOG_OTLP_PLUGIN_ABI; }

std::vector<std::string> OtlpPluginSearchDirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("MESHLOG_PLUGIN_DIR"); env != nullptr && *env != '\0') dirs.emplace_back(env);
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec && exe.has_parent_path()) {
    const std::filesystem::path dir = exe.parent_path();
    dirs.push_back(dir.string());
    dirs.push_back((dir.parent_path() / "lib" / "meshlog").string());
  }
  return dirs;
}

const OtlpPluginApi& LoadOtlpPlugin(const std::vector<std::string>& dirs) {
  std::string tried;
  for (const std::string& dir : dirs) {
    const std::string path = (std::filesystem::path(dir) / kOtlpPluginFileName).string();
    tried += "\n  " + path + ": ";
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* err = ::dlerror();
      std::string_view reason = err != nullptr ? err : "dlopen failed";
      if (reason.substr(0, path.size() + 2) == path + ": ") reason.remove_prefix(path.size() + 2);  // path once
      tried += reason;
      continue;
    }
    auto entry = reinterpret_cast<MeshlogOtlpPluginEntry>(::dlsym(handle, kOtlpPluginEntrySymbol));
    if (entry == nullptr) {
      const char* err = ::dlerror();
      tried += std::string("not a meshlog plugin: ") + (err != nullptr ? err : kOtlpPluginEntrySymbol);
      ::dlclose(handle);
      continue;
    }
    const OtlpPluginApi* api = entry();
    if (api == nullptr || api->abi == nullptr || std::strcmp(api->abi, MESHLOG_OTLP_PLUGIN_ABI) != 0) {
      tried += std::string("version mismatch: the plugin is ") + (api && api->abi ? api->abi : "(none)") +
               ", this meshlog needs " + MESHLOG_OTLP_PLUGIN_ABI + " (install the plugin built with this binary)";
      ::dlclose(handle);
      continue;
    }
    return *api;  // never dlclose()d: its sinks live until the process ends
  }
  if (dirs.empty()) tried = "\n  (no directory to search)";
  throw OtlpPluginError(std::string("the OpenTelemetry backend needs the plugin ") + kOtlpPluginFileName +
                        ", which could not be loaded (set MESHLOG_PLUGIN_DIR to its directory); tried:" + tried);
}

OtlpSinkFactory PluginOtlpSinkFactory() {
  return [](const IoThreadPtr&, const OtlpSinkConfig& config) -> OtelSinkPtr {
    static std::mutex mu;
    static const OtlpPluginApi* api = nullptr;
    const OtlpPluginApi* loaded;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (api == nullptr) api = &LoadOtlpPlugin(OtlpPluginSearchDirs());
      loaded = api;
    }
    std::string error;
    OtelSinkPtr sink = loaded->create_sink(config, &error);
    if (!sink) throw std::invalid_argument(error);
    return sink;
  };
}

}  // namespace meshlog::sink
