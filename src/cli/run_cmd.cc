// `meshlog run --dataplane DP.yaml | --name NAME [--mesh default] --resources PATH...
//              [--admin 127.0.0.1:9901] [--workers N] [--drain-timeout SECONDS]
//              [--file-flush-interval-msec 1000] [--file-flush-min-size-kb 64]
//              [--tcp-log-on-connect] [--tcp-log-interval-msec 0]`
//
// The sidecar: computes the dataplane's listeners and their access logs (File, TCP and
// OpenTelemetry backends) with the policy engine
// (the same computation as `meshlog inspect`), turns them into proxy::ListenerConfig (upstreams
// from the Dataplane resources: inbound -> serviceAddress:servicePort, outbound -> the inbounds of
// every dataplane of the destination service), and runs the data plane until SIGTERM/SIGINT.
// SIGHUP, or a change of any file under --resources (polled every second), recomputes and applies
// the configuration without dropping connections; an invalid change is reported and the last good
// configuration stays. SIGUSR1 and POST /reopen_logs reopen the log files.
//
// Exit codes: 0 after a clean shutdown; 1 the dataplane is missing or a listener cannot be bound;
// 2 the resources cannot be read or are invalid at startup.
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.h"
#include "policy/load.h"
#include "policy/validate.h"
#include "proxy/admin.h"
#include "proxy/lifecycle.h"
#include "proxy/server.h"
#include "rules/endpoints.h"
#include "rules/engine.h"
#include "rules/report.h"
#include "sink/access_log_impl.h"
#include "sink/file_sink.h"
#include "sink/netsink_registry.h"
#include "sink/otlp_plugin_loader.h"

namespace meshlog::cli {
namespace {

constexpr std::string_view kServiceTag = "kuma.io/service";

struct RunArgs {
  std::string dataplane_file;
  std::string name;
  std::string mesh = "default";
  std::vector<std::string> resources;
  std::string admin = "127.0.0.1:9901";
  unsigned workers = 0;
  double drain_timeout_s = 5;
  int flush_interval_ms = 1000;
  int flush_min_size_kb = 64;
  bool tcp_log_on_connect = false;
  int tcp_log_interval_ms = 0;
};

// What one computation produced.
struct Built {
  std::vector<proxy::ListenerConfig> listeners;
  std::string config_dump;
  std::vector<std::string> warnings;
};

using rules::JoinHostPort;

// Loads, validates and computes. Returns "" and fills `out`, or the reason it could not.
std::string Compute(const RunArgs& args, sink::FileSinkRegistry& registry, sink::NetSinkRegistry& netsinks,
                    Built& out, int& exit_code) {
  std::vector<std::string> paths = args.resources;
  std::string name = args.name;
  std::string mesh = args.mesh;
  if (!args.dataplane_file.empty()) {
    const policy::ResourceSet dp_world = policy::CollectResources(policy::LoadPaths({args.dataplane_file}));
    if (dp_world.dataplanes.empty()) {
      exit_code = 2;
      return "no Dataplane resource in " + args.dataplane_file;
    }
    name = dp_world.dataplanes.front().meta.name;
    mesh = dp_world.dataplanes.front().meta.mesh;
  }
  policy::DecodeResult decoded = policy::LoadPaths(paths);
  std::string problems;
  for (const auto& e : decoded.errors) problems += e.ToString() + "\n";
  for (const auto& doc : decoded.documents) {
    const policy::ValidationReport report = policy::ValidateDocument(doc);
    const policy::ResourceMeta& meta = doc.meta();
    for (const auto& v : report.violations) {
      problems += meta.source.path + ": " + (meta.type_name.empty() ? "<unknown>" : meta.type_name) + "/" +
                  meta.name + ": " + (v.field.empty() ? "" : v.field + ": ") + v.message + "\n";
    }
  }
  if (!problems.empty()) {
    exit_code = 2;
    return "the resources are invalid (see `meshlog validate`):\n" + problems;
  }
  policy::ResourceSet world = policy::CollectResources(decoded);
  if (!args.dataplane_file.empty()) {
    bool present = false;
    for (const auto& dp : world.dataplanes) present |= dp.meta.name == name && dp.meta.mesh == mesh;
    if (!present) {
      decoded.Append(policy::LoadPaths({args.dataplane_file}));
      world = policy::CollectResources(decoded);
    }
  }
  const rules::Engine engine(world);
  const policy::DataplaneResource* dp = engine.FindDataplane(mesh, name);
  if (dp == nullptr) {
    exit_code = 1;
    return "dataplane \"" + name + "\" not found in mesh \"" + mesh + "\"";
  }
  const rules::DataplaneConfig config = engine.Compute(*dp);
  out = Built{};
  out.warnings = config.warnings;
  out.config_dump = rules::ReportJson(config).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);

  sink::FileSinkOptions file_options;
  file_options.flush_interval = std::chrono::milliseconds(args.flush_interval_ms);
  file_options.flush_bytes = static_cast<size_t>(args.flush_min_size_kb) * 1024;

  for (const rules::ListenerConfig& rl : config.listeners) {
    proxy::ListenerConfig l;
    l.name = rl.info.name;
    l.bind_address = rl.info.address;
    l.protocol = rl.info.protocol == "http" ? proxy::ListenerProtocol::kHttp : proxy::ListenerProtocol::kTcp;
    l.tcp.log_on_upstream_connect = args.tcp_log_on_connect;
    l.tcp.periodic = std::chrono::milliseconds(args.tcp_log_interval_ms);
    if (rl.info.kind == rules::ListenerKind::kInbound) {
      l.direction = proxy::Direction::kInbound;
      for (const auto& in : dp->spec.inbound) {
        if (!in.port) continue;
        const std::string host = in.address.value_or(dp->spec.address);
        if (JoinHostPort(host, *in.port) != rl.info.address) continue;
        const uint32_t service_port = in.service_port.value_or(*in.port);
        l.endpoints = {{.address = JoinHostPort(in.service_address.value_or("127.0.0.1"), service_port),
                        .host_name = ""}};
        l.cluster_name = "localhost:" + std::to_string(service_port);  // Kuma's inbound cluster name
        break;
      }
    } else if (rl.info.kind == rules::ListenerKind::kOutbound) {
      l.direction = proxy::Direction::kOutbound;
      for (const auto& ob : dp->spec.outbound) {
        if (!ob.port || JoinHostPort(ob.address.value_or("127.0.0.1"), *ob.port) != rl.info.address) continue;
        rules::OutboundTarget target = rules::ResolveOutbound(world, mesh, ob);
        l.cluster_name = std::move(target.cluster_name);
        for (auto& address : target.addresses) l.endpoints.push_back({.address = std::move(address), .host_name = ""});
        if (target.warning) out.warnings.push_back("outbound " + rl.info.address + ": " + *target.warning);
        break;
      }
    } else {
      out.warnings.push_back("listener " + rl.info.name + ": gateway and passthrough listeners are not served yet");
      continue;
    }
    for (const rules::AccessLogConfig& log : rl.access_logs) {
      const std::string who = rl.info.name + ": " + log.policy + " " + log.entry;
      if (!log.compile_error.empty()) {
        out.warnings.push_back(who + ": format rejected: " + log.compile_error);
        continue;
      }
      if (!rules::MatchToCel(log.match).empty()) {
        // Kuma filters these with a CEL expression on the peer's mTLS identity; meshlog has no
        // mTLS, so the filter can never match (as in Envoy without mTLS): no record is written.
        out.warnings.push_back(who + ": match on mTLS identity never matches without mTLS; not logged");
        continue;
      }
      try {
        if (log.backend.type == policy::BackendType::kFile && log.formatter) {
          l.access_logs.push_back(std::make_shared<sink::FormattedAccessLog>(
              log.formatter, registry.Get(log.backend.path, file_options)));
        } else if (log.backend.type == policy::BackendType::kTcp && log.formatter) {
          l.access_logs.push_back(std::make_shared<sink::FormattedAccessLog>(
              log.formatter, netsinks.tcp(sink::TcpSinkConfig{.address = log.backend.address})));
        } else if (log.backend.type == policy::BackendType::kOpenTelemetry && log.otel) {
          sink::OtlpSinkConfig otlp;
          otlp.protocol = log.backend.otel_protocol == "http" ? sink::OtlpProtocol::kHttp : sink::OtlpProtocol::kGrpc;
          otlp.endpoint = log.backend.endpoint;
          otlp.path = log.backend.path;  // the full request path, as the engine computed it
          // Envoy sends its node id; Kuma's is the proxy id "<mesh>.<dataplane name>".
          otlp.resource.node_name = mesh + "." + dp->meta.name;
          otlp.resource.kuma_mesh = mesh;
          for (const auto& [k, v] : log.backend.resource_attributes) {
            if (k == "kuma.zone") otlp.resource.kuma_zone = v;
            if (k == "kuma.workload") otlp.resource.kuma_workload = v;
          }
          for (const auto& in : dp->spec.inbound) {
            if (auto it = in.tags.find(std::string(kServiceTag)); it != in.tags.end()) {
              if (otlp.resource.cluster_name.empty() || it->second < otlp.resource.cluster_name) {
                otlp.resource.cluster_name = it->second;  // Kuma: the dataplane's identifying service
              }
            }
          }
          sink::OtelSinkPtr otel_sink;
          try {
            otel_sink = netsinks.otlp(otlp);
          } catch (const sink::OtlpPluginError& e) {
            // Not a property of this backend but of the installation: the configuration cannot
            // be served as written, so it is refused (initially: exit 1; on reload: the last
            // good configuration stays).
            exit_code = 1;
            return who + ": backend openTelemetry (endpoint " + log.backend.endpoint + "): " + e.what();
          }
          l.access_logs.push_back(std::make_shared<sink::OtelAccessLog>(log.otel, std::move(otel_sink)));
        } else {
          out.warnings.push_back(who + ": backend has no compiled format; not logged");
        }
      } catch (const std::exception& e) {
        out.warnings.push_back(who + ": backend refused: " + e.what());
      }
    }
    out.listeners.push_back(std::move(l));
  }
  return "";
}

// Size and mtime of every regular file under the paths: a change means "reload".
std::string Signature(const std::vector<std::string>& paths) {
  std::string sig;
  std::error_code ec;
  auto add = [&](const std::filesystem::path& p) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return;
    sig += p.string() + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec) + ";";
  };
  for (const auto& path : paths) {
    if (path == "-") continue;
    if (std::filesystem::is_directory(path, ec)) {
      for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
           !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (it->is_regular_file(ec)) add(it->path());
      }
    } else {
      add(path);
    }
  }
  return sig;
}

void PrintListeners(const Built& built) {
  for (const auto& w : built.warnings) std::fprintf(stderr, "meshlog run: warning: %s\n", w.c_str());
  for (const auto& l : built.listeners) {
    std::string endpoints;
    for (const auto& e : l.endpoints) endpoints += (endpoints.empty() ? "" : ",") + e.address;
    std::fprintf(stderr, "meshlog run: %s (%s) -> %s, %zu access log(s)\n", l.name.c_str(),
                 l.protocol == proxy::ListenerProtocol::kHttp ? "http" : "tcp",
                 endpoints.empty() ? "(no endpoint)" : endpoints.c_str(), l.access_logs.size());
  }
}

int RunSidecar(const RunArgs& args) {
  if (args.dataplane_file.empty() == args.name.empty()) {
    std::fprintf(stderr, "meshlog run: give exactly one of --dataplane FILE and --name NAME\n");
    return 2;
  }
  sink::FileSinkRegistry registry;
  // OpenTelemetry sinks come from meshlog-otlp.so, loaded when a configuration first needs one.
  sink::NetSinkRegistry netsinks(nullptr, sink::PluginOtlpSinkFactory());
  Built built;
  int exit_code = 0;
  if (auto err = Compute(args, registry, netsinks, built, exit_code); !err.empty()) {
    std::fprintf(stderr, "meshlog run: %s\n", err.c_str());
    return exit_code;
  }
  proxy::Server server(proxy::Server::Options{.workers = args.workers});
  if (auto err = server.Apply(built.listeners); !err.empty()) {
    std::fprintf(stderr, "meshlog run: %s\n", err.c_str());
    return 1;
  }
  PrintListeners(built);

  std::mutex mu;  // guards config_dump and reloads
  std::string config_dump = built.config_dump;
  std::vector<std::string> watched = args.resources;
  if (!args.dataplane_file.empty()) watched.push_back(args.dataplane_file);
  std::string signature = Signature(watched);
  proxy::ConfigStats config_stats;
  auto reload = [&](const char* why) {
    std::lock_guard lock(mu);
    Built next;
    int ignored = 0;
    std::string err = Compute(args, registry, netsinks, next, ignored);
    if (err.empty()) err = server.Apply(next.listeners);
    if (!err.empty()) {
      config_stats.reloads_rejected.inc();
      std::fprintf(stderr, "meshlog run: %s: change rejected, keeping the running configuration: %s\n", why,
                   err.c_str());
      return;
    }
    config_dump = next.config_dump;
    config_stats.reloads.inc();
    std::fprintf(stderr, "meshlog run: %s: configuration applied\n", why);
    PrintListeners(next);
  };

  std::unique_ptr<proxy::AdminServer> admin;
  std::atomic<bool> ready{false};
  if (!args.admin.empty()) {
    admin = std::make_unique<proxy::AdminServer>(
        args.admin, proxy::AdminCallbacks{
                        .ready = [&] { return ready.load(); },
                        .metrics =
                            [&](std::string& out) {
                              std::vector<std::shared_ptr<sink::Sink>> sinks;
                              for (auto& s : registry.All()) sinks.push_back(s);
                              // Non-owning: the registry keeps network sinks alive while we render.
                              netsinks.forEach([&](sink::Sink& s) {
                                sinks.push_back(std::shared_ptr<sink::Sink>(std::shared_ptr<void>(), &s));
                              });
                              proxy::RenderPrometheus(out, server, sinks, &config_stats);
                            },
                        .config_dump =
                            [&] {
                              std::lock_guard lock(mu);
                              return config_dump;
                            },
                        .reopen_logs = [&] { registry.ReopenAll(); }});
    if (auto err = admin->Start(); !err.empty()) {
      std::fprintf(stderr, "meshlog run: %s\n", err.c_str());
      return 1;
    }
    std::fprintf(stderr, "meshlog run: admin on %s\n", args.admin.c_str());
  }
  server.Start();
  ready = true;

  std::atomic<bool> stop_watch{false};
  std::thread watcher([&] {
    while (!stop_watch) {
      for (int i = 0; i < 10 && !stop_watch; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (stop_watch) break;
      std::string now = Signature(watched);
      if (now != signature) {
        signature = now;
        reload("resources changed");
      }
    }
  });

  const int rc = proxy::RunUntilSignal(
      server, {.drain_timeout = std::chrono::milliseconds(static_cast<int64_t>(args.drain_timeout_s * 1000)),
               .reopen = [&] { registry.ReopenAll(); },
               .reload = [&] { reload("SIGHUP"); },
               .sinks =
                   [&] {
                     std::vector<std::shared_ptr<sink::Sink>> sinks;
                     for (auto& s : registry.All()) sinks.push_back(s);
                     return sinks;
                   },
               .on_shutdown =
                   [&] {
                     ready = false;
                     stop_watch = true;
                     if (watcher.joinable()) watcher.join();
                   }});
  if (watcher.joinable()) {
    stop_watch = true;
    watcher.join();
  }
  netsinks.shutdownAll(std::chrono::seconds(5));  // after the drain: every finished request is queued
  if (admin) admin->Stop();
  return rc;
}

}  // namespace

void AddRunCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "Run the sidecar data plane of one dataplane");
  cmd->add_option("--dataplane", args->dataplane_file, "Dataplane resource file (its name and mesh are used)");
  cmd->add_option("--name", args->name, "Dataplane name to pick from --resources (instead of --dataplane)");
  cmd->add_option("--mesh", args->mesh, "Mesh of --name")->capture_default_str();
  cmd->add_option("--resources", args->resources, "Resource files or directories (every dataplane and policy)")
      ->required()
      ->expected(1, -1);
  cmd->add_option("--admin", args->admin, "Admin address (loopback only; empty disables)")->capture_default_str();
  cmd->add_option("--workers", args->workers, "Worker threads (0 = one per core)")->capture_default_str();
  cmd->add_option("--drain-timeout", args->drain_timeout_s, "Seconds to finish in-flight requests on SIGTERM")
      ->capture_default_str();
  cmd->add_option("--file-flush-interval-msec", args->flush_interval_ms, "File backend flush interval")
      ->capture_default_str();
  cmd->add_option("--file-flush-min-size-kb", args->flush_min_size_kb, "File backend flush size")
      ->capture_default_str();
  cmd->add_flag("--tcp-log-on-connect", args->tcp_log_on_connect,
                "TCP listeners also write a record when the upstream connection is established");
  cmd->add_option("--tcp-log-interval-msec", args->tcp_log_interval_ms,
                  "TCP listeners write periodic records for long connections (0 = off)")
      ->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = RunSidecar(*args); });
}

}  // namespace meshlog::cli
