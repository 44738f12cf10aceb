#include "sink/netsink_registry.h"

#include <stdexcept>
#include <thread>
#include <vector>

#include "sink/net_address.h"

namespace meshlog::sink {

NetSinkRegistry::NetSinkRegistry(IoThreadPtr io) : io_(io ? std::move(io) : std::make_shared<IoThread>()) {}

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

std::shared_ptr<OtlpSink> NetSinkRegistry::otlp(const OtlpSinkConfig& config) {
  auto hp = ParseHostPort(config.endpoint, 4317);
  if (!hp) throw std::invalid_argument("otlp sink: endpoint must be host[:port], got \"" + config.endpoint + "\"");
  const auto& r = config.resource;
  std::string key = (config.protocol == OtlpProtocol::kGrpc ? "grpc|" : "http|" + OtlpHttpLogsPath(config.path) + "|") +
                    hp->toString();
  for (const std::string* f : {&r.log_name, &r.zone_name, &r.cluster_name, &r.node_name, &r.kuma_mesh, &r.kuma_zone,
                               &r.kuma_workload}) {
    key += '\x1f';
    key += *f;
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = otlp_[key];
  if (!slot) slot = OtlpSink::Create(io_, config);
  return slot;
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
