// libFuzzer target: arbitrary bytes -> DecodeYaml -> ValidateDocument for every document, plus
// the string predicates used by validation on the raw input. Must never crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/decode.h"
#include "policy/patterns.h"
#include "policy/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  meshlog::policy::DecodeResult result = meshlog::policy::DecodeYaml(text, "fuzz.yaml");
  for (const auto& doc : result.documents) {
    meshlog::policy::ValidationReport report = meshlog::policy::ValidateDocument(doc);
    (void)report;
    if (const auto* mal = std::get_if<meshlog::policy::MeshAccessLogResource>(&doc.resource)) {
      if (mal->spec.rules) {
        for (const auto& rule : *mal->spec.rules) {
          if (!rule.default_conf.backends) continue;
          for (const auto& b : *rule.default_conf.backends) {
            if (b.open_telemetry && b.open_telemetry->body) (void)b.open_telemetry->body->ToCanonicalJson();
          }
        }
      }
    }
  }
  if (size < 256) {
    (void)meshlog::policy::IsGovalidatorURL(text);
    (void)meshlog::policy::IsGovalidatorFilePath(text);
    (void)meshlog::policy::IsGoJSON(text);
    (void)meshlog::policy::SpiffeIdError(text);
    (void)meshlog::policy::Dns1123SubdomainErrors(text);
  }
  return 0;
}
