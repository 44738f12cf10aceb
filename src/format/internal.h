// File: internal.h
//
// Pieces of the formatter shared between formatter.cc and otel_template.cc (not a public API).
#pragma once

#include <string>
#include <string_view>

#include "format/escape.h"
#include "format/formatter.h"

namespace meshlog::format::internal {

// CompilePlain with a choice of escaping for values from traffic: Utf8Check::kYes also rewrites
// bytes that are not valid UTF-8 as \xHH (OpenTelemetry string values must be UTF-8).
Compiled<FormatterPtr> CompilePlain(std::string_view format, OmitEmptyValues omit_empty_values, Utf8Check utf8);

}  // namespace meshlog::format::internal
