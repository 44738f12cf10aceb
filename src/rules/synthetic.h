// File: synthetic.h
//
// A deterministic generator of synthetic mesh worlds for the policy-engine benchmark and scale
// tests: N dataplanes spread over services, one MeshService per service, a few
// MeshOpenTelemetryBackends, and M MeshAccessLog policies of mixed kinds (Mesh-wide `to` and
// `rules`, Dataplane by labels / by name, MeshService, MeshSubset, MeshServiceSubset, real-resource
// and legacy `to` entries, sectionName, `backends: []`, spiffeID matches, shadow policies).
//
// Example:
//   SyntheticOptions o;
//   o.dataplanes = 10'000;
//   o.policies = 1'000;
//   policy::ResourceSet world = GenerateSyntheticMesh(o);
//   rules::Engine engine(world);
//   for (const auto& dp : engine.dataplanes()) engine.Compute(dp);
#pragma once

#include <cstdint>
#include <string>

#include "policy/resources.h"

namespace meshlog::rules {

struct SyntheticOptions {
  uint32_t dataplanes = 10'000;
  uint32_t policies = 1'000;
  uint32_t services = 1'000;  // dataplanes are spread evenly over services (svc-0, svc-1, ...)
  uint32_t outbounds_per_dataplane = 4;  // half real MeshService outbounds, half tag-based
  std::string mesh = "default";
};

// Policy mix (by policy index i, i % 100): 0-1 Mesh `to: Mesh` File; 2 Mesh catch-all `rules`;
// 3 Mesh `to: Mesh` OpenTelemetry backendRef; 4-33 Dataplane(labels app) `to: MeshService` (real)
// Tcp JSON; 34-48 Dataplane(name) `rules` with a spiffeID match; 49-63 MeshService `rules`;
// 64-73 MeshSubset(version) `to: MeshService` by name (legacy); 74-83 Dataplane(labels)
// `to: MeshService` sectionName http; 84-91 MeshServiceSubset `rules`; 92-96 Dataplane(labels)
// `to: MeshService` with `backends: []`; 97-99 shadow Mesh `rules`.
policy::ResourceSet GenerateSyntheticMesh(const SyntheticOptions& options);

}  // namespace meshlog::rules
