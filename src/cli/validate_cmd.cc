// `meshlog validate [--output text|json] PATH...`: validates Kuma resources exactly as Kuma v2.14
// does (see docs/validate.md). PATH is a file, a directory (every *.yaml/*.yml/*.json below it) or
// `-` for stdin.
//
// Exit codes: 0 every resource valid; 1 at least one violation; 2 a source could not be read or
// is not valid YAML (the message names file, line and column).
//
// Output (stdout):
//   text: one line per violation, `<path>: <type>/<name>: <field>: <message>` (`<field>: ` is left
//         out when Kuma reports the violation without a field). Warnings go to stderr as
//         `<path>: <type>/<name>: warning: <message>`, source errors as `<path>:<line>:<col>: <message>`.
//   json: {"resources":[{"source","index","type","mesh","name","valid","violations":[{"field","message"}],
//         "warnings":[...]}]} plus "errors":[{"source","line","column","message"}] when a source failed.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "policy/load.h"
#include "policy/validate.h"

namespace meshlog::cli {
namespace {

struct Result {
  const policy::DecodedDocument* doc;
  policy::ValidationReport report;
};

std::string TypeOf(const policy::ResourceMeta& meta) { return meta.type_name.empty() ? "<unknown>" : meta.type_name; }

int RunValidate(const std::vector<std::string>& paths, const std::string& output) {
  const policy::DecodeResult decoded = policy::LoadPaths(paths);
  std::vector<Result> results;
  results.reserve(decoded.documents.size());
  size_t invalid = 0;
  for (const auto& doc : decoded.documents) {
    results.push_back({&doc, policy::ValidateDocument(doc)});
    if (!results.back().report.valid()) ++invalid;
  }

  if (output == "json") {
    using nlohmann::ordered_json;
    ordered_json resources = ordered_json::array();
    for (const Result& r : results) {
      const policy::ResourceMeta& meta = r.doc->meta();
      ordered_json violations = ordered_json::array();
      for (const auto& v : r.report.violations) violations.push_back({{"field", v.field}, {"message", v.message}});
      ordered_json warnings = ordered_json::array();
      for (const auto& w : r.report.warnings) warnings.push_back(w);
      resources.push_back({{"source", meta.source.path},
                           {"index", meta.source.document_index},
                           {"type", meta.type_name},
                           {"mesh", meta.mesh},
                           {"name", meta.name},
                           {"valid", r.report.valid()},
                           {"violations", std::move(violations)},
                           {"warnings", std::move(warnings)}});
    }
    ordered_json out = {{"resources", std::move(resources)}};
    if (!decoded.errors.empty()) {
      ordered_json errors = ordered_json::array();
      for (const auto& e : decoded.errors) {
        errors.push_back({{"source", e.path}, {"line", e.line}, {"column", e.column}, {"message", e.message}});
      }
      out["errors"] = std::move(errors);
    }
    std::cout << out.dump(-1, ' ', false, ordered_json::error_handler_t::replace) << "\n";
  } else {
    for (const Result& r : results) {
      const policy::ResourceMeta& meta = r.doc->meta();
      const std::string prefix = meta.source.path + ": " + TypeOf(meta) + "/" + meta.name + ": ";
      for (const auto& w : r.report.warnings) std::cerr << prefix << "warning: " << w << "\n";
      for (const auto& v : r.report.violations) {
        std::cout << prefix << (v.field.empty() ? "" : v.field + ": ") << v.message << "\n";
      }
    }
  }
  for (const auto& e : decoded.errors) std::cerr << e.ToString() << "\n";
  std::cout.flush();
  if (output != "json") {
    std::cerr << "validated " << results.size() << " resource(s): " << results.size() - invalid << " valid, " << invalid
              << " invalid" << (decoded.errors.empty() ? "" : ", " + std::to_string(decoded.errors.size()) + " unreadable source(s)")
              << "\n";
  }
  if (!decoded.errors.empty()) return 2;
  return invalid > 0 ? 1 : 0;
}

}  // namespace

void AddValidateCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("validate", "Validate Kuma resources (MeshAccessLog, ...) exactly as Kuma v2.14 does");
  auto paths = std::make_shared<std::vector<std::string>>();
  auto output = std::make_shared<std::string>("text");
  cmd->add_option("--output,-o", *output, "Output format")->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("PATH", *paths, "File, directory (*.yaml, *.yml, *.json below it) or - for stdin")->required();
  cmd->callback([paths, output, &exit_code] { exit_code = RunValidate(*paths, *output); });
}

}  // namespace meshlog::cli
