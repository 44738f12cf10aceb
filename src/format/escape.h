// File: escape.h
//
// Byte-level writers shared by the Plain and JSON formatters. They are hand-written table scans
// because they run for every value of every log record (the product's hot path): a run of bytes
// that needs no escaping is copied with one append.
//
// Example:
//   std::string out;
//   AppendJsonString(out, "a\"b\n");      // out == R"("a\"b\n")"
//   AppendPlainSafe(out, "x\r\ny", Utf8Check::kNo);  // appends x\x0D\x0Ay
#pragma once

#include <string>
#include <string_view>

namespace meshlog::format {

// Whether AppendPlainSafe also rewrites bytes that are not valid UTF-8 (OpenTelemetry strings
// must be UTF-8; plain file records keep them as Envoy does).
enum class Utf8Check : bool { kNo, kYes };

// Appends `s`, writing every C0 control byte except TAB (0x00-0x08, 0x0A-0x1F) as "\xHH"
// (upper-case hex), so a value taken from traffic can never start a new log line. With
// Utf8Check::kYes, bytes that are not part of a valid UTF-8 sequence are written as \xHH too.
void AppendPlainSafe(std::string& out, std::string_view s, Utf8Check utf8);

// Appends the JSON-escaped bytes of `s` WITHOUT surrounding quotes (formatter.md 5.4): `"` `\`
// and control bytes escaped (\b \t \n \f \r, others \u00xx lower-case), DEL and valid multi-byte
// UTF-8 copied raw, and (meshlog rule) every byte that is not part of a valid UTF-8 sequence
// written as \u00xx, so the output is always valid JSON.
void AppendJsonEscaped(std::string& out, std::string_view s);

// Appends `"` + AppendJsonEscaped(s) + `"`.
inline void AppendJsonString(std::string& out, std::string_view s) {
  out.push_back('"');
  AppendJsonEscaped(out, s);
  out.push_back('"');
}

// Length of the valid UTF-8 sequence starting at s[i] (1-4), or 0 if the bytes there are not a
// valid sequence (stray continuation, overlong, surrogate, > U+10FFFF, truncated).
size_t Utf8SequenceLength(std::string_view s, size_t i);

}  // namespace meshlog::format
