#include <cstdio>

#include "cli/commands.h"

#ifndef MESHLOG_VERSION
#define MESHLOG_VERSION "0.0.0"
#endif

namespace meshlog::cli {

void AddVersionCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("version", "Print the meshlog version");
  cmd->callback([&exit_code] {
    std::printf("meshlog %s\n", MESHLOG_VERSION);
    exit_code = 0;
  });
}

}  // namespace meshlog::cli
