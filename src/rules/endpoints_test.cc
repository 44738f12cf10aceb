// ResolveOutbound: which inbounds (or external endpoints) an outbound of a Dataplane reaches.
#include "rules/endpoints.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy/decode.h"

namespace meshlog::rules {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Backends 1 and 2 carry service "backend" (inbounds named "http" on 8080 and "admin" on 9901);
// backend-3 is another mesh; web-1 has the outbounds under test.
constexpr std::string_view kMesh = R"(
type: Dataplane
mesh: default
name: backend-1
labels: {app: backend, zone: east}
networking:
  address: 10.0.0.1
  inbound:
  - port: 8080
    name: http
    tags: {kuma.io/service: backend, version: v1}
  - port: 9901
    name: admin
    tags: {kuma.io/service: backend-admin}
---
type: Dataplane
mesh: default
name: backend-2
labels: {app: backend, zone: west}
networking:
  address: 10.0.0.2
  advertisedAddress: 192.168.0.2
  inbound:
  - port: 8080
    name: http
    tags: {kuma.io/service: backend, version: v2}
---
type: Dataplane
mesh: other
name: backend-3
networking:
  address: 10.0.0.3
  inbound:
  - port: 8080
    tags: {kuma.io/service: backend}
---
type: MeshService
mesh: default
name: backend-tags
labels: {kuma.io/display-name: backend, team: core}
spec:
  selector:
    dataplaneTags: {kuma.io/service: backend}
  ports:
  - {port: 80, targetPort: 8080, appProtocol: http}
---
type: MeshService
mesh: default
name: backend-v2
labels: {team: core}
spec:
  selector:
    dataplaneTags: {version: v2}
  ports:
  - {port: 80, targetPort: http, appProtocol: http}
---
type: MeshService
mesh: default
name: backend-ref
spec:
  selector:
    dataplaneRef: {name: backend-1}
  ports:
  - {port: 9901, appProtocol: tcp}
  - {port: 80, targetPort: http, appProtocol: http}
---
type: MeshService
mesh: default
name: backend-labels
labels: {team: edge}
spec:
  selector:
    dataplaneLabels: {app: backend}
  ports:
  - {port: 80, targetPort: 8080}
---
type: MeshMultiZoneService
mesh: default
name: backend-all
spec:
  selector:
    meshService:
      matchLabels: {team: core}
  ports:
  - {port: 80, appProtocol: http}
---
type: MeshMultiZoneService
mesh: default
name: backend-v2-everywhere
spec:
  selector:
    meshService:
      matchLabels: {kuma.io/display-name: backend-v2}
  ports:
  - {port: 80, appProtocol: http}
---
type: MeshExternalService
mesh: default
name: httpbin
spec:
  match: {type: HostnameGenerator, port: 80, protocol: http}
  endpoints:
  - {address: httpbin.org, port: 443}
  - {address: 2001:db8::1}
)";

policy::ResourceSet World() { return policy::CollectResources(policy::DecodeYaml(kMesh, "mesh.yaml")); }

policy::DataplaneOutbound ByTag(const std::string& service) {
  policy::DataplaneOutbound ob;
  ob.port = 10001;
  ob.tags["kuma.io/service"] = service;
  return ob;
}

policy::DataplaneOutbound ByRef(const std::string& kind, const std::string& name, std::optional<uint32_t> port) {
  policy::DataplaneOutbound ob;
  ob.port = 10001;
  policy::OutboundBackendRef ref;
  ref.kind = kind;
  ref.name = name;
  ref.port = port;
  ob.backend_ref = ref;
  return ob;
}

TEST(ResolveOutbound, ServiceTagReachesEveryInboundOfTheServiceInTheMesh) {
  const auto world = World();
  const OutboundTarget t = ResolveOutbound(world, "default", ByTag("backend"));
  EXPECT_EQ(t.cluster_name, "backend");
  EXPECT_THAT(t.addresses, ElementsAre("10.0.0.1:8080", "192.168.0.2:8080"));  // advertisedAddress wins
  EXPECT_FALSE(t.warning.has_value());
  EXPECT_THAT(ResolveOutbound(world, "other", ByTag("backend")).addresses, ElementsAre("10.0.0.3:8080"));
  EXPECT_THAT(ResolveOutbound(world, "default", ByTag("nobody")).addresses, IsEmpty());
}

TEST(ResolveOutbound, MeshServiceSelectorsAndTargetPorts) {
  const auto world = World();
  struct Case {
    std::string name;
    std::optional<uint32_t> port;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {"backend-tags", 80, {"10.0.0.1:8080", "192.168.0.2:8080"}},    // dataplaneTags, numeric targetPort
      {"backend-tags", 81, {}},                                       // no such port
      {"backend-tags", std::nullopt, {"10.0.0.1:8080", "192.168.0.2:8080"}},  // first port
      {"backend-v2", 80, {"192.168.0.2:8080"}},                       // targetPort by inbound name
      {"backend-ref", 80, {"10.0.0.1:8080"}},                         // dataplaneRef
      {"backend-ref", 9901, {"10.0.0.1:9901"}},                       // targetPort unset: the port itself
      {"backend-labels", 80, {"10.0.0.1:8080", "192.168.0.2:8080"}},  // dataplaneLabels
      {"ghost", 80, {}},
  };
  for (const auto& c : cases) {
    const OutboundTarget t = ResolveOutbound(world, "default", ByRef("MeshService", c.name, c.port));
    EXPECT_EQ(t.cluster_name, c.name);
    EXPECT_EQ(t.addresses, c.want) << c.name << " port " << c.port.value_or(0);
    EXPECT_FALSE(t.warning.has_value());
  }
}

TEST(ResolveOutbound, MeshMultiZoneServiceUnionsTheMatchedMeshServicesOnThePortNumber) {
  const auto world = World();
  // team=core matches backend-tags (both backends) and backend-v2 (backend-2 only): deduplicated.
  OutboundTarget t = ResolveOutbound(world, "default", ByRef("MeshMultiZoneService", "backend-all", 80));
  EXPECT_EQ(t.cluster_name, "backend-all");
  EXPECT_THAT(t.addresses, ElementsAre("10.0.0.1:8080", "192.168.0.2:8080"));
  EXPECT_FALSE(t.warning.has_value());
  EXPECT_THAT(ResolveOutbound(world, "default", ByRef("MeshMultiZoneService", "backend-all", 9901)).addresses,
              IsEmpty());
  EXPECT_THAT(ResolveOutbound(world, "other", ByRef("MeshMultiZoneService", "backend-all", 80)).addresses, IsEmpty());
  // Labels Kuma adds to stored resources count: backend-v2 has no kuma.io/display-name label of
  // its own, yet matchLabels {kuma.io/display-name: backend-v2} selects it.
  EXPECT_THAT(ResolveOutbound(world, "default", ByRef("MeshMultiZoneService", "backend-v2-everywhere", 80)).addresses,
              ElementsAre("192.168.0.2:8080"));
}

TEST(ResolveOutbound, MeshExternalServiceEndpointsDefaultToTheMatchPort) {
  const OutboundTarget t = ResolveOutbound(World(), "default", ByRef("MeshExternalService", "httpbin", std::nullopt));
  EXPECT_EQ(t.cluster_name, "httpbin");
  EXPECT_THAT(t.addresses, ElementsAre("httpbin.org:443", "[2001:db8::1]:80"));
}

TEST(ResolveOutbound, UnsupportedKindsAndUntaggedOutboundsWarn) {
  const auto world = World();
  const OutboundTarget t = ResolveOutbound(world, "default", ByRef("MeshHTTPRoute", "r", 80));
  EXPECT_THAT(t.addresses, IsEmpty());
  ASSERT_TRUE(t.warning.has_value());
  EXPECT_EQ(*t.warning, "MeshHTTPRoute endpoints are not supported: requests get 503 UH");
  policy::DataplaneOutbound bare;
  bare.port = 10002;
  EXPECT_TRUE(ResolveOutbound(world, "default", bare).warning.has_value());
}

}  // namespace
}  // namespace meshlog::rules
