// `meshlog inspect --resources PATH... --dataplane NAME [--mesh default] [--shadow]
//                  [--output text|json]`: shows, per listener of a dataplane, which access logs it
// writes (backend, format with placeholders bound, match filter) and which policy entry produced
// each one (see docs/inspect.md).
//
// Exit codes: 0 computed; 1 the dataplane is not in the resources; 2 a source could not be read,
// or a resource is invalid (the messages are `meshlog validate`'s, on stderr).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "rules/engine.h"
#include "rules/report.h"
#include "rules/world.h"

namespace meshlog::cli {
namespace {

struct InspectArgs {
  std::vector<std::string> resources;
  std::string dataplane;
  std::string mesh = "default";
  bool shadow = false;
  std::string output = "text";
};

int RunInspect(const InspectArgs& args) {
  const rules::LoadedWorld world = rules::LoadWorld(args.resources);
  if (!world.ok()) {
    for (const auto& e : world.errors) std::cerr << e << "\n";
    std::cerr << "meshlog inspect: the resources are invalid (see `meshlog validate`); nothing computed\n";
    return 2;
  }
  const rules::Engine& engine = *world.engine;
  const policy::DataplaneResource* dp = engine.FindDataplane(args.mesh, args.dataplane);
  if (dp == nullptr) {
    std::cerr << "meshlog inspect: dataplane \"" << args.dataplane << "\" not found in mesh \"" << args.mesh
              << "\"\n";
    return 1;
  }
  rules::ComputeOptions options;
  options.include_shadow = args.shadow;
  const rules::DataplaneConfig config = engine.Compute(*dp, options);
  rules::DataplaneConfig baseline;
  if (args.shadow) baseline = engine.Compute(*dp, rules::ComputeOptions{});
  for (const auto& w : config.warnings) std::cerr << "warning: " << w << "\n";
  if (args.output == "json") {
    std::cout << rules::ReportJson(config, args.shadow ? &baseline : nullptr)
                     .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
              << "\n";
  } else {
    std::cout << rules::ReportText(config, args.shadow ? &baseline : nullptr);
  }
  return 0;
}

}  // namespace

void AddInspectCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<InspectArgs>();
  auto* cmd = app.add_subcommand("inspect", "Show the access logs each listener of a dataplane writes, and why");
  cmd->add_option("--resources", args->resources, "Resource files, directories or - (stdin)")
      ->required()
      ->expected(1, -1);
  cmd->add_option("--dataplane", args->dataplane, "Dataplane name")->required();
  cmd->add_option("--mesh", args->mesh, "Mesh of the dataplane")->capture_default_str();
  cmd->add_flag("--shadow", args->shadow, "Apply shadow policies (kuma.io/effect: shadow) and mark what changes");
  cmd->add_option("--output", args->output, "Output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cmd->callback([args, &exit_code] { exit_code = RunInspect(*args); });
}

}  // namespace meshlog::cli
