#include "policy/patterns.h"

#include <algorithm>

#include "policy/regex.h"

namespace meshlog::policy {
namespace {

// govalidator patterns (patterns.go at a9d515a09cc2), assembled exactly as govalidator does.
constexpr std::string_view kIP =
    R"((([0-9a-fA-F]{1,4}:){7,7}[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,7}:|([0-9a-fA-F]{1,4}:){1,6}:[0-9a-fA-F]{1,4}|([0-9a-fA-F]{1,4}:){1,5}(:[0-9a-fA-F]{1,4}){1,2}|([0-9a-fA-F]{1,4}:){1,4}(:[0-9a-fA-F]{1,4}){1,3}|([0-9a-fA-F]{1,4}:){1,3}(:[0-9a-fA-F]{1,4}){1,4}|([0-9a-fA-F]{1,4}:){1,2}(:[0-9a-fA-F]{1,4}){1,5}|[0-9a-fA-F]{1,4}:((:[0-9a-fA-F]{1,4}){1,6})|:((:[0-9a-fA-F]{1,4}){1,7}|:)|fe80:(:[0-9a-fA-F]{0,4}){0,4}%[0-9a-zA-Z]{1,}|::(ffff(:0{1,4}){0,1}:){0,1}((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])|([0-9a-fA-F]{1,4}:){1,4}:((25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])\.){3,3}(25[0-5]|(2[0-4]|1{0,1}[0-9]){0,1}[0-9])))";
constexpr std::string_view kURLSchema = R"(((ftp|tcp|udp|wss?|https?):\/\/))";
constexpr std::string_view kURLUsername = R"((\S+(:\S*)?@))";
constexpr std::string_view kURLPath = R"(((\/|\?|#)[^\s]*))";
constexpr std::string_view kURLPort = R"((:(\d{1,5})))";
constexpr std::string_view kURLIP =
    R"(([1-9]\d?|1\d\d|2[01]\d|22[0-3]|24\d|25[0-5])(\.(\d{1,2}|1\d\d|2[0-4]\d|25[0-5])){2}(?:\.([0-9]\d?|1\d\d|2[0-4]\d|25[0-5])))";
constexpr std::string_view kURLSubdomain =
    R"(((www\.)|([a-zA-Z0-9]+([-_\.]?[a-zA-Z0-9])*[a-zA-Z0-9]\.[a-zA-Z0-9]+)))";

std::string UrlPattern() {
  std::string p = "^";
  p += kURLSchema;
  p += "?";
  p += kURLUsername;
  p += "?";
  p += "((";
  p += kURLIP;
  p += R"(|(\[)";
  p += kIP;
  p += R"(\])|(([a-zA-Z0-9]([a-zA-Z0-9-_]+)?[a-zA-Z0-9]([-\.][a-zA-Z0-9]+)*)|()";
  p += kURLSubdomain;
  p += R"(?))?(([a-zA-Z\x{00a1}-\x{ffff}0-9]+-?-?)*[a-zA-Z\x{00a1}-\x{ffff}0-9]+)(?:\.([a-zA-Z\x{00a1}-\x{ffff}]{1,}))?))\.?)";
  p += kURLPort;
  p += "?";
  p += kURLPath;
  p += "?$";
  return p;
}

const Regex& UrlRegex() {
  static const Regex re(UrlPattern());
  return re;
}

// ---------------------------------------------------------------------------------------------
// Go net/url.Parse (the parts IsURL depends on)
// ---------------------------------------------------------------------------------------------

enum class Encoding { kPath, kHost, kZone, kUserPassword, kFragment };

bool IsAlnum(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

int Unhex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}

bool ShouldEscape(unsigned char c, Encoding mode) {
  if (IsAlnum(c)) return false;
  if (mode == Encoding::kHost || mode == Encoding::kZone) {
    switch (c) {
      case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',': case ';':
      case '=': case ':': case '[': case ']': case '<': case '>': case '"':
        return false;
      default: break;
    }
  }
  switch (c) {
    case '-': case '_': case '.': case '~':
      return false;
    case '$': case '&': case '+': case ',': case '/': case ':': case ';': case '=': case '?': case '@':
      switch (mode) {
        case Encoding::kPath: return c == '?';
        case Encoding::kUserPassword: return c == '@' || c == '/' || c == '?' || c == ':';
        case Encoding::kFragment: return false;
        default: break;
      }
      break;
    default: break;
  }
  if (mode == Encoding::kFragment) {
    switch (c) {
      case '!': case '(': case ')': case '*': return false;
      default: break;
    }
  }
  return true;
}

// Go's url.unescape: validates %-escapes (and host characters) and decodes.
std::optional<std::string> Unescape(std::string_view s, Encoding mode) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '%') {
      if (i + 2 >= s.size() || !IsHex(s[i + 1]) || !IsHex(s[i + 2])) return std::nullopt;
      if (mode == Encoding::kHost && Unhex(s[i + 1]) < 8 && s.substr(i, 3) != "%25") return std::nullopt;
      if (mode == Encoding::kZone) {
        const auto v = static_cast<unsigned char>(Unhex(s[i + 1]) << 4 | Unhex(s[i + 2]));
        if (s.substr(i, 3) != "%25" && v != ' ' && ShouldEscape(v, Encoding::kHost)) return std::nullopt;
      }
      i += 3;
    } else {
      if ((mode == Encoding::kHost || mode == Encoding::kZone) && c < 0x80 && ShouldEscape(c, mode)) return std::nullopt;
      ++i;
    }
  }
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '%') {
      out += static_cast<char>(Unhex(s[i + 1]) << 4 | Unhex(s[i + 2]));
      i += 3;
    } else {
      out += s[i++];
    }
  }
  return out;
}

bool ValidOptionalPort(std::string_view port) {
  if (port.empty()) return true;
  if (port[0] != ':') return false;
  return std::all_of(port.begin() + 1, port.end(), [](char b) { return b >= '0' && b <= '9'; });
}

bool ParseHost(std::string_view host) {
  if (!host.empty() && host[0] == '[') {
    const size_t i = host.rfind(']');
    if (i == std::string_view::npos) return false;
    if (!ValidOptionalPort(host.substr(i + 1))) return false;
    const size_t zone = host.substr(0, i).find("%25");
    if (zone != std::string_view::npos) {
      return Unescape(host.substr(0, zone), Encoding::kHost) && Unescape(host.substr(zone, i - zone), Encoding::kZone) &&
             Unescape(host.substr(i), Encoding::kHost);
    }
  } else if (const size_t i = host.rfind(':'); i != std::string_view::npos) {
    if (!ValidOptionalPort(host.substr(i))) return false;
  }
  return Unescape(host, Encoding::kHost).has_value();
}

bool ValidUserinfo(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const uint32_t r = DecodeRuneAt(s, i);
    if (r < 0x80 && IsAlnum(static_cast<unsigned char>(r))) continue;
    switch (r) {
      case '-': case '.': case '_': case ':': case '~': case '!': case '$': case '&': case '\'': case '(': case ')':
      case '*': case '+': case ',': case ';': case '=': case '%': case '@':
        continue;
      default:
        return false;
    }
  }
  return true;
}

bool ParseAuthority(std::string_view authority, std::string& host_out) {
  const size_t at = authority.rfind('@');
  const std::string_view host = at == std::string_view::npos ? authority : authority.substr(at + 1);
  if (!ParseHost(host)) return false;
  host_out = std::string(host);
  if (at == std::string_view::npos) return true;
  const std::string_view userinfo = authority.substr(0, at);
  if (!ValidUserinfo(userinfo)) return false;
  const size_t colon = userinfo.find(':');
  if (colon == std::string_view::npos) return Unescape(userinfo, Encoding::kUserPassword).has_value();
  return Unescape(userinfo.substr(0, colon), Encoding::kUserPassword).has_value() &&
         Unescape(userinfo.substr(colon + 1), Encoding::kUserPassword).has_value();
}

std::optional<GoUrl> ParseWithoutFragment(std::string_view raw) {
  for (char ch : raw) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return std::nullopt;  // "invalid control character in URL"
  }
  GoUrl url;
  if (raw == "*") {
    url.path = "*";
    return url;
  }
  // getScheme
  std::string_view rest = raw;
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) continue;
    if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.') {
      if (i == 0) break;
      continue;
    }
    if (c == ':') {
      if (i == 0) return std::nullopt;  // "missing protocol scheme"
      url.scheme = std::string(raw.substr(0, i));
      std::transform(url.scheme.begin(), url.scheme.end(), url.scheme.begin(),
                     [](char x) { return (x >= 'A' && x <= 'Z') ? static_cast<char>(x - 'A' + 'a') : x; });
      rest = raw.substr(i + 1);
    }
    break;
  }
  if (!rest.empty() && rest.back() == '?' && std::count(rest.begin(), rest.end(), '?') == 1) {
    rest.remove_suffix(1);
  } else if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    rest = rest.substr(0, q);
  }
  if (rest.empty() || rest[0] != '/') {
    if (!url.scheme.empty()) return url;  // opaque
    const std::string_view segment = rest.substr(0, rest.find('/'));
    if (segment.find(':') != std::string_view::npos) return std::nullopt;
  }
  if ((!url.scheme.empty() || rest.substr(0, 3) != "///") && rest.substr(0, 2) == "//") {
    std::string_view authority = rest.substr(2);
    rest = {};
    if (const size_t slash = authority.find('/'); slash != std::string_view::npos) {
      rest = authority.substr(slash);
      authority = authority.substr(0, slash);
    }
    if (!ParseAuthority(authority, url.host)) return std::nullopt;
  }
  auto path = Unescape(rest, Encoding::kPath);
  if (!path) return std::nullopt;
  url.path = std::move(*path);
  return url;
}

// ---------------------------------------------------------------------------------------------
// Go encoding/json validity (scanner semantics)
// ---------------------------------------------------------------------------------------------

class JsonChecker {
 public:
  explicit JsonChecker(std::string_view s) : s_(s) {}

  bool Valid() {
    SkipWs();
    if (!ParseValue(0)) return false;
    SkipWs();
    return i_ == s_.size();
  }

 private:
  static constexpr int kMaxDepth = 10000;  // Go's decoder limit

  void SkipWs() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool Literal(std::string_view lit) {
    if (s_.substr(i_, lit.size()) != lit) return false;
    i_ += lit.size();
    return true;
  }
  bool ParseString() {
    ++i_;  // opening quote
    while (i_ < s_.size()) {
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        ++i_;
        if (i_ >= s_.size()) return false;
        const char e = s_[i_];
        if (e == 'u') {
          for (int k = 1; k <= 4; ++k) {
            if (i_ + k >= s_.size() || !IsHex(s_[i_ + k])) return false;
          }
          i_ += 5;
          continue;
        }
        if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' && e != 't') return false;
      }
      ++i_;
    }
    return false;
  }
  bool Digits() {
    const size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }
  bool ParseNumber() {
    if (s_[i_] == '-') ++i_;
    if (i_ >= s_.size()) return false;
    if (s_[i_] == '0') {
      ++i_;
    } else if (!Digits()) {
      return false;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!Digits()) return false;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!Digits()) return false;
    }
    return true;
  }
  bool ParseValue(int depth) {
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '"') return ParseString();
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber();
    if (c == 't') return Literal("true");
    if (c == 'f') return Literal("false");
    if (c == 'n') return Literal("null");
    if (c == '{' || c == '[') {
      if (depth + 1 > kMaxDepth) return false;
      const bool object = c == '{';
      ++i_;
      SkipWs();
      if (i_ < s_.size() && s_[i_] == (object ? '}' : ']')) {
        ++i_;
        return true;
      }
      while (true) {
        if (object) {
          if (i_ >= s_.size() || s_[i_] != '"' || !ParseString()) return false;
          SkipWs();
          if (i_ >= s_.size() || s_[i_] != ':') return false;
          ++i_;
          SkipWs();
        }
        if (!ParseValue(depth + 1)) return false;
        SkipWs();
        if (i_ >= s_.size()) return false;
        if (s_[i_] == ',') {
          ++i_;
          SkipWs();
          continue;
        }
        if (s_[i_] == (object ? '}' : ']')) {
          ++i_;
          return true;
        }
        return false;
      }
    }
    return false;
  }

  std::string_view s_;
  size_t i_ = 0;
};

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

std::optional<GoUrl> ParseGoUrl(std::string_view raw) {
  const size_t hash = raw.find('#');
  auto url = ParseWithoutFragment(raw.substr(0, hash));
  if (!url) return std::nullopt;
  if (hash != std::string_view::npos && !Unescape(raw.substr(hash + 1), Encoding::kFragment)) return std::nullopt;
  return url;
}

bool IsGovalidatorURL(std::string_view s) {
  if (s.empty() || RuneCount(s) >= 2083 || s.size() <= 3 || s[0] == '.') return false;
  std::string tmp(s);
  if (s.find(':') != std::string_view::npos && s.find("://") == std::string_view::npos) tmp = "http://" + tmp;
  const auto u = ParseGoUrl(tmp);
  if (!u) return false;
  if (!u->host.empty() && u->host[0] == '.') return false;
  if (u->host.empty() && !u->path.empty() && u->path.find('.') == std::string::npos) return false;
  return UrlRegex().FullMatch(s);
}

bool IsGovalidatorFilePath(std::string_view s) {
  static const Regex kWinPath(R"(^[a-zA-Z]:\\(?:[^\\/:*?"<>|\r\n]+\\)*[^\\/:*?"<>|\r\n]*$)");
  static const Regex kUnixPath(R"(^(/[^/\x00]*)+/?$)");
  if (kWinPath.FullMatch(s)) return s.size() - 3 <= 32767;
  return kUnixPath.FullMatch(s);
}

bool IsGoJSON(std::string_view s) { return JsonChecker(s).Valid(); }

std::optional<std::string> SpiffeIdError(std::string_view id) {
  constexpr std::string_view kScheme = "spiffe://";
  if (id.empty()) return "cannot be empty";
  if (id.substr(0, kScheme.size()) != kScheme) return "scheme is missing or invalid";
  size_t p = kScheme.size();
  for (; p < id.size(); ++p) {
    const char c = id[p];
    if (c == '/') break;
    if (!(IsLowerAlnum(c) || c == '-' || c == '.' || c == '_')) {
      return "trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores";
    }
  }
  if (p == kScheme.size()) return "trust domain is missing";
  const std::string_view path = id.substr(p);
  if (path.empty()) return std::nullopt;
  size_t seg_start = 0;
  size_t seg_end = 0;
  for (; seg_end < path.size(); ++seg_end) {
    const char c = path[seg_end];
    if (c == '/') {
      const std::string_view seg = path.substr(seg_start, seg_end - seg_start);
      if (seg == "/") return "path cannot contain empty segments";
      if (seg == "/." || seg == "/..") return "path cannot contain dot segments";
      seg_start = seg_end;
      continue;
    }
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
          c == '_')) {
      return "path segment characters are limited to letters, numbers, dots, dashes, and underscores";
    }
  }
  const std::string_view last = path.substr(seg_start, seg_end - seg_start);
  if (last == "/") return "path cannot have a trailing slash";
  if (last == "/." || last == "/..") return "path cannot contain dot segments";
  return std::nullopt;
}

std::vector<std::string> Dns1123SubdomainErrors(std::string_view value) {
  static const Regex kSubdomain(R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)");
  std::vector<std::string> errs;
  if (value.size() > 253) errs.emplace_back("must be no more than 253 characters");
  if (!kSubdomain.FullMatch(value)) {
    errs.emplace_back(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
  }
  return errs;
}

bool MatchesOtelAttributeKeySchemaPattern(std::string_view key) {
  if (key.empty() || !(key[0] >= 'a' && key[0] <= 'z')) return false;
  for (size_t i = 1; i < key.size(); ++i) {
    const char c = key[i];
    if (IsLowerAlnum(c)) continue;
    if ((c == '.' || c == '_') && i + 1 < key.size() && IsLowerAlnum(key[i + 1])) {
      ++i;
      continue;
    }
    return false;
  }
  return true;
}

bool IsKumaNameCharset(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return IsLowerAlnum(c) || c == '.' || c == '-' || c == '_'; });
}

bool IsKumaTagNameCharset(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return IsAlnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == ':' || c == '/';
  });
}

bool IsKumaTagValueCharset(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return IsAlnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == ':';
  });
}

bool IsKumaSelectorValueCharset(std::string_view s) { return s == "*" || IsKumaTagNameCharset(s); }

}  // namespace meshlog::policy
