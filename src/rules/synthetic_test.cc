// The synthetic mesh used by the benchmark is valid Kuma input and exercises every policy kind.
#include "rules/synthetic.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "policy/validate.h"
#include "rules/engine.h"

namespace meshlog::rules {
namespace {

TEST(Synthetic, EveryPolicyIsValidAndEveryKindIsUsed) {
  SyntheticOptions o;
  o.dataplanes = 200;
  o.policies = 300;
  o.services = 20;
  const policy::ResourceSet world = GenerateSyntheticMesh(o);
  ASSERT_EQ(world.dataplanes.size(), 200u);
  ASSERT_EQ(world.mesh_access_logs.size(), 300u);
  std::set<policy::TargetRefKind> kinds;
  for (const auto& mal : world.mesh_access_logs) {
    EXPECT_TRUE(policy::ValidateMeshAccessLog(mal.spec).empty()) << mal.meta.name;
    kinds.insert(mal.spec.EffectiveTargetRef().kind.value());
  }
  EXPECT_EQ(kinds.size(), 5u);  // Mesh, Dataplane, MeshService, MeshSubset, MeshServiceSubset
}

TEST(Synthetic, ComputedConfigsHaveTheExpectedShape) {
  SyntheticOptions o;
  o.dataplanes = 100;
  o.policies = 200;
  o.services = 10;
  const Engine engine(GenerateSyntheticMesh(o));
  size_t outbound_logs = 0;
  for (const auto& dp : engine.dataplanes()) {
    const DataplaneConfig c = engine.Compute(dp);
    ASSERT_EQ(c.listeners.size(), 6u);  // 1 inbound, 4 outbounds, passthrough
    EXPECT_EQ(c.listeners[0].info.kind, ListenerKind::kInbound);
    EXPECT_EQ(c.listeners[5].info.kind, ListenerKind::kPassthrough);
    bool mesh_rule = false;
    for (const auto& log : c.listeners[0].access_logs) {
      EXPECT_NE(log.backend.path, "/var/log/shadow.log");  // shadow policies ignored
      if (log.backend.path == "/var/log/inbound.log") mesh_rule = true;
      EXPECT_TRUE(log.compile_error.empty()) << log.compile_error;
    }
    EXPECT_TRUE(mesh_rule) << dp.meta.name;  // the Mesh catch-all rules reach every inbound
    for (size_t i = 1; i < c.listeners.size(); ++i) outbound_logs += c.listeners[i].access_logs.size();
  }
  EXPECT_GT(outbound_logs, 0u);
}

TEST(Synthetic, ComputeIsSafeFromSeveralThreadsAndDeterministic) {
  SyntheticOptions o;
  o.dataplanes = 60;
  o.policies = 200;
  o.services = 10;
  const Engine engine(GenerateSyntheticMesh(o));
  std::vector<DataplaneConfig> sequential;
  for (const auto& dp : engine.dataplanes()) sequential.push_back(engine.Compute(dp));
  std::vector<DataplaneConfig> a(engine.dataplanes().size()), b(engine.dataplanes().size());
  std::thread ta([&] {
    for (size_t i = 0; i < a.size(); ++i) a[i] = engine.Compute(engine.dataplanes()[i]);
  });
  std::thread tb([&] {
    for (size_t i = b.size(); i-- > 0;) b[i] = engine.Compute(engine.dataplanes()[i]);
  });
  ta.join();
  tb.join();
  for (size_t i = 0; i < sequential.size(); ++i) {
    for (const auto* other : {&a[i], &b[i]}) {
      ASSERT_EQ(other->listeners.size(), sequential[i].listeners.size());
      for (size_t l = 0; l < other->listeners.size(); ++l) {
        const auto& x = other->listeners[l].access_logs;
        const auto& y = sequential[i].listeners[l].access_logs;
        ASSERT_EQ(x.size(), y.size());
        for (size_t k = 0; k < x.size(); ++k) EXPECT_TRUE(x[k].SameAs(y[k]));
      }
    }
  }
}

}  // namespace
}  // namespace meshlog::rules
