// File: world.h
//
// Loading a mesh world for the engine: read resources (files, directories, `-`), refuse invalid
// input with `meshlog validate`'s messages, and index what is valid. Shared by `meshlog inspect`
// and the sidecar (`meshlog run`), so both compute from exactly the same input rules.
//
// Example (what a sidecar does at start-up and on every resource change):
//   rules::LoadedWorld world = rules::LoadWorld({"mesh/"});
//   if (!world.ok()) { for (auto& e : world.errors) std::cerr << e << "\n"; return 2; }
//   const policy::DataplaneResource* dp = world.engine->FindDataplane("default", "web-1");
//   if (dp == nullptr) return 1;
//   rules::DataplaneConfig config = world.engine->Compute(*dp);   // formatters compiled
//   for (const rules::ListenerConfig& l : config.listeners) { /* bind l.info.address ... */ }
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rules/engine.h"

namespace meshlog::rules {

struct LoadedWorld {
  // Source errors ("<path>:<line>:<col>: <message>") and validation violations
  // ("<path>: <Type>/<name>: <field>: <message>", as `meshlog validate` prints them).
  std::vector<std::string> errors;
  // Kuma's deprecation warnings and decoder notes ("<path>: <Type>/<name>: warning: <message>").
  std::vector<std::string> warnings;
  std::unique_ptr<Engine> engine;  // null when errors is not empty
  bool ok() const { return errors.empty() && engine != nullptr; }
};

LoadedWorld LoadWorld(const std::vector<std::string>& paths);

}  // namespace meshlog::rules
