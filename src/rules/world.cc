#include "rules/world.h"

#include "policy/load.h"
#include "policy/validate.h"

namespace meshlog::rules {

LoadedWorld LoadWorld(const std::vector<std::string>& paths) {
  LoadedWorld out;
  const policy::DecodeResult decoded = policy::LoadPaths(paths);
  for (const auto& e : decoded.errors) out.errors.push_back(e.ToString());
  for (const auto& doc : decoded.documents) {
    const policy::ValidationReport report = policy::ValidateDocument(doc);
    const policy::ResourceMeta& meta = doc.meta();
    const std::string prefix =
        meta.source.path + ": " + (meta.type_name.empty() ? "<unknown>" : meta.type_name) + "/" + meta.name + ": ";
    for (const auto& w : report.warnings) out.warnings.push_back(prefix + "warning: " + w);
    for (const auto& v : report.violations) {
      out.errors.push_back(prefix + (v.field.empty() ? "" : v.field + ": ") + v.message);
    }
  }
  if (out.errors.empty()) out.engine = std::make_unique<Engine>(policy::CollectResources(decoded));
  return out;
}

}  // namespace meshlog::rules
