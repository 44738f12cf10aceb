#include "policy/resources.h"

#include <array>
#include <utility>

namespace meshlog::policy {
namespace {

constexpr std::array<std::pair<ResourceType, std::string_view>, 7> kResourceTypes{{
    {ResourceType::kMeshAccessLog, "MeshAccessLog"},
    {ResourceType::kDataplane, "Dataplane"},
    {ResourceType::kMeshService, "MeshService"},
    {ResourceType::kMeshExternalService, "MeshExternalService"},
    {ResourceType::kMeshMultiZoneService, "MeshMultiZoneService"},
    {ResourceType::kMeshGateway, "MeshGateway"},
    {ResourceType::kMeshOpenTelemetryBackend, "MeshOpenTelemetryBackend"},
}};

constexpr std::array<std::pair<TargetRefKind, std::string_view>, 9> kTargetRefKinds{{
    {TargetRefKind::kMesh, "Mesh"},
    {TargetRefKind::kMeshSubset, "MeshSubset"},
    {TargetRefKind::kMeshGateway, "MeshGateway"},
    {TargetRefKind::kMeshService, "MeshService"},
    {TargetRefKind::kMeshExternalService, "MeshExternalService"},
    {TargetRefKind::kMeshMultiZoneService, "MeshMultiZoneService"},
    {TargetRefKind::kMeshServiceSubset, "MeshServiceSubset"},
    {TargetRefKind::kMeshHTTPRoute, "MeshHTTPRoute"},
    {TargetRefKind::kDataplane, "Dataplane"},
}};

}  // namespace

std::string_view ResourceTypeName(ResourceType type) {
  for (const auto& [t, name] : kResourceTypes) {
    if (t == type) return name;
  }
  return "";
}

std::optional<ResourceType> ParseResourceType(std::string_view name) {
  for (const auto& [t, n] : kResourceTypes) {
    if (n == name) return t;
  }
  return std::nullopt;
}

std::string_view TargetRefKindName(TargetRefKind kind) {
  for (const auto& [k, name] : kTargetRefKinds) {
    if (k == kind) return name;
  }
  return "";
}

std::optional<TargetRefKind> ParseTargetRefKind(std::string_view name) {
  for (const auto& [k, n] : kTargetRefKinds) {
    if (n == name) return k;
  }
  return std::nullopt;
}

std::string_view ProxyTypeName(ProxyType type) { return type == ProxyType::kSidecar ? "Sidecar" : "Gateway"; }

std::string_view FormatTypeName(FormatType type) { return type == FormatType::kPlain ? "Plain" : "Json"; }

std::string_view BackendTypeName(BackendType type) {
  switch (type) {
    case BackendType::kTcp: return "Tcp";
    case BackendType::kFile: return "File";
    case BackendType::kOpenTelemetry: return "OpenTelemetry";
  }
  return "";
}

const std::string& ResourceMeta::DisplayName() const {
  auto it = labels.find("kuma.io/display-name");
  return it != labels.end() ? it->second : name;
}

TargetRef MeshAccessLogSpec::EffectiveTargetRef() const {
  if (target_ref) return *target_ref;
  TargetRef mesh;
  mesh.kind = TargetRefKind::kMesh;
  return mesh;
}

const ResourceMeta& MetaOf(const AnyResource& r) {
  return std::visit([](const auto& res) -> const ResourceMeta& { return res.meta; }, r);
}

void ResourceSet::Add(AnyResource r) {
  std::visit(
      [this](auto&& res) {
        using T = std::decay_t<decltype(res)>;
        if constexpr (std::is_same_v<T, MeshAccessLogResource>) {
          mesh_access_logs.push_back(std::move(res));
        } else if constexpr (std::is_same_v<T, DataplaneResource>) {
          dataplanes.push_back(std::move(res));
        } else if constexpr (std::is_same_v<T, MeshServiceResource>) {
          mesh_services.push_back(std::move(res));
        } else if constexpr (std::is_same_v<T, MeshExternalServiceResource>) {
          mesh_external_services.push_back(std::move(res));
        } else if constexpr (std::is_same_v<T, MeshMultiZoneServiceResource>) {
          mesh_multi_zone_services.push_back(std::move(res));
        } else if constexpr (std::is_same_v<T, MeshGatewayResource>) {
          mesh_gateways.push_back(std::move(res));
        } else if constexpr (std::is_same_v<T, MeshOpenTelemetryBackendResource>) {
          mesh_open_telemetry_backends.push_back(std::move(res));
        } else {
          others.push_back(std::move(res));
        }
      },
      std::move(r));
}

}  // namespace meshlog::policy
