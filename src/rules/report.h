// File: report.h
//
// Renders a DataplaneConfig the way `meshlog inspect` prints it: JSON (a contract other tools
// depend on, see docs/inspect.md) or a table for people.
//
// JSON shape (keys in this order):
//   {"mesh":"default","dataplane":"web-1","proxy_type":"sidecar",
//    "listeners":[{"name":"inbound:127.0.0.1:20001","direction":"INBOUND","protocol":"http",
//       "address":"127.0.0.1:20001","source_service":"unknown","destination_service":"web",
//       "source_address":"127.0.0.1",
//       "access_logs":[{"policy":"all-incoming","entry":"rules[0]",
//          "backend":{"type":"File","path":"/tmp/in.log"},
//          "format":{"type":"Plain","value":"[%START_TIME%] ...\n","omit_empty_values":false},
//          "match":null}]}]}
//
// With a `baseline` (the result without shadow policies, for `inspect --shadow`), the report says
// what applying the shadow policies changes: top-level "shadow":true, every access log gets
// "shadow":"added"|"unchanged", and every listener "shadow_removed":[access logs that disappear].
//
// Example:
//   std::string json = rules::ReportJson(engine.Compute(*dp)).dump();
//   std::string table = rules::ReportText(engine.Compute(*dp));
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "rules/engine.h"

namespace meshlog::rules {

nlohmann::ordered_json ReportJson(const DataplaneConfig& config, const DataplaneConfig* baseline = nullptr);

// A readable table of the same information.
std::string ReportText(const DataplaneConfig& config, const DataplaneConfig* baseline = nullptr);

// An OtelValue in OTLP's protobuf-JSON form ({"stringValue":"x"}, {"kvlistValue":{"values":[...]}}).
nlohmann::ordered_json OtelValueJson(const format::OtelValue& value);

}  // namespace meshlog::rules
