// File: regex.h
//
// Regex: a small full-match regular-expression engine (Thompson NFA simulation, linear in the input,
// no recursion over the input) for the Go/RE2 patterns Kuma's validators use (govalidator's URL
// and path patterns, Kubernetes DNS-1123, Kuma name charsets). std::regex is not used because it
// backtracks (exponential time and deep recursion on patterns like govalidator's URL regex).
//
// Semantics follow Go's regexp on a UTF-8 string: the input is matched rune by rune, an invalid
// UTF-8 byte counts as one U+FFFD rune. Supported syntax: literals, `.`, classes `[...]`/`[^...]`
// with ranges and `\d \D \s \S \w \W \xHH \x{HHHH} \n \r \t` escapes, groups `(...)`/`(?:...)`,
// `|`, `* + ?`, `{n} {n,} {n,m}`. A leading `^` and trailing `$` anchor the whole pattern; the
// match is always a full match (all patterns used here are anchored at both ends).
//
// Example:
//   Regex re(R"(^[a-z](?:[a-z0-9]|[._][a-z0-9])*$)");
//   EXPECT_TRUE(re.FullMatch("http.method"));
//   EXPECT_FALSE(re.FullMatch("http..method"));
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace meshlog::policy {

class Regex {
 public:
  // Aborts (std::logic_error) on syntax it does not support: patterns are compile-time constants.
  explicit Regex(std::string_view pattern);

  bool FullMatch(std::string_view input) const;
  size_t state_count() const { return states_.size(); }

  struct Node;  // parse tree (regex.cc)

  struct CharSet {
    std::vector<std::pair<uint32_t, uint32_t>> ranges;
    bool negated = false;
    bool Contains(uint32_t r) const;
  };

 private:
  struct State {
    std::vector<int> eps;  // epsilon edges
    int set = -1;          // index into sets_, or -1
    int next = -1;         // after consuming a rune in `set`
  };
  int Compile(const Node& node, int next);
  int NewState();

  std::vector<State> states_;
  std::vector<CharSet> sets_;
  int start_ = -1;
  int match_ = -1;
};

// Decodes one rune of `s` at `i` like Go's utf8.DecodeRuneInString (invalid byte => 0xFFFD, width 1).
uint32_t DecodeRuneAt(std::string_view s, size_t& i);
// Number of runes as Go's utf8.RuneCountInString counts them.
size_t RuneCount(std::string_view s);

}  // namespace meshlog::policy
