#include "sink/netsink_registry.h"

#include <stdexcept>
#include <thread>
#include <vector>

#include "sink/net_address.h"

namespace meshlog::sink {

NetSinkRegistry::NetSinkRegistry(IoThreadPtr io, OtlpSinkFactory otlp_factory)
    : io_(io ? std::move(io) : std::make_shared<IoThread>()), otlp_factory_(std::move(otlp_factory)) {}

NetSinkRegistry::~NetSinkRegistry() { shutdownAll(std::chrono::milliseconds(0)); }

std::shared_ptr<TcpSink> NetSinkRegistry::tcp(const TcpSinkConfig& config) {
  auto hp = ParseHostPort(config.address);
  if (!hp) throw std::invalid_argument("tcp sink: address must be host:port, got \"" + config.address + "\"");
  const std::string key = hp->toString();
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = tcp_[key];
  if (!slot) slot = TcpSink::Create(io_, config);
  return slot;
}

OtelSinkPtr NetSinkRegistry::otlp(const OtlpSinkConfig& config) {
  auto hp = ParseHostPort(config.endpoint, 4317);
  if (!hp) throw std::invalid_argument("otlp sink: endpoint must be host[:port], got \"" + config.endpoint + "\"");
  const auto& r = config.resource;
  std::string key = (config.protocol == OtlpProtocol::kGrpc ? "grpc|" : "http|" + OtlpHttpRequestPath(config) + "|") +
                    hp->toString();
  for (const std::string* f : {&r.log_name, &r.zone_name, &r.cluster_name, &r.node_name, &r.kuma_mesh, &r.kuma_zone,
                               &r.kuma_workload}) {
    key += '\x1f';
    key += *f;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = otlp_.find(key); it != otlp_.end()) return it->second;
  if (!otlp_factory_) throw std::invalid_argument("otlp sink: this program was built without OpenTelemetry support");
  OtelSinkPtr sink = otlp_factory_(io_, config);  // may throw: then nothing is registered
  if (!sink) throw std::invalid_argument("otlp sink: the factory made no sink for \"" + config.endpoint + "\"");
  otlp_.emplace(key, sink);
  return sink;
}

void NetSinkRegistry::forEach(const std::function<void(Sink&)>& fn) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [k, s] : tcp_) fn(*s);
  for (auto& [k, s] : otlp_) fn(*s);
}

void NetSinkRegistry::shutdownAll(std::chrono::milliseconds deadline) {
  std::vector<std::shared_ptr<Sink>> sinks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [k, s] : tcp_) sinks.push_back(s);
    for (auto& [k, s] : otlp_) sinks.push_back(s);
  }
  std::vector<std::thread> threads;
  for (auto& s : sinks) threads.emplace_back([s, deadline] { s->shutdown(deadline); });  // idempotent
  for (auto& t : threads) t.join();
}

}  // namespace meshlog::sink
