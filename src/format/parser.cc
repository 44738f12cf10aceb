#include "format/parser.h"

#include <charconv>

namespace meshlog::format {

namespace {

inline bool IsCommandChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Bytes RE2's '.' (UTF-8 mode, no dot_nl) consumes at f[k]: one character of (loosely checked)
// UTF-8, never '\n'. 0 = '.' cannot match here.
size_t DotLength(std::string_view f, size_t k) {
  const auto b = static_cast<unsigned char>(f[k]);
  if (b == '\n') return 0;
  if (b < 0x80) return 1;
  size_t n = 0;
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
  } else {
    return 0;
  }
  if (k + n > f.size()) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((static_cast<unsigned char>(f[k + i]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

struct Match {
  size_t end = 0;  // one past the closing '%'
  std::string_view length;
};

// Matches (?::([0-9]+))?% at position p.
std::optional<Match> MatchTail(std::string_view f, size_t p) {
  if (p < f.size() && f[p] == ':') {
    size_t q = p + 1;
    while (q < f.size() && IsDigit(f[q])) ++q;
    if (q > p + 1 && q < f.size() && f[q] == '%') return Match{q + 1, f.substr(p + 1, q - p - 1)};
  }
  if (p < f.size() && f[p] == '%') return Match{p + 1, {}};
  return std::nullopt;
}

}  // namespace

std::optional<ParsedFormat> ParseFormat(std::string_view f, std::string* error) {
  ParsedFormat out;
  std::string literal;
  auto position_error = [&](size_t pos) {
    if (error != nullptr) {
      *error = "Incorrect configuration: " + std::string(f) + ". Couldn't find valid command at position " +
               std::to_string(pos);
    }
    return std::nullopt;
  };

  size_t i = 0;
  while (i < f.size()) {
    const char c = f[i];
    if (c != '%') {
      literal.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 < f.size() && f[i + 1] == '%') {
      literal.push_back('%');
      i += 2;
      continue;
    }
    size_t j = i + 1;
    while (j < f.size() && IsCommandChar(f[j])) ++j;
    if (j == i + 1) return position_error(i);
    const std::string_view command = f.substr(i + 1, j - i - 1);
    std::string_view sub;
    std::optional<Match> m;
    if (j < f.size() && f[j] == '(') {
      size_t k = j + 1;
      while (k < f.size()) {
        if (f[k] == ')') {
          m = MatchTail(f, k + 1);
          if (m) {
            sub = f.substr(j + 1, k - j - 1);
            break;
          }
        }
        const size_t step = DotLength(f, k);
        if (step == 0) break;  // '.' cannot cross a line feed or invalid UTF-8
        k += step;
      }
    } else {
      m = MatchTail(f, j);
    }
    if (!m) return position_error(i);

    std::optional<size_t> max_length;
    if (!m->length.empty()) {
      size_t len = 0;
      const auto [ptr, ec] = std::from_chars(m->length.data(), m->length.data() + m->length.size(), len);
      if (ec != std::errc() || ptr != m->length.data() + m->length.size()) {
        if (error != nullptr) *error = "Length must be an integer, given: " + std::string(m->length);
        return std::nullopt;
      }
      max_length = len;
    }
    std::optional<Op> op = ParseOperator(command, sub, max_length, error);
    if (!op) return std::nullopt;
    if (!literal.empty()) ++out.provider_count;
    ++out.provider_count;
    out.pieces.push_back(Piece{std::move(literal), std::move(op)});
    literal.clear();
    i = m->end;
  }
  if (!literal.empty() || out.pieces.empty()) {
    ++out.provider_count;
    out.pieces.push_back(Piece{std::move(literal), std::nullopt});
  }
  return out;
}

}  // namespace meshlog::format
