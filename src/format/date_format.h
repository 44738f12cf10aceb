// File: date_format.h
//
// DateFormatter: renders a SystemTime the way Envoy's START_TIME(fmt) family does
// (formatter.md section 2).
//   - Empty fmt: "%Y-%m-%dT%H:%M:%E3SZ" (UTC) or "%Y-%m-%dT%H:%M:%E3S%z" (local), milliseconds
//     truncated. Hand-written fast path: the text up to the seconds is cached per thread per
//     second and only the three millisecond digits are patched (no allocation).
//   - Custom fmt (absl segments without sub-second specifiers are cached per thread per second):
//     split into Envoy's own specifiers (%s = epoch seconds, %f = 9 fractional digits,
//     %1f..%9f = first N digits, %*f = digits without trailing zeros, at least one) and literal
//     segments that go to absl::FormatTime (strftime plus %E#S, %E*S, %E#f, %E*f ...; unknown
//     specifiers are copied verbatim).
//   - Config-time rejection of newline specifiers (%n, %En, %4On ...).
//
// Example:
//   auto f = DateFormatter::Create("%Y/%m/%d %s.%3f", /*local=*/false);
//   std::string out;
//   f.value().Format(SystemTime(std::chrono::milliseconds(1522796769123)), out);
//   // out == "2018/04/03 1522796769.123"
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <absl/time/time.h>

#include "format/stream_info.h"

namespace meshlog::format {

class DateFormatter {
 public:
  // Returns std::nullopt and sets *error for a rejected fmt.
  static std::optional<DateFormatter> Create(std::string_view fmt, bool local, std::string* error);

  // Appends the rendered time.
  void Format(SystemTime t, std::string& out) const;

  bool is_default() const { return segments_.empty(); }

 private:
  enum class SegKind : uint8_t { kAbsl, kEpochSeconds, kFraction, kFractionTrimmed };
  struct Segment {
    SegKind kind;
    int digits = 9;
    std::string text;  // kAbsl
    bool subsecond = false;  // kAbsl text uses %E...: cannot be cached per second
  };
  explicit DateFormatter(bool local) : local_(local) {}
  void AppendAbsl(size_t index, int64_t secs, absl::Time at, std::string& out) const;

  bool local_;
  uint64_t id_ = 0;                // unique per Create(): keys the per-thread cache
  std::vector<Segment> segments_;  // empty = default format
};

// Appends Envoy's default access-log time "2018-04-03T23:06:09.123Z" (UTC) /
// "2018-04-03T23:06:09.123+0000" (local).
void AppendDefaultTime(SystemTime t, bool local, std::string& out);

}  // namespace meshlog::format
