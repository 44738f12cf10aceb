// File: http_parser.h
//
// Strict HTTP/1.1 message parsing for the proxy, on Boost.Beast's basic_parser (RFC 9112 grammar,
// zero-copy callbacks, no allocation per message in steady state) plus the checks Beast leaves to
// the application:
//
// * Transfer-Encoding in a request must be exactly "chunked" (any other final coding -> 400, an
//   extra coding before chunked -> 501); Content-Length together with Transfer-Encoding -> 400
//   (request smuggling defence, RFC 9112 6.1/6.3). Conflicting Content-Length values -> 400.
// * Request line longer than the header limit or a target longer than max_uri_bytes -> 414,
//   header section larger than max_header_bytes or more than max_header_count fields -> 431.
// * HTTP/1.1 requests without Host -> 400; Transfer-Encoding in an HTTP/1.0 request -> 400.
// * Absolute-form request targets ("GET http://example.com:8080/a?b HTTP/1.1", RFC 9112 3.2.2)
//   are taken apart as Envoy's codec does: the target's host[:port] replaces any Host field
//   (Authority()), its path and query become the path (Path(); "/" when empty), its scheme
//   (lower-cased) the scheme. Not a URL -> 400 http1.invalid_url; a scheme other than http/https
//   -> 400 http1.invalid_scheme. Origin-form ("/..."), "OPTIONS *" and CONNECT's authority-form
//   stay as they are.
//
// The parsed start line, fields and trailers are copied into the Message's own arenas (strings
// whose capacity is reused), so views stay valid after the input buffer has moved on. Body bytes
// are appended to `Message::body_out` re-framed as the caller asks (raw, or re-chunked), so the
// proxy streams bodies in bounded pieces and never buffers a whole body.
//
// Contract (from Beast): after put() reports need_more, call it again only with the unconsumed
// bytes plus at least one new byte.
//
// Example:
//   Message msg;
//   RequestParser p(msg, limits);
//   beast::error_code ec;
//   size_t used = p.put(asio::buffer(data, n), ec);   // need_more / done / error
//   if (p.is_header_done()) { msg.Method(); msg.Path(); msg.Authority(); }
#pragma once

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "format/stream_info.h"

namespace meshlog::proxy::http {

namespace beast = boost::beast;

struct ParserLimits {
  uint32_t max_header_bytes = 60 * 1024;
  uint32_t max_uri_bytes = 16 * 1024;
  uint32_t max_header_count = 100;
};

// How body bytes are written to Message::body_out.
enum class Framing : uint8_t { kNone, kRaw, kChunked };

struct Span {
  uint32_t off = 0;
  uint32_t len = 0;
};

struct Message {
  struct Field {
    beast::http::field f = beast::http::field::unknown;
    Span name;
    Span value;
  };

  // Start line.
  beast::http::verb verb = beast::http::verb::unknown;
  Span method;
  Span target;
  Span reason;
  unsigned status = 0;
  unsigned version = 11;  // 10 or 11

  std::string arena;           // start line + fields
  std::string trailer_arena;   // trailers
  std::vector<Field> fields;
  std::vector<Field> trailers;

  // Framing seen in the header.
  bool saw_content_length = false;
  bool saw_transfer_encoding = false;
  bool has_host = false;
  bool connection_close = false;
  bool connection_keep_alive = false;
  bool connection_upgrade = false;
  bool expect_continue = false;
  bool request_line_done = false;
  // Absolute-form target, split (see the file comment); the spans point into `arena`.
  bool absolute_form = false;
  Span abs_scheme;
  Span abs_authority;
  Span abs_path;

  // Set by the strict checks: the status to answer and Envoy-style details.
  unsigned reject_status = 0;
  std::string_view reject_details;

  // Body output (owned by the caller, appended to).
  std::string* body_out = nullptr;
  Framing out_framing = Framing::kRaw;
  uint64_t body_bytes = 0;  // decoded body bytes seen so far
  bool body_done = false;

  void Clear();
  std::string_view View(Span s) const { return {arena.data() + s.off, s.len}; }
  std::string_view TrailerView(Span s) const { return {trailer_arena.data() + s.off, s.len}; }
  std::string_view Method() const { return View(method); }
  std::string_view Target() const { return View(target); }
  // The request's path (":path"): the target, or for an absolute-form target its path and query.
  std::string_view Path() const { return absolute_form ? View(abs_path) : View(target); }
  // The request's authority (":authority"): the absolute-form target's host[:port], else the Host
  // field (nullopt when there is none).
  std::optional<std::string_view> Authority() const;
  std::string_view Reason() const { return View(reason); }
  // First value of a field, by Beast's field enum.
  std::optional<std::string_view> Get(beast::http::field f) const;
  // True when a Connection header names `field_name` (RFC 9110 7.6.1: that field is hop-by-hop).
  bool NamedByConnection(std::string_view field_name) const;
  bool has_connection_header = false;
};

// Shared implementation of the Beast callbacks for requests (true) and responses (false).
template <bool isRequest>
class Parser final : public beast::http::basic_parser<isRequest> {
 public:
  Parser(Message& msg, const ParserLimits& limits);

  Message& message() { return msg_; }

 private:
  using error_code = beast::error_code;
  using string_view = beast::string_view;

  void on_request_impl(beast::http::verb method, string_view method_str, string_view target, int version,
                       error_code& ec) override;
  void on_response_impl(int code, string_view reason, int version, error_code& ec) override;
  void on_field_impl(beast::http::field name, string_view name_string, string_view value,
                     error_code& ec) override;
  void on_header_impl(error_code& ec) override;
  void on_body_init_impl(boost::optional<std::uint64_t> const& content_length, error_code& ec) override;
  std::size_t on_body_impl(string_view body, error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t size, string_view extensions, error_code& ec) override;
  std::size_t on_chunk_body_impl(std::uint64_t remain, string_view body, error_code& ec) override;
  void on_finish_impl(error_code& ec) override;

  void Reject(unsigned status, std::string_view details, error_code& ec);
  void EmitBody(string_view body);

  Message& msg_;
  const ParserLimits& limits_;
};

using RequestParser = Parser<true>;
using ResponseParser = Parser<false>;

// Whether `buffered` unconsumed bytes may be handed to put() in the body phase. Beast 1.74 asserts
// (debug builds only; release is unaffected) that a chunked body resumed after need_more presents
// at least 5 bytes, which a TCP segment boundary right after the last chunk ("0\r\n") violates.
// Every complete chunked remainder is >= 5 bytes ("0\r\n\r\n"), so waiting for 5 never stalls.
template <bool isRequest>
bool CanPut(const Parser<isRequest>& parser, size_t buffered) {
  if (buffered == 0) return false;
  return !(parser.is_header_done() && parser.chunked() && buffered < 5);
}

// What to answer for a request that failed to parse: status and Envoy-style response code details.
struct ParseFailure {
  unsigned status = 400;
  std::string_view details;
};
ParseFailure ClassifyRequestError(const Message& msg, const beast::error_code& ec);

// Splits an absolute-form request target "scheme://[userinfo@]host[:port][path][?query]" the way
// Envoy's codec does (http_parser's URL rules): the authority is host[:port] without userinfo,
// the path everything after it ("/" when that is empty). False when `target` is not such a URL
// (no "://", empty or malformed host, a port that is not a number up to 65535).
struct AbsoluteUrl {
  std::string_view scheme;
  std::string_view authority;
  std::string_view path;
};
bool ParseAbsoluteUrl(std::string_view target, AbsoluteUrl& out);

// ASCII case-insensitive equality.
bool IEquals(std::string_view a, std::string_view b);

// Standard reason phrase ("Not Found") for a status code ("Unknown" when none).
std::string_view ReasonPhrase(unsigned status);

// True for hop-by-hop fields that a proxy never forwards (RFC 9110 7.6.1), plus framing fields the
// proxy regenerates (Content-Length is kept; Transfer-Encoding is regenerated).
bool IsHopByHop(beast::http::field f, std::string_view name);

}  // namespace meshlog::proxy::http
