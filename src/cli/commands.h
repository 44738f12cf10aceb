// File: commands.h
//
// Each subcommand of the `meshlog` binary lives in its own file (validate_cmd.cc, format_cmd.cc,
// ...) and registers itself on the root CLI11 app through one Add*Command function. The callback
// stores the process exit code in `exit_code`.
//
// Example (in main.cc):
//   CLI::App app{"meshlog"};
//   int exit_code = 0;
//   AddValidateCommand(app, exit_code);
//   CLI11_PARSE(app, argc, argv);
//   return exit_code;
#pragma once

#include <CLI/CLI.hpp>

namespace meshlog::cli {

void AddVersionCommand(CLI::App& app, int& exit_code);
void AddFormatCommand(CLI::App& app, int& exit_code);
void AddValidateCommand(CLI::App& app, int& exit_code);
void AddInspectCommand(CLI::App& app, int& exit_code);
void AddDemoAppCommand(CLI::App& app, int& exit_code);
void AddRunCommand(CLI::App& app, int& exit_code);

}  // namespace meshlog::cli
