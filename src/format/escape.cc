#include "format/escape.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace meshlog::format {

namespace {

constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

// 0 = copy raw; 1 = needs attention (escape, or start of a multi-byte sequence).
constexpr std::array<uint8_t, 256> MakeJsonTable() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) ? 1 : 0;
  return t;
}
constexpr std::array<uint8_t, 256> kJsonTable = MakeJsonTable();

constexpr std::array<uint8_t, 256> MakePlainTable(bool utf8) {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = ((c < 0x20 && c != '\t') || (utf8 && c >= 0x80)) ? 1 : 0;
  return t;
}
constexpr std::array<uint8_t, 256> kPlainTable = MakePlainTable(false);
constexpr std::array<uint8_t, 256> kPlainUtf8Table = MakePlainTable(true);

inline void AppendHexByte(Writer& out, const char* prefix, size_t prefix_len, uint8_t b, const char* hex) {
  char buf[8];
  for (size_t i = 0; i < prefix_len; ++i) buf[i] = prefix[i];
  buf[prefix_len] = hex[b >> 4];
  buf[prefix_len + 1] = hex[b & 0xF];
  out.Append(buf, prefix_len + 2);
}

// SWAR helpers: 8 bytes at a time (the common case is a run of printable ASCII).
constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;

inline uint64_t Load8(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
// Non-zero if some byte of x is < n (n <= 128) or has its high bit set.
inline uint64_t HasLessOrHigh(uint64_t x, uint8_t n) { return ((x - kOnes * n) | x) & kHighs; }
// Non-zero if some byte of x equals c.
inline uint64_t HasByte(uint64_t x, uint8_t c) {
  const uint64_t y = x ^ (kOnes * c);
  return (y - kOnes) & ~y & kHighs;
}

}  // namespace

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  const uint8_t b0 = p[i];
  if (b0 < 0x80) return 1;
  auto cont = [&](size_t k) { return i + k < n && (p[i + k] & 0xC0) == 0x80; };
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    const uint8_t b1 = p[i + 1];
    if (b0 == 0xE0 && b1 < 0xA0) return 0;  // overlong
    if (b0 == 0xED && b1 > 0x9F) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const uint8_t b1 = p[i + 1];
    if (b0 == 0xF0 && b1 < 0x90) return 0;  // overlong
    if (b0 == 0xF4 && b1 > 0x8F) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

void AppendPlainSafe(Writer& out, std::string_view s, Utf8Check utf8) {
  const auto& table = utf8 == Utf8Check::kYes ? kPlainUtf8Table : kPlainTable;
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t run = 0;
  size_t i = 0;
  while (i < n) {
    // Skip 8 clean bytes at once: no byte < 0x20 (a TAB also stops the fast path; the byte loop
    // below lets it through) and, in UTF-8 mode, no byte >= 0x80.
    if (i + 8 <= n) {
      const uint64_t x = Load8(p + i);
      const uint64_t flags = utf8 == Utf8Check::kYes ? HasLessOrHigh(x, 0x20) : (HasLessOrHigh(x, 0x20) & ~x);
      if (flags == 0) {
        i += 8;
        continue;
      }
    }
    if (table[p[i]] == 0) {
      ++i;
      continue;
    }
    if (p[i] >= 0x80) {
      const size_t len = Utf8SequenceLength(s, i);
      if (len != 0) {
        i += len;
        continue;
      }
    }
    out.Append(s.data() + run, i - run);
    AppendHexByte(out, "\\x", 2, p[i], kHexUpper);
    ++i;
    run = i;
  }
  out.Append(s.data() + run, n - run);
}

void AppendJsonEscaped(Writer& out, std::string_view s) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data());
  const size_t n = s.size();
  size_t run = 0;
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {  // 8 plain ASCII bytes (no control, no '"', no '\\', no high bit) at once
      const uint64_t x = Load8(p + i);
      if ((HasLessOrHigh(x, 0x20) | HasByte(x, '"') | HasByte(x, '\\')) == 0) {
        i += 8;
        continue;
      }
    }
    const uint8_t c = p[i];
    if (kJsonTable[c] == 0) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t len = Utf8SequenceLength(s, i);
      if (len != 0) {
        i += len;
        continue;
      }
    }
    out.Append(s.data() + run, i - run);
    switch (c) {
      case '"': out.Append("\\\"", 2); break;
      case '\\': out.Append("\\\\", 2); break;
      case '\b': out.Append("\\b", 2); break;
      case '\t': out.Append("\\t", 2); break;
      case '\n': out.Append("\\n", 2); break;
      case '\f': out.Append("\\f", 2); break;
      case '\r': out.Append("\\r", 2); break;
      default: AppendHexByte(out, "\\u00", 4, c, kHexLower); break;
    }
    ++i;
    run = i;
  }
  out.Append(s.data() + run, n - run);
}

void AppendPlainSafe(std::string& out, std::string_view s, Utf8Check utf8) {
  Writer w(out);
  AppendPlainSafe(w, s, utf8);
}

void AppendJsonEscaped(std::string& out, std::string_view s) {
  Writer w(out);
  AppendJsonEscaped(w, s);
}

}  // namespace meshlog::format
