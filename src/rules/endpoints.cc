#include "rules/endpoints.h"

#include <set>

namespace meshlog::rules {

namespace {

constexpr std::string_view kServiceTag = "kuma.io/service";

std::string InboundAddress(const policy::DataplaneResource& dp, const policy::DataplaneInbound& in) {
  return JoinHostPort(in.address.value_or(dp.spec.advertised_address.value_or(dp.spec.address)), *in.port);
}

// Appends `address` unless it is already there.
void Add(std::vector<std::string>& out, std::set<std::string>& seen, std::string address) {
  if (seen.insert(address).second) out.push_back(std::move(address));
}

void AppendMeshServiceEndpoints(const policy::ResourceSet& world, const policy::MeshServiceResource& ms,
                                std::optional<uint32_t> port, std::vector<std::string>& out,
                                std::set<std::string>& seen) {
  const policy::ServicePort* sp = nullptr;
  for (const auto& p : ms.spec.ports) {
    if (!port || p.port == *port) {
      sp = &p;
      break;
    }
  }
  if (sp == nullptr) return;
  for (const auto& dp : world.dataplanes) {
    if (dp.meta.mesh != ms.meta.mesh) continue;
    const bool by_tags = !ms.spec.selector_dataplane_tags.empty();
    if (ms.spec.selector_dataplane_ref && dp.meta.name != *ms.spec.selector_dataplane_ref) continue;
    if (ms.spec.selector_dataplane_labels && !TagsMatch(*ms.spec.selector_dataplane_labels, EffectiveLabels(dp.meta))) {
      continue;
    }
    if (!by_tags && !ms.spec.selector_dataplane_ref && !ms.spec.selector_dataplane_labels) continue;  // selects nothing
    for (const auto& in : dp.spec.inbound) {
      if (!in.port) continue;
      if (by_tags && !TagsMatch(ms.spec.selector_dataplane_tags, in.tags)) continue;
      if (sp->target_port_name) {
        if (in.name != sp->target_port_name) continue;
      } else if (*in.port != sp->target_port.value_or(sp->port)) {
        continue;
      }
      Add(out, seen, InboundAddress(dp, in));
    }
  }
}

}  // namespace

std::vector<std::string> MeshServiceEndpoints(const policy::ResourceSet& world, const policy::MeshServiceResource& ms,
                                              std::optional<uint32_t> port) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  AppendMeshServiceEndpoints(world, ms, port, out, seen);
  return out;
}

OutboundTarget ResolveOutbound(const policy::ResourceSet& world, const std::string& mesh,
                               const policy::DataplaneOutbound& ob) {
  OutboundTarget t;
  std::set<std::string> seen;
  if (ob.backend_ref) {
    const auto& ref = *ob.backend_ref;
    t.cluster_name = ref.name;
    if (ref.kind == "MeshService") {
      for (const auto& ms : world.mesh_services) {
        if (ms.meta.name == ref.name && ms.meta.mesh == mesh) AppendMeshServiceEndpoints(world, ms, ref.port, t.addresses, seen);
      }
    } else if (ref.kind == "MeshMultiZoneService") {
      for (const auto& mzs : world.mesh_multi_zone_services) {
        if (mzs.meta.name != ref.name || mzs.meta.mesh != mesh) continue;
        if (mzs.spec.selector_mesh_service_labels.empty()) continue;  // matches no MeshService
        // The port of the MeshMultiZoneService (backendRef.port, else its first) is looked up by
        // number in every matched MeshService.
        std::optional<uint32_t> port = ref.port;
        if (!port && !mzs.spec.ports.empty()) port = mzs.spec.ports.front().port;
        for (const auto& ms : world.mesh_services) {
          if (ms.meta.mesh != mesh || !TagsMatch(mzs.spec.selector_mesh_service_labels, EffectiveLabels(ms.meta))) {
            continue;
          }
          AppendMeshServiceEndpoints(world, ms, port, t.addresses, seen);
        }
      }
    } else if (ref.kind == "MeshExternalService") {
      for (const auto& mes : world.mesh_external_services) {
        if (mes.meta.name != ref.name || mes.meta.mesh != mesh) continue;
        for (const auto& e : mes.spec.endpoints) {
          Add(t.addresses, seen, JoinHostPort(e.address, e.port.value_or(mes.spec.match_port)));
        }
      }
    } else {
      t.warning = ref.kind + " endpoints are not supported: requests get 503 UH";
    }
    return t;
  }
  auto it = ob.tags.find(std::string(kServiceTag));
  if (it == ob.tags.end()) {
    t.warning = "outbound without kuma.io/service tag or backendRef: requests get 503 UH";
    return t;
  }
  t.cluster_name = it->second;
  for (const auto& dp : world.dataplanes) {
    if (dp.meta.mesh != mesh) continue;
    for (const auto& in : dp.spec.inbound) {
      auto svc = in.tags.find(std::string(kServiceTag));
      if (!in.port || svc == in.tags.end() || svc->second != it->second) continue;
      Add(t.addresses, seen, InboundAddress(dp, in));
    }
  }
  return t;
}

}  // namespace meshlog::rules
