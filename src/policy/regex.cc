#include "policy/regex.h"

#include <memory>
#include <stdexcept>
#include <string>

namespace meshlog::policy {

uint32_t DecodeRuneAt(std::string_view s, size_t& i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  auto cont = [&](size_t k) { return k < s.size() && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80; };
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[k]) & 0x3F); };
  if (b0 >= 0xC2 && b0 <= 0xDF && cont(i + 1)) {
    const uint32_t r = ((b0 & 0x1Fu) << 6) | byte(i + 1);
    i += 2;
    return r;
  }
  if (b0 >= 0xE0 && b0 <= 0xEF && cont(i + 1) && cont(i + 2)) {
    const uint32_t r = ((b0 & 0x0Fu) << 12) | (byte(i + 1) << 6) | byte(i + 2);
    if (r >= 0x800 && (r < 0xD800 || r > 0xDFFF)) {
      i += 3;
      return r;
    }
  }
  if (b0 >= 0xF0 && b0 <= 0xF4 && cont(i + 1) && cont(i + 2) && cont(i + 3)) {
    const uint32_t r = ((b0 & 0x07u) << 18) | (byte(i + 1) << 12) | (byte(i + 2) << 6) | byte(i + 3);
    if (r >= 0x10000 && r <= 0x10FFFF) {
      i += 4;
      return r;
    }
  }
  ++i;
  return 0xFFFD;
}

size_t RuneCount(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size();) {
    DecodeRuneAt(s, i);
    ++n;
  }
  return n;
}

bool Regex::CharSet::Contains(uint32_t r) const {
  bool in = false;
  for (const auto& [lo, hi] : ranges) {
    if (r >= lo && r <= hi) {
      in = true;
      break;
    }
  }
  return in != negated;
}

struct Regex::Node {
  enum class Kind { kEmpty, kSet, kConcat, kAlt, kRepeat } kind = Kind::kEmpty;
  CharSet set;
  std::vector<Node> children;
  int min = 0;
  int max = 0;  // -1 = unbounded
};

namespace {

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

const Ranges kDigit{{'0', '9'}};
const Ranges kSpace{{'\t', '\n'}, {'\f', '\r'}, {' ', ' '}};
const Ranges kWord{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};

// Complement of sorted, non-overlapping ranges over [0, 0x10FFFF].
Ranges Complement(const Ranges& in) {
  Ranges out;
  uint32_t next = 0;
  for (const auto& [lo, hi] : in) {
    if (lo > next) out.push_back({next, lo - 1});
    next = hi + 1;
  }
  if (next <= 0x10FFFF) out.push_back({next, 0x10FFFF});
  return out;
}

class Parser {
 public:
  using Node = Regex::Node;
  explicit Parser(std::string_view p) : p_(p) {}

  Node ParseAll() {
    Node n = ParseAlt();
    if (pos_ != p_.size()) Fail("unexpected ')'");
    return n;
  }

 private:
  [[noreturn]] void Fail(const char* what) {
    throw std::logic_error(std::string("regex: ") + what + " in " + std::string(p_));
  }
  bool More() const { return pos_ < p_.size(); }
  char Peek() const { return p_[pos_]; }

  Node ParseAlt() {
    Node first = ParseConcat();
    if (!More() || Peek() != '|') return first;
    Node alt;
    alt.kind = Node::Kind::kAlt;
    alt.children.push_back(std::move(first));
    while (More() && Peek() == '|') {
      ++pos_;
      alt.children.push_back(ParseConcat());
    }
    return alt;
  }

  Node ParseConcat() {
    Node cat;
    cat.kind = Node::Kind::kConcat;
    while (More() && Peek() != '|' && Peek() != ')') {
      Node atom = ParseAtom();
      atom = ParseQuantifiers(std::move(atom));
      cat.children.push_back(std::move(atom));
    }
    return cat;
  }

  Node ParseQuantifiers(Node atom) {
    while (More()) {
      const char c = Peek();
      int min = 0, max = 0;
      if (c == '*') {
        min = 0, max = -1, ++pos_;
      } else if (c == '+') {
        min = 1, max = -1, ++pos_;
      } else if (c == '?') {
        min = 0, max = 1, ++pos_;
      } else if (c == '{') {
        size_t save = pos_;
        ++pos_;
        min = ParseInt();
        if (min < 0) {
          pos_ = save;
          return atom;  // a literal '{' (not used by our patterns)
        }
        max = min;
        if (More() && Peek() == ',') {
          ++pos_;
          max = (More() && Peek() == '}') ? -1 : ParseInt();
        }
        if (!More() || Peek() != '}') Fail("bad repetition");
        ++pos_;
      } else {
        return atom;
      }
      Node rep;
      rep.kind = Node::Kind::kRepeat;
      rep.min = min;
      rep.max = max;
      rep.children.push_back(std::move(atom));
      atom = std::move(rep);
    }
    return atom;
  }

  int ParseInt() {
    int v = -1;
    while (More() && Peek() >= '0' && Peek() <= '9') {
      v = (v < 0 ? 0 : v) * 10 + (Peek() - '0');
      ++pos_;
    }
    return v;
  }

  Node SetNode(Ranges ranges, bool negated = false) {
    Node n;
    n.kind = Node::Kind::kSet;
    n.set.ranges = std::move(ranges);
    n.set.negated = negated;
    return n;
  }

  Node ParseAtom() {
    const char c = Peek();
    if (c == '(') {
      ++pos_;
      if (p_.substr(pos_, 2) == "?:") pos_ += 2;
      Node inner = ParseAlt();
      if (!More() || Peek() != ')') Fail("missing ')'");
      ++pos_;
      return inner;
    }
    if (c == '[') return ParseClass();
    if (c == '.') {
      ++pos_;
      return SetNode({{'\n', '\n'}}, /*negated=*/true);
    }
    if (c == '\\') {
      Ranges r;
      bool is_class = false;
      const uint32_t lit = ParseEscape(r, is_class);
      if (is_class) return SetNode(std::move(r));
      return SetNode({{lit, lit}});
    }
    const uint32_t r = DecodeRuneAt(p_, pos_);
    return SetNode({{r, r}});
  }

  // Parses an escape at pos_ (pointing at '\'). Either returns a literal rune, or fills `cls`.
  uint32_t ParseEscape(Ranges& cls, bool& is_class) {
    ++pos_;
    if (!More()) Fail("trailing backslash");
    const char e = p_[pos_++];
    is_class = true;
    switch (e) {
      case 'd': cls = kDigit; return 0;
      case 'D': cls = Complement(kDigit); return 0;
      case 's': cls = kSpace; return 0;
      case 'S': cls = Complement(kSpace); return 0;
      case 'w': cls = kWord; return 0;
      case 'W': cls = Complement(kWord); return 0;
      default: break;
    }
    is_class = false;
    switch (e) {
      case 'n': return '\n';
      case 'r': return '\r';
      case 't': return '\t';
      case 'f': return '\f';
      case 'v': return '\v';
      case 'x': {
        uint32_t v = 0;
        if (More() && Peek() == '{') {
          ++pos_;
          while (More() && Peek() != '}') v = v * 16 + static_cast<uint32_t>(HexVal(p_[pos_++]));
          if (!More()) Fail("bad \\x{}");
          ++pos_;
        } else {
          if (pos_ + 2 > p_.size()) Fail("bad \\x");
          v = static_cast<uint32_t>(HexVal(p_[pos_]) * 16 + HexVal(p_[pos_ + 1]));
          pos_ += 2;
        }
        return v;
      }
      default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) Fail("unsupported escape");
        return static_cast<unsigned char>(e);
    }
  }

  int HexVal(char h) {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    Fail("bad hex digit");
  }

  uint32_t ClassChar(Ranges& cls, bool& is_class) {
    is_class = false;
    if (Peek() == '\\') return ParseEscape(cls, is_class);
    return DecodeRuneAt(p_, pos_);
  }

  Node ParseClass() {
    ++pos_;  // '['
    bool negated = false;
    if (More() && Peek() == '^') {
      negated = true;
      ++pos_;
    }
    Ranges ranges;
    bool first = true;
    while (More() && (Peek() != ']' || first)) {
      first = false;
      Ranges cls;
      bool is_class = false;
      const uint32_t lo = ClassChar(cls, is_class);
      if (is_class) {
        ranges.insert(ranges.end(), cls.begin(), cls.end());
        continue;
      }
      uint32_t hi = lo;
      if (pos_ + 1 < p_.size() && Peek() == '-' && p_[pos_ + 1] != ']') {
        ++pos_;
        Ranges dummy;
        bool hi_class = false;
        hi = ClassChar(dummy, hi_class);
        if (hi_class || hi < lo) Fail("bad class range");
      }
      ranges.push_back({lo, hi});
    }
    if (!More()) Fail("missing ']'");
    ++pos_;
    return SetNode(std::move(ranges), negated);
  }

  std::string_view p_;
  size_t pos_ = 0;
};

}  // namespace

int Regex::NewState() {
  states_.emplace_back();
  return static_cast<int>(states_.size()) - 1;
}

int Regex::Compile(const Node& node, int next) {
  switch (node.kind) {
    case Node::Kind::kEmpty:
      return next;
    case Node::Kind::kSet: {
      const int s = NewState();
      sets_.push_back(node.set);
      states_[s].set = static_cast<int>(sets_.size()) - 1;
      states_[s].next = next;
      return s;
    }
    case Node::Kind::kConcat: {
      int cur = next;
      for (auto it = node.children.rbegin(); it != node.children.rend(); ++it) cur = Compile(*it, cur);
      return cur;
    }
    case Node::Kind::kAlt: {
      const int s = NewState();
      for (const Node& c : node.children) {
        const int branch = Compile(c, next);
        states_[s].eps.push_back(branch);
      }
      return s;
    }
    case Node::Kind::kRepeat: {
      const Node& body = node.children[0];
      int cur = next;
      if (node.max < 0) {
        const int loop = NewState();
        const int b = Compile(body, loop);
        states_[loop].eps = {b, next};
        cur = loop;
      } else {
        for (int i = 0; i < node.max - node.min; ++i) {
          const int opt = NewState();
          const int b = Compile(body, cur);
          states_[opt].eps = {b, cur};
          cur = opt;
        }
      }
      for (int i = 0; i < node.min; ++i) cur = Compile(body, cur);
      return cur;
    }
  }
  return next;
}

Regex::Regex(std::string_view pattern) {
  if (!pattern.empty() && pattern.front() == '^') pattern.remove_prefix(1);
  if (!pattern.empty() && pattern.back() == '$' && (pattern.size() < 2 || pattern[pattern.size() - 2] != '\\')) {
    pattern.remove_suffix(1);
  }
  Parser parser(pattern);
  const Node root = parser.ParseAll();
  match_ = NewState();
  start_ = Compile(root, match_);
}

bool Regex::FullMatch(std::string_view input) const {
  const size_t n = states_.size();
  std::vector<int> current, next_list, stack;
  std::vector<uint32_t> mark(n, 0);
  uint32_t generation = 1;

  auto add = [&](std::vector<int>& list, int s) {
    stack.push_back(s);
    while (!stack.empty()) {
      const int t = stack.back();
      stack.pop_back();
      if (mark[t] == generation) continue;
      mark[t] = generation;
      list.push_back(t);
      for (int e : states_[t].eps) stack.push_back(e);
    }
  };

  add(current, start_);
  size_t i = 0;
  while (i < input.size()) {
    const uint32_t r = DecodeRuneAt(input, i);
    ++generation;
    next_list.clear();
    for (int s : current) {
      const State& st = states_[s];
      if (st.set >= 0 && sets_[st.set].Contains(r)) add(next_list, st.next);
    }
    current.swap(next_list);
    if (current.empty()) return false;
  }
  for (int s : current) {
    if (s == match_) return true;
  }
  return false;
}

}  // namespace meshlog::policy
