// File: endpoints.h
//
// Where a Dataplane's outbound sends traffic in Universal mode (no control plane: the resource set
// is the whole mesh). Pure: resources in, host:port strings out.
//
// * Legacy outbound (`tags: {kuma.io/service: S}`): every inbound of the mesh's Dataplanes tagged
//   kuma.io/service=S, at the inbound's address (advertisedAddress, else networking.address) and
//   port.
// * `backendRef: {kind: MeshService, name, port}`: the MeshService's port P (the one equal to
//   backendRef.port, else its first); the Dataplanes its selector picks (dataplaneTags: inbounds
//   carrying the tags; dataplaneRef: the Dataplane of that name; dataplaneLabels: Dataplanes whose
//   labels, with those Kuma adds (EffectiveLabels), contain them); of those, the inbounds that P's targetPort names (a number: the inbound
//   port; a name: the inbound name; unset: P itself).
// * `backendRef: {kind: MeshMultiZoneService, name, port}`: the MeshServices whose labels contain
//   the MeshMultiZoneService's selector.meshService.matchLabels (EffectiveLabels: a MeshService's
//   kuma.io/display-name is its name); each contributes its endpoints for
//   the same port number, as Kuma's fillMeshMultiZoneServices does (one zone here).
// * `backendRef: {kind: MeshExternalService, name}`: its spec.endpoints (address, port defaulting
//   to match.port).
// Endpoints are deduplicated and kept in resource order (round-robin starts at the first).
//
// Example:
//   OutboundTarget t = ResolveOutbound(world, "default", dp.spec.outbound[0]);
//   t.cluster_name;   // "backend"
//   t.addresses;      // {"10.0.0.2:8080", "10.0.0.3:8080"}
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/resources.h"
#include "rules/labels.h"  // JoinHostPort, for callers that match listener addresses

namespace meshlog::rules {

struct OutboundTarget {
  std::string cluster_name;             // the destination's name (service tag or backendRef name)
  std::vector<std::string> addresses;   // host:port
  std::optional<std::string> warning;   // set when the destination kind is not supported
};

OutboundTarget ResolveOutbound(const policy::ResourceSet& world, const std::string& mesh,
                               const policy::DataplaneOutbound& outbound);

// Endpoints of one port of a MeshService (see the file comment); `port` unset picks its first port.
std::vector<std::string> MeshServiceEndpoints(const policy::ResourceSet& world, const policy::MeshServiceResource& ms,
                                              std::optional<uint32_t> port);

}  // namespace meshlog::rules
