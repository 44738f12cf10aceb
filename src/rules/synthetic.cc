#include "rules/synthetic.h"

#include <utility>
#include <vector>

namespace meshlog::rules {

using namespace policy;  // NOLINT(google-build-using-namespace): a generator of policy resources

namespace {

std::string Svc(uint32_t i) { return "svc-" + std::to_string(i); }
std::string Version(uint32_t i) { return "v" + std::to_string(i % 3); }

Backend FileBackendTo(std::string path) {
  Backend b;
  b.type = BackendType::kFile;
  b.file = FileBackend{std::nullopt, std::move(path)};
  return b;
}

Backend TcpJsonBackend() {
  Backend b;
  b.type = BackendType::kTcp;
  Format f;
  f.type = FormatType::kJson;
  f.json = std::vector<JsonValue>{{"start_time", "%START_TIME%"},
                                  {"source", "%KUMA_SOURCE_SERVICE%"},
                                  {"destination", "%KUMA_DESTINATION_SERVICE%"},
                                  {"status", "%RESPONSE_CODE%"},
                                  {"duration", "%DURATION%"}};
  b.tcp = TcpBackend{f, "logstash.logging:5000"};
  return b;
}

Backend OtelRefBackend() {
  Backend b;
  b.type = BackendType::kOpenTelemetry;
  OtelBackend o;
  o.backend_ref = BackendResourceRef{BackendRefKind::kMeshOpenTelemetryBackend, {{"app", "otel-collector"}}};
  o.attributes = std::vector<OtelAttribute>{{"kuma.mesh", "%KUMA_MESH%"}, {"path", "%REQ(:PATH)%"}};
  b.open_telemetry = std::move(o);
  return b;
}

Conf ConfOf(std::vector<Backend> backends) {
  Conf c;
  c.backends = std::move(backends);
  return c;
}

TargetRef Ref(TargetRefKind kind) {
  TargetRef t;
  t.kind = kind;
  return t;
}

}  // namespace

ResourceSet GenerateSyntheticMesh(const SyntheticOptions& o) {
  ResourceSet world;
  uint64_t order = 0;
  auto meta = [&](ResourceType type, std::string name) {
    ResourceMeta m;
    m.type = type;
    m.type_name = std::string(ResourceTypeName(type));
    m.name = std::move(name);
    m.mesh = o.mesh;
    m.creation_order = order++;
    return m;
  };
  const uint32_t services = o.services == 0 ? 1 : o.services;

  for (uint32_t s = 0; s < services; ++s) {
    MeshServiceResource ms;
    ms.meta = meta(ResourceType::kMeshService, Svc(s));
    ms.spec.selector_dataplane_tags = {{"kuma.io/service", Svc(s)}};
    ServicePort http;
    http.name = "http";
    http.port = 80;
    http.target_port = 8080;
    http.app_protocol = (s % 4 == 3) ? "tcp" : "http";
    ms.spec.ports.push_back(http);
    world.mesh_services.push_back(std::move(ms));
  }
  for (uint32_t i = 0; i < 3; ++i) {
    MeshOpenTelemetryBackendResource motb;
    motb.meta = meta(ResourceType::kMeshOpenTelemetryBackend, "otel-" + std::to_string(i));
    motb.meta.labels = {{"app", "otel-collector"}};
    motb.spec.endpoint_address = "collector-" + std::to_string(i) + ".observability";
    world.mesh_open_telemetry_backends.push_back(std::move(motb));
  }

  for (uint32_t i = 0; i < o.dataplanes; ++i) {
    const uint32_t s = i % services;
    DataplaneResource dp;
    dp.meta = meta(ResourceType::kDataplane, "dp-" + std::to_string(i));
    dp.meta.labels = {{"app", Svc(s)}, {"version", Version(i / services)}, {"kuma.io/zone", "zone-1"}};
    dp.spec.address = "10." + std::to_string((i >> 16) & 255) + "." + std::to_string((i >> 8) & 255) + "." +
                      std::to_string(i & 255);
    DataplaneInbound in;
    in.port = 8080;
    in.name = "http";
    in.tags = {{"kuma.io/service", Svc(s)},
               {"kuma.io/protocol", (s % 4 == 3) ? "tcp" : "http"},
               {"version", Version(i / services)}};
    dp.spec.inbound.push_back(std::move(in));
    for (uint32_t k = 0; k < o.outbounds_per_dataplane; ++k) {
      const uint32_t target = (s * 7 + k * 13 + 1) % services;
      DataplaneOutbound out;
      out.port = 20000 + k;
      if (k % 2 == 0) {
        OutboundBackendRef ref;
        ref.kind = "MeshService";
        ref.name = Svc(target);
        ref.port = 80;
        out.backend_ref = std::move(ref);
      } else {
        out.tags = {{"kuma.io/service", Svc(target)}};
      }
      dp.spec.outbound.push_back(std::move(out));
    }
    dp.spec.transparent_proxying = TransparentProxying{15006, 15001};
    world.dataplanes.push_back(std::move(dp));
  }

  for (uint32_t i = 0; i < o.policies; ++i) {
    MeshAccessLogResource mal;
    mal.meta = meta(ResourceType::kMeshAccessLog, "mal-" + std::to_string(i));
    MeshAccessLogSpec& spec = mal.spec;
    const uint32_t bucket = i % 100;
    const uint32_t svc = (i * 37) % services;
    auto to = [&](TargetRef ref, Conf conf) {
      spec.to = std::vector<To>{To{std::move(ref), std::move(conf)}};
    };
    auto rules = [&](std::optional<std::vector<Match>> matches, Conf conf) {
      spec.rules = std::vector<Rule>{Rule{std::move(matches), std::move(conf)}};
    };
    auto dp_labels = [&] {
      TargetRef t = Ref(TargetRefKind::kDataplane);
      t.labels = StringMap{{"app", Svc(svc)}};
      spec.target_ref = t;
    };
    TargetRef ms = Ref(TargetRefKind::kMeshService);
    ms.name = Svc((svc * 7 + 1) % services);  // a service dataplanes of `svc` call
    if (bucket <= 1) {
      to(Ref(TargetRefKind::kMesh), ConfOf({FileBackendTo("/var/log/mesh-" + std::to_string(i) + ".log")}));
    } else if (bucket == 2) {
      rules(std::nullopt, ConfOf({FileBackendTo("/var/log/inbound.log")}));
    } else if (bucket == 3) {
      to(Ref(TargetRefKind::kMesh), ConfOf({OtelRefBackend()}));
    } else if (bucket <= 33) {
      dp_labels();
      to(ms, ConfOf({TcpJsonBackend()}));
    } else if (bucket <= 48) {
      TargetRef t = Ref(TargetRefKind::kDataplane);
      t.name = "dp-" + std::to_string((i * 101) % (o.dataplanes ? o.dataplanes : 1));
      spec.target_ref = t;
      Match m;
      m.spiffe_id = SpiffeIdMatch{SpiffeIdMatchType::kExact, "spiffe://default/ns/x/sa/" + Svc(svc)};
      rules(std::vector<Match>{m}, ConfOf({FileBackendTo("/var/log/spiffe.log")}));
    } else if (bucket <= 63) {
      TargetRef t = Ref(TargetRefKind::kMeshService);
      t.name = Svc(svc);
      spec.target_ref = t;
      rules(std::nullopt, ConfOf({FileBackendTo("/var/log/" + Svc(svc) + ".log")}));
    } else if (bucket <= 73) {
      TargetRef t = Ref(TargetRefKind::kMeshSubset);
      t.tags = StringMap{{"version", Version(i)}};
      spec.target_ref = t;
      TargetRef legacy = Ref(TargetRefKind::kMeshService);
      legacy.name = Svc((svc * 7 + 14) % services);  // a tag-based outbound of `svc`'s dataplanes
      to(legacy, ConfOf({FileBackendTo("/var/log/legacy.log")}));
    } else if (bucket <= 83) {
      dp_labels();
      TargetRef section = ms;
      section.section_name = "http";
      to(section, ConfOf({FileBackendTo("/var/log/section.log"), TcpJsonBackend()}));
    } else if (bucket <= 91) {
      TargetRef t = Ref(TargetRefKind::kMeshServiceSubset);
      t.name = Svc(svc);
      t.tags = StringMap{{"version", Version(i)}};
      spec.target_ref = t;
      rules(std::nullopt, ConfOf({FileBackendTo("/var/log/subset.log")}));
    } else if (bucket <= 96) {
      dp_labels();
      to(ms, ConfOf({}));
    } else {
      mal.meta.labels = {{"kuma.io/effect", "shadow"}};
      rules(std::nullopt, ConfOf({FileBackendTo("/var/log/shadow.log")}));
    }
    world.mesh_access_logs.push_back(std::move(mal));
  }
  return world;
}

}  // namespace meshlog::rules
