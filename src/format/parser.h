// File: parser.h
//
// Envoy's format-string grammar (formatter.md section 1): literals, "%%", and commands matching
// ^%((?:[A-Z]|[0-9]|_)+)(?:\((.*?)\))?(?::([0-9]+))?% at each '%' (RE2 semantics: the subcommand
// is the SHORTEST text up to a ')' that is followed by '%' or ':<digits>%', and, RE2's '.' being
// UTF-8 and not matching newlines, cannot contain a line feed or invalid UTF-8). The result is a list of Pieces, each "literal text, then optionally one operator",
// built once at configuration time.
//
// Example:
//   std::string error;
//   auto parsed = ParseFormat("[%START_TIME%] %%", &error);
//   // parsed->pieces: {"[", START_TIME}, {"] %", no op}; parsed->provider_count == 3
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/operators.h"

namespace meshlog::format {

struct Piece {
  std::string literal;    // emitted before the operator
  std::optional<Op> op;   // none for a trailing literal
};

struct ParsedFormat {
  std::vector<Piece> pieces;
  // Envoy's provider count: literal providers + command providers (an empty format = 1 literal).
  size_t provider_count = 0;
};

// Parses `format`. On error returns std::nullopt and Envoy's message in *error.
std::optional<ParsedFormat> ParseFormat(std::string_view format, std::string* error);

}  // namespace meshlog::format
