#include "proxy/http_parser.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/status.hpp>
#include <cstdio>
#include <limits>

namespace meshlog::proxy::http {

namespace bhttp = beast::http;

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

void Message::Clear() {
  verb = bhttp::verb::unknown;
  method = target = reason = {};
  status = 0;
  version = 11;
  arena.clear();
  trailer_arena.clear();
  fields.clear();
  trailers.clear();
  saw_content_length = saw_transfer_encoding = has_host = has_connection_header = false;
  connection_close = connection_keep_alive = connection_upgrade = expect_continue = false;
  request_line_done = false;
  absolute_form = false;
  abs_scheme = abs_authority = abs_path = {};
  reject_status = 0;
  reject_details = {};
  out_framing = Framing::kRaw;
  body_bytes = 0;
  body_done = false;
}

std::optional<std::string_view> Message::Get(bhttp::field f) const {
  for (const auto& field : fields) {
    if (field.f == f) return View(field.value);
  }
  return std::nullopt;
}

std::optional<std::string_view> Message::Authority() const {
  if (absolute_form) return View(abs_authority);
  return Get(bhttp::field::host);
}

bool Message::NamedByConnection(std::string_view field_name) const {
  if (!has_connection_header) return false;
  for (const auto& field : fields) {
    if (field.f != bhttp::field::connection) continue;
    const auto v = View(field.value);
    for (auto token : bhttp::token_list{beast::string_view(v.data(), v.size())}) {
      if (IEquals(std::string_view(token.data(), token.size()), field_name)) return true;
    }
  }
  return false;
}

namespace {

Span Append(std::string& arena, std::string_view s) {
  Span span{static_cast<uint32_t>(arena.size()), static_cast<uint32_t>(s.size())};
  arena.append(s);
  return span;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// RFC 3986 reg-name / IPv4 characters (unreserved, sub-delims, pct-encoded) as http_parser takes them.
bool IsHostChar(char c) {
  if (IsAlpha(c) || IsDigit(c)) return true;
  switch (c) {
    case '-': case '.': case '_': case '~': case '%':
    case '!': case '$': case '&': case '\'': case '(': case ')': case '*': case '+': case ',': case ';': case '=':
      return true;
    default:
      return false;
  }
}

}  // namespace

bool ParseAbsoluteUrl(std::string_view target, AbsoluteUrl& out) {
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://"
  size_t i = 0;
  if (target.empty() || !IsAlpha(target[0])) return false;
  while (i < target.size() && (IsAlpha(target[i]) || IsDigit(target[i]) || target[i] == '+' || target[i] == '-' ||
                               target[i] == '.')) {
    ++i;
  }
  if (target.substr(i, 3) != "://") return false;
  out.scheme = target.substr(0, i);
  const size_t auth_begin = i + 3;
  size_t auth_end = target.find_first_of("/?#", auth_begin);
  if (auth_end == std::string_view::npos) auth_end = target.size();
  std::string_view authority = target.substr(auth_begin, auth_end - auth_begin);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (authority.empty()) return false;
  std::string_view host = authority;
  std::string_view port;
  bool has_port = false;
  if (authority.front() == '[') {  // IP-literal
    const auto close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : authority.substr(1, close - 1)) {
      if (!(IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.')) return false;
    }
    host = authority.substr(0, close + 1);
    const auto rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      has_port = true;
    }
  } else if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    has_port = true;
    if (host.empty()) return false;
  }
  if (authority.front() != '[') {
    for (char c : host) {
      if (!IsHostChar(c)) return false;
    }
  }
  if (has_port) {  // a port was written: 1-5 digits, <= 65535
    if (port.empty() || port.size() > 5) return false;
    unsigned value = 0;
    for (char c : port) {
      if (!IsDigit(c)) return false;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) return false;
  }
  out.authority = authority;
  out.path = auth_end < target.size() ? target.substr(auth_end) : std::string_view("/");
  return true;
}

template <bool isRequest>
Parser<isRequest>::Parser(Message& msg, const ParserLimits& limits) : msg_(msg), limits_(limits) {
  this->header_limit(limits.max_header_bytes);
  this->body_limit(std::numeric_limits<std::uint64_t>::max());  // streamed, never held
  this->eager(false);             // stop after the header so the caller can act on it
}

template <bool isRequest>
void Parser<isRequest>::Reject(unsigned status, std::string_view details, error_code& ec) {
  msg_.reject_status = status;
  msg_.reject_details = details;
  ec = bhttp::error::bad_value;
}

template <bool isRequest>
void Parser<isRequest>::on_request_impl(bhttp::verb method, string_view method_str, string_view target,
                                        int version, error_code& ec) {
  msg_.request_line_done = true;
  msg_.verb = method;
  msg_.method = Append(msg_.arena, {method_str.data(), method_str.size()});
  msg_.target = Append(msg_.arena, {target.data(), target.size()});
  msg_.version = static_cast<unsigned>(version);
  if (target.size() > limits_.max_uri_bytes) return Reject(414, "http1.uri_too_long", ec);
  if (version != 10 && version != 11) return Reject(505, "http1.codec_error", ec);
  const std::string_view t(target.data(), target.size());
  const bool origin_form = !t.empty() && (t[0] == '/' || (method == bhttp::verb::options && t == "*"));
  if (origin_form || method == bhttp::verb::connect) return;
  AbsoluteUrl url;
  if (!ParseAbsoluteUrl(t, url)) return Reject(400, "http1.invalid_url", ec);
  if (!IEquals(url.scheme, "http") && !IEquals(url.scheme, "https")) return Reject(400, "http1.invalid_scheme", ec);
  msg_.absolute_form = true;
  // Spans into the arena: the target was appended above, so its pieces are at known offsets.
  auto span_of = [&](std::string_view piece) {
    return Span{msg_.target.off + static_cast<uint32_t>(piece.data() - t.data()), static_cast<uint32_t>(piece.size())};
  };
  msg_.abs_scheme = Append(msg_.arena, url.scheme);
  for (uint32_t k = 0; k < msg_.abs_scheme.len; ++k) {
    char& c = msg_.arena[msg_.abs_scheme.off + k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  msg_.abs_authority = span_of(url.authority);
  msg_.abs_path = url.path.data() >= t.data() && url.path.data() < t.data() + t.size() ? span_of(url.path)
                                                                                       : Append(msg_.arena, "/");
}

template <bool isRequest>
void Parser<isRequest>::on_response_impl(int code, string_view reason, int version, error_code&) {
  msg_.status = static_cast<unsigned>(code);
  msg_.reason = Append(msg_.arena, {reason.data(), reason.size()});
  msg_.version = static_cast<unsigned>(version);
}

template <bool isRequest>
void Parser<isRequest>::on_field_impl(bhttp::field f, string_view name, string_view value, error_code& ec) {
  const std::string_view v(value.data(), value.size());
  if (this->is_header_done()) {  // trailer section of a chunked body
    if (msg_.trailers.size() >= limits_.max_header_count) return Reject(431, "http1.too_many_headers", ec);
    msg_.trailers.push_back({f, Append(msg_.trailer_arena, {name.data(), name.size()}),
                             Append(msg_.trailer_arena, v)});
    return;
  }
  if (msg_.fields.size() >= limits_.max_header_count) return Reject(431, "http1.too_many_headers", ec);
  switch (f) {
    case bhttp::field::content_length:
      if (msg_.saw_transfer_encoding) {
        return Reject(400, "http1.content_length_and_chunked_not_allowed", ec);
      }
      msg_.saw_content_length = true;
      break;
    case bhttp::field::transfer_encoding:
      if (msg_.saw_content_length) return Reject(400, "http1.content_length_and_chunked_not_allowed", ec);
      msg_.saw_transfer_encoding = true;
      if constexpr (isRequest) {
        if (msg_.version == 10) return Reject(400, "http1.invalid_transfer_encoding", ec);
        const std::string_view t = Trim(v);
        if (!IEquals(t, "chunked")) {
          // "gzip, chunked" is a coding we do not implement (501); anything not ending in chunked
          // has no reliable framing (400, RFC 9112 6.3).
          const auto comma = t.rfind(',');
          const bool chunked_last = comma != std::string_view::npos && IEquals(Trim(t.substr(comma + 1)), "chunked");
          return Reject(chunked_last ? 501 : 400, "http1.invalid_transfer_encoding", ec);
        }
      }
      break;
    case bhttp::field::host:
      if (msg_.has_host && isRequest) return Reject(400, "http1.duplicate_host", ec);
      msg_.has_host = true;
      break;
    case bhttp::field::connection:
      msg_.has_connection_header = true;
      for (auto token : bhttp::token_list{value}) {
        if (beast::iequals(token, "close")) msg_.connection_close = true;
        else if (beast::iequals(token, "keep-alive")) msg_.connection_keep_alive = true;
        else if (beast::iequals(token, "upgrade")) msg_.connection_upgrade = true;
      }
      break;
    case bhttp::field::expect:
      if (IEquals(Trim(v), "100-continue")) msg_.expect_continue = true;
      break;
    default:
      break;
  }
  msg_.fields.push_back({f, Append(msg_.arena, {name.data(), name.size()}), Append(msg_.arena, v)});
}

template <bool isRequest>
void Parser<isRequest>::on_header_impl(error_code& ec) {
  if constexpr (isRequest) {
    // An absolute-form target carries the authority itself (RFC 9112 3.2.2).
    if (msg_.version == 11 && !msg_.has_host && !msg_.absolute_form) return Reject(400, "missing_host_header", ec);
  }
}

template <bool isRequest>
void Parser<isRequest>::on_body_init_impl(boost::optional<std::uint64_t> const&, error_code&) {}

template <bool isRequest>
void Parser<isRequest>::EmitBody(string_view body) {
  msg_.body_bytes += body.size();
  if (msg_.body_out == nullptr || msg_.out_framing == Framing::kNone || body.empty()) return;
  if (msg_.out_framing == Framing::kChunked) {
    char hex[24];
    const int n = std::snprintf(hex, sizeof hex, "%zx\r\n", body.size());
    msg_.body_out->append(hex, static_cast<size_t>(n));
    msg_.body_out->append(body.data(), body.size());
    msg_.body_out->append("\r\n");
  } else {
    msg_.body_out->append(body.data(), body.size());
  }
}

template <bool isRequest>
std::size_t Parser<isRequest>::on_body_impl(string_view body, error_code&) {
  EmitBody(body);
  return body.size();
}

template <bool isRequest>
void Parser<isRequest>::on_chunk_header_impl(std::uint64_t, string_view, error_code&) {}

template <bool isRequest>
std::size_t Parser<isRequest>::on_chunk_body_impl(std::uint64_t, string_view body, error_code&) {
  EmitBody(body);
  return body.size();
}

template <bool isRequest>
void Parser<isRequest>::on_finish_impl(error_code&) {
  msg_.body_done = true;
  if (msg_.body_out == nullptr || msg_.out_framing != Framing::kChunked) return;
  msg_.body_out->append("0\r\n");
  for (const auto& t : msg_.trailers) {
    msg_.body_out->append(msg_.TrailerView(t.name));
    msg_.body_out->append(": ");
    msg_.body_out->append(msg_.TrailerView(t.value));
    msg_.body_out->append("\r\n");
  }
  msg_.body_out->append("\r\n");
}

template class Parser<true>;
template class Parser<false>;

ParseFailure ClassifyRequestError(const Message& msg, const beast::error_code& ec) {
  if (msg.reject_status != 0) return {msg.reject_status, msg.reject_details};
  if (ec == bhttp::error::header_limit) {
    if (!msg.request_line_done) return {414, "http1.uri_too_long"};
    return {431, "http1.headers_too_large"};
  }
  // Beast rejects the second of Content-Length / Transfer-Encoding before our callback sees it.
  if ((ec == bhttp::error::bad_content_length && msg.saw_transfer_encoding) ||
      (ec == bhttp::error::bad_transfer_encoding && msg.saw_content_length)) {
    return {400, "http1.content_length_and_chunked_not_allowed"};
  }
  if (ec == bhttp::error::bad_content_length) return {400, "http1.invalid_content_length"};
  if (ec == bhttp::error::bad_transfer_encoding) return {400, "http1.invalid_transfer_encoding"};
  if (ec == bhttp::error::bad_chunk || ec == bhttp::error::bad_chunk_extension) {
    return {400, "http1.invalid_chunk"};
  }
  if (ec == bhttp::error::bad_version) return {400, "http1.codec_error"};
  if (ec == bhttp::error::partial_message) return {400, "http1.codec_error"};
  return {400, "http1.codec_error"};
}

std::string_view ReasonPhrase(unsigned status) {
  const auto s = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  if (s.empty() || s.front() == '<') return "Unknown";
  return {s.data(), s.size()};
}

bool IsHopByHop(bhttp::field f, std::string_view name) {
  switch (f) {
    case bhttp::field::connection:
    case bhttp::field::keep_alive:
    case bhttp::field::proxy_connection:
    case bhttp::field::te:
    case bhttp::field::transfer_encoding:
    case bhttp::field::upgrade:
    case bhttp::field::proxy_authenticate:
    case bhttp::field::proxy_authorization:
      return true;
    default:
      return f == bhttp::field::unknown && IEquals(name, "proxy-connection");
  }
}

}  // namespace meshlog::proxy::http
