// LoadWorld: invalid input is refused with validate's messages; valid input gives an engine.
#include "rules/world.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace meshlog::rules {
namespace {

std::string WriteTemp(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / ("rules_world_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path) << text;
  return path.string();
}

TEST(LoadWorld, InvalidResourcesGiveValidateMessagesAndNoEngine) {
  const std::string path = WriteTemp("bad.yaml", R"(type: MeshAccessLog
name: broken
mesh: default
spec:
  rules:
  - default:
      backends:
      - type: File
        file: {path: logs.txt}
)");
  LoadedWorld w = LoadWorld({path});
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.engine, nullptr);
  EXPECT_THAT(w.errors, ::testing::ElementsAre(
                            path + ": MeshAccessLog/broken: spec.rules[0].default.backends[0].file.path: "
                                   "file backend requires a valid path"));
}

TEST(LoadWorld, UnreadablePathIsAnError) {
  LoadedWorld w = LoadWorld({"/nonexistent/rules_world_test.yaml"});
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.errors.size(), 1u);
}

TEST(LoadWorld, ValidResourcesGiveAnEngineAndWarnings) {
  const std::string path = WriteTemp("good.yaml", R"(type: Dataplane
name: web-1
mesh: default
networking:
  address: 10.0.0.1
  inbound:
  - port: 80
    tags: {kuma.io/service: web}
---
type: MeshAccessLog
name: in
mesh: default
spec:
  from:
  - targetRef: {kind: Mesh}
    default:
      backends: [{type: File, file: {path: /tmp/in.log}}]
)");
  LoadedWorld w = LoadWorld({path});
  ASSERT_TRUE(w.ok());
  EXPECT_THAT(w.warnings, ::testing::ElementsAre(path + ": MeshAccessLog/in: warning: 'from' field is deprecated, use 'rules' instead"));
  const auto* dp = w.engine->FindDataplane("default", "web-1");
  ASSERT_NE(dp, nullptr);
  const DataplaneConfig c = w.engine->Compute(*dp);
  ASSERT_EQ(c.listeners.size(), 1u);
  ASSERT_EQ(c.listeners[0].access_logs.size(), 1u);
  EXPECT_EQ(c.listeners[0].access_logs[0].entry, "from[0]");
}

}  // namespace
}  // namespace meshlog::rules
