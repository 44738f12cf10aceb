// File: labels.h
//
// Small helpers the policy engine and the endpoint resolution share: how Kuma matches labels and
// tags, the labels a resource carries once stored by a control plane, and "host:port".
//
// Example:
//   TagsMatch({{"app", "web"}}, dp.meta.labels);       // every (k, v) of the first is in the second
//   EffectiveLabels(ms.meta).at("kuma.io/display-name");  // the resource name
//   JoinHostPort("::1", 80);                            // "[::1]:80"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "policy/resources.h"

namespace meshlog::rules {

// Every (k, v) of `subset` is in `tags`.
inline bool TagsMatch(const policy::StringMap& subset, const policy::StringMap& tags) {
  for (const auto& [k, v] : subset) {
    auto it = tags.find(k);
    if (it == tags.end() || it->second != v) return false;
  }
  return true;
}

// A resource's labels plus those Kuma's control plane adds when it stores it: kuma.io/display-name
// (the name), k8s.kuma.io/namespace (Kubernetes) and kuma.io/mesh. Label selectors (targetRef
// labels, MeshMultiZoneService matchLabels, dataplaneLabels) match against these.
inline policy::StringMap EffectiveLabels(const policy::ResourceMeta& meta) {
  policy::StringMap l = meta.labels;
  l.emplace("kuma.io/display-name", meta.name);
  if (meta.namespace_) l.emplace("k8s.kuma.io/namespace", *meta.namespace_);
  l.emplace("kuma.io/mesh", meta.mesh);
  return l;
}

// "host:port"; an IPv6 host goes in brackets.
inline std::string JoinHostPort(std::string_view host, uint32_t port) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  out.append(":").append(std::to_string(port));
  return out;
}

}  // namespace meshlog::rules
