// The `meshlog` binary: one subcommand per user-facing job.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"meshlog: a service-mesh data plane that implements Kuma's MeshAccessLog policy"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  int exit_code = 0;

  meshlog::cli::AddVersionCommand(app, exit_code);
  meshlog::cli::AddFormatCommand(app, exit_code);
  meshlog::cli::AddValidateCommand(app, exit_code);
  meshlog::cli::AddInspectCommand(app, exit_code);
  meshlog::cli::AddDemoAppCommand(app, exit_code);
  meshlog::cli::AddRunCommand(app, exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    // Usage errors exit 2 (like the "cannot read input" class of errors), help exits 0.
    return rc == 0 ? 0 : 2;
  }
  return exit_code;
}
