// libFuzzer target: arbitrary bytes -> decoded resources -> (the valid ones) -> Engine -> every
// dataplane computed with formatters compiled, shadow policies included, both reports rendered.
// Must never crash, hang or leak whatever the (valid) resources say.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "policy/decode.h"
#include "policy/validate.h"
#include "rules/engine.h"
#include "rules/report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace meshlog;  // NOLINT(google-build-using-namespace)
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  policy::DecodeResult decoded = policy::DecodeYaml(text, "fuzz.yaml");
  policy::DecodeResult valid;
  for (auto& doc : decoded.documents) {
    if (policy::ValidateDocument(doc).valid()) valid.documents.push_back(std::move(doc));
  }
  const rules::Engine engine(policy::CollectResources(valid));
  for (const auto& dp : engine.dataplanes()) {
    rules::ComputeOptions options;
    options.include_shadow = true;
    const rules::DataplaneConfig with_shadow = engine.Compute(dp, options);
    const rules::DataplaneConfig live = engine.Compute(dp);
    (void)rules::ReportJson(with_shadow, &live).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    (void)rules::ReportText(live);
  }
  return 0;
}
