#include "format/date_format.h"

#include <absl/time/time.h>

#include <array>
#include <atomic>
#include <charconv>
#include <cstring>

namespace meshlog::format {

namespace {

// Splits nanoseconds since the epoch into floor seconds and the sub-second nanoseconds.
inline void SplitTime(SystemTime t, int64_t& secs, int64_t& nanos) {
  const int64_t ns = t.time_since_epoch().count();
  secs = ns / 1000000000;
  nanos = ns % 1000000000;
  if (nanos < 0) {
    nanos += 1000000000;
    --secs;
  }
}

inline void Put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

// Howard Hinnant's days -> civil date.
void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += (m <= 2);
}

// "YYYY-MM-DDTHH:MM:SS" for UTC seconds; falls back to absl for years outside 0..9999.
void FormatUtcSeconds(int64_t secs, std::string& text) {
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  if (y < 0 || y > 9999) {
    text = absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(secs), absl::UTCTimeZone());
    return;
  }
  char buf[19];
  const auto yy = static_cast<unsigned>(y);
  Put2(buf, yy / 100);
  Put2(buf + 2, yy % 100);
  buf[4] = '-';
  Put2(buf + 5, m);
  buf[7] = '-';
  Put2(buf + 8, d);
  buf[10] = 'T';
  const auto r = static_cast<unsigned>(rem);
  Put2(buf + 11, r / 3600);
  buf[13] = ':';
  Put2(buf + 14, (r / 60) % 60);
  buf[16] = ':';
  Put2(buf + 17, r % 60);
  text.assign(buf, sizeof(buf));
}

struct SecondCache {
  int64_t secs = INT64_MIN;
  std::string prefix;  // up to and including seconds
  std::string suffix;  // "Z" or "+hhmm"
};

// Matches Envoy's newline-specifier pattern %[-_0^#]*[1-9]*(E|O)?n anywhere in fmt.
bool ContainsNewlineSpecifier(std::string_view fmt) {
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') continue;
    size_t j = i + 1;
    while (j < fmt.size() && std::strchr("-_0^#", fmt[j]) != nullptr && fmt[j] != '\0') ++j;
    while (j < fmt.size() && fmt[j] >= '1' && fmt[j] <= '9') ++j;
    if (j < fmt.size() && (fmt[j] == 'E' || fmt[j] == 'O')) ++j;
    if (j < fmt.size() && fmt[j] == 'n') return true;
  }
  return false;
}

void AppendFraction(std::string& out, int64_t nanos, int digits, bool trim) {
  char buf[9];
  auto v = static_cast<uint64_t>(nanos);
  for (int i = 8; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  size_t len = static_cast<size_t>(digits);
  if (trim) {
    len = 9;
    while (len > 1 && buf[len - 1] == '0') --len;
  }
  out.append(buf, len);
}

}  // namespace

void AppendDefaultTime(SystemTime t, bool local, std::string& out) {
  int64_t secs, nanos;
  SplitTime(t, secs, nanos);
  thread_local SecondCache utc_cache;
  thread_local SecondCache local_cache;
  SecondCache& cache = local ? local_cache : utc_cache;
  if (cache.secs != secs) {
    if (local) {
      const absl::Time at = absl::FromUnixSeconds(secs);
      const absl::TimeZone tz = absl::LocalTimeZone();
      cache.prefix = absl::FormatTime("%Y-%m-%dT%H:%M:%S", at, tz);
      cache.suffix = absl::FormatTime("%z", at, tz);
    } else {
      FormatUtcSeconds(secs, cache.prefix);
      cache.suffix.assign("Z");
    }
    cache.secs = secs;
  }
  char ms[4];
  const auto millis = static_cast<unsigned>(nanos / 1000000);
  ms[0] = '.';
  ms[1] = static_cast<char>('0' + millis / 100);
  ms[2] = static_cast<char>('0' + (millis / 10) % 10);
  ms[3] = static_cast<char>('0' + millis % 10);
  out.append(cache.prefix);
  out.append(ms, 4);
  out.append(cache.suffix);
}

std::optional<DateFormatter> DateFormatter::Create(std::string_view fmt, bool local, std::string* error) {
  if (ContainsNewlineSpecifier(fmt)) {
    if (error != nullptr) *error = "Invalid header configuration. Format string contains newline.";
    return std::nullopt;
  }
  static std::atomic<uint64_t> next_id{1};
  DateFormatter f(local);
  f.id_ = next_id.fetch_add(1, std::memory_order_relaxed);
  if (fmt.empty()) return f;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) {
      // %E#S, %E*S, %E#f, %E*f print sub-second digits; be conservative with any %E.
      const bool subsecond = literal.find("%E") != std::string::npos;
      f.segments_.push_back(Segment{SegKind::kAbsl, 0, literal, subsecond});
      literal.clear();
    }
  };
  size_t i = 0;
  while (i < fmt.size()) {
    const char c = fmt[i];
    if (c != '%' || i + 1 >= fmt.size()) {
      literal.push_back(c);
      ++i;
      continue;
    }
    const char n = fmt[i + 1];
    if (n == '%') {  // absl prints "%%" as "%"; keep it inside the literal segment
      literal.append("%%");
      i += 2;
    } else if (n == 's') {
      flush();
      f.segments_.push_back(Segment{SegKind::kEpochSeconds, 0, {}});
      i += 2;
    } else if (n == 'f') {
      flush();
      f.segments_.push_back(Segment{SegKind::kFraction, 9, {}});
      i += 2;
    } else if (n >= '1' && n <= '9' && i + 2 < fmt.size() && fmt[i + 2] == 'f') {
      flush();
      f.segments_.push_back(Segment{SegKind::kFraction, n - '0', {}});
      i += 3;
    } else if (n == '*' && i + 2 < fmt.size() && fmt[i + 2] == 'f') {
      flush();
      f.segments_.push_back(Segment{SegKind::kFractionTrimmed, 9, {}});
      i += 3;
    } else {
      literal.push_back('%');
      ++i;
    }
  }
  flush();
  if (f.segments_.empty()) f.segments_.push_back(Segment{SegKind::kAbsl, 0, std::string()});
  return f;
}

void DateFormatter::AppendAbsl(size_t index, int64_t secs, absl::Time at, std::string& out) const {
  const Segment& s = segments_[index];
  if (s.text.empty()) return;
  const absl::TimeZone tz = local_ ? absl::LocalTimeZone() : absl::UTCTimeZone();
  if (s.subsecond) {
    out.append(absl::FormatTime(s.text, at, tz));
    return;
  }
  // Direct-mapped per-thread cache keyed by (formatter id, segment, second): a record costs no
  // allocation once the second's text is known.
  struct Entry {
    uint64_t id = 0;  // ids start at 1
    size_t index = 0;
    int64_t secs = 0;
    std::string text;
  };
  thread_local std::array<Entry, 16> cache;
  Entry& e = cache[(id_ * 7 + index) % cache.size()];
  if (e.id != id_ || e.index != index || e.secs != secs) {
    e.text = absl::FormatTime(s.text, absl::FromUnixSeconds(secs), tz);
    e.id = id_;
    e.index = index;
    e.secs = secs;
  }
  out.append(e.text);
}

void DateFormatter::Format(SystemTime t, std::string& out) const {
  if (segments_.empty()) {
    AppendDefaultTime(t, local_, out);
    return;
  }
  int64_t secs, nanos;
  SplitTime(t, secs, nanos);
  const absl::Time at = absl::FromUnixNanos(t.time_since_epoch().count());
  for (size_t index = 0; index < segments_.size(); ++index) {
    const Segment& s = segments_[index];
    switch (s.kind) {
      case SegKind::kAbsl:
        AppendAbsl(index, secs, at, out);
        break;
      case SegKind::kEpochSeconds: {
        char buf[24];
        // Envoy casts the duration since epoch to whole seconds (truncation toward zero).
        const int64_t v = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
        out.append(buf, static_cast<size_t>(std::to_chars(buf, buf + sizeof(buf), v).ptr - buf));
        break;
      }
      case SegKind::kFraction:
        AppendFraction(out, nanos, s.digits, false);
        break;
      case SegKind::kFractionTrimmed:
        AppendFraction(out, nanos, 9, true);
        break;
    }
  }
}

}  // namespace meshlog::format
