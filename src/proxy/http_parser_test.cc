#include "proxy/http_parser.h"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <optional>
#include <string>
#include <tuple>

namespace meshlog::proxy::http {
namespace {

namespace bhttp = boost::beast::http;

struct Parsed {
  beast::error_code ec;
  bool header_done = false;
  bool done = false;
  size_t used = 0;
};

template <bool isRequest>
Parsed ParseAll(Parser<isRequest>& p, std::string_view data, bool eager = true) {
  Parsed r;
  p.eager(eager);
  while (r.used < data.size()) {
    const size_t n = p.put(boost::asio::buffer(data.data() + r.used, data.size() - r.used), r.ec);
    r.used += n;
    if (r.ec == bhttp::error::need_more) {
      r.ec = {};
      break;
    }
    if (r.ec || p.is_done() || n == 0) break;
  }
  r.header_done = p.is_header_done();
  r.done = p.is_done();
  return r;
}

// A Message whose body is copied to `out` framed as `framing`, with default limits.
struct CapturedBody {
  explicit CapturedBody(Framing framing) {
    msg.body_out = &out;
    msg.out_framing = framing;
  }
  Message msg;
  std::string out;
  ParserLimits limits;
};

// A RequestParser or ResponseParser (P) over a CapturedBody.
template <class P>
struct BodyParser : CapturedBody {
  explicit BodyParser(Framing framing) : CapturedBody(framing), p(msg, limits) {}
  P p;
};

TEST(HttpParserTest, ParsesRequestHeadIntoOwnedArena) {
  Message msg;
  ParserLimits limits;
  RequestParser p(msg, limits);
  std::string input = "GET /a?b=1 HTTP/1.1\r\nHost: example\r\nX-Request-Id: abc\r\nConnection: keep-alive\r\n\r\n";
  auto r = ParseAll(p, input);
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_TRUE(r.done);
  input.assign(input.size(), '#');  // the message does not point into the input
  EXPECT_EQ(msg.Method(), "GET");
  EXPECT_EQ(msg.Target(), "/a?b=1");
  EXPECT_EQ(msg.version, 11u);
  EXPECT_EQ(msg.Get(bhttp::field::host), "example");
  ASSERT_EQ(msg.fields.size(), 3u);
  EXPECT_EQ(msg.View(msg.fields[1].name), "X-Request-Id");
  EXPECT_EQ(msg.View(msg.fields[1].value), "abc");
  EXPECT_TRUE(msg.connection_keep_alive);
  EXPECT_FALSE(msg.connection_close);
}

TEST(HttpParserTest, ParsesResponseWithContentLength) {
  BodyParser<ResponseParser> b(Framing::kRaw);
  auto [msg, out, p] = std::tie(b.msg, b.out, b.p);
  auto r = ParseAll(p, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello");
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_TRUE(r.header_done);
  EXPECT_TRUE(r.done) << r.used;
  EXPECT_EQ(msg.status, 200u);
  EXPECT_EQ(msg.Reason(), "OK");
  // Not eager: stopped after the header. Continue with the body.
  if (!r.done) {
    p.eager(true);
    beast::error_code ec;
    std::string_view rest = "hello";
    p.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    EXPECT_FALSE(ec) << ec.message();
  }
  EXPECT_TRUE(p.is_done());
  EXPECT_EQ(out, "hello");
  EXPECT_EQ(msg.body_bytes, 5u);
}

TEST(HttpParserTest, RechunksChunkedBodiesWithTrailers) {
  BodyParser<RequestParser> b(Framing::kChunked);
  auto [msg, out, p] = std::tie(b.msg, b.out, b.p);
  auto r = ParseAll(p, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n");
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_TRUE(r.done);
  EXPECT_EQ(out, "3\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n");
  EXPECT_EQ(msg.body_bytes, 5u);
  ASSERT_EQ(msg.trailers.size(), 1u);
  EXPECT_EQ(msg.TrailerView(msg.trailers[0].value), "1");
}

TEST(HttpParserTest, DechunksForRawFraming) {
  BodyParser<ResponseParser> b(Framing::kRaw);
  auto [msg, out, p] = std::tie(b.msg, b.out, b.p);
  auto r = ParseAll(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  ASSERT_FALSE(r.ec) << r.ec.message();
  EXPECT_TRUE(r.done);
  EXPECT_EQ(out, "abc");
}

struct Case {
  std::string input;
  unsigned status;
  std::string_view details;
};

TEST(HttpParserTest, SmugglingAndLimitsAreClassified) {
  const std::vector<Case> cases = {
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
       "http1.content_length_and_chunked_not_allowed"},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n", 400,
       "http1.content_length_and_chunked_not_allowed"},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\nContent-Length: 1\r\n\r\n", 400,
       "http1.invalid_transfer_encoding"},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 400,
       "http1.invalid_transfer_encoding"},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501,
       "http1.invalid_transfer_encoding"},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
       "http1.invalid_transfer_encoding"},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
       "http1.invalid_content_length"},
      {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, "http1.invalid_content_length"},
      {"GET / HTTP/1.1\r\n\r\n", 400, "missing_host_header"},
      {"GET / HTTP/1.1\r\nHost: a\r\n" + std::string(200, 'x') + "\r\n\r\n", 400, "http1.codec_error"},
      {"GET /" + std::string(2000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414, "http1.uri_too_long"},
      {"GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(5000, 'a') + "\r\n\r\n", 431, "http1.headers_too_large"},
      {"GET /" + std::string(5000, 'a'), 414, "http1.uri_too_long"},
  };
  ParserLimits limits;
  limits.max_header_bytes = 4096;
  limits.max_uri_bytes = 1024;
  for (const auto& c : cases) {
    Message msg;
    RequestParser p(msg, limits);
    auto r = ParseAll(p, c.input, false);
    ASSERT_TRUE(r.ec) << c.input.substr(0, 80);
    const auto f = ClassifyRequestError(msg, r.ec);
    EXPECT_EQ(f.status, c.status) << c.input.substr(0, 80) << " " << r.ec.message();
    EXPECT_EQ(f.details, c.details) << c.input.substr(0, 80);
  }
}

// Absolute-form targets are split as Envoy's HTTP/1 codec does (RFC 9112 3.2.2): the target's
// authority replaces Host, its path and query become :path, its scheme :scheme.
TEST(HttpParserTest, AbsoluteFormTargetsAreSplit) {
  struct AbsCase {
    std::string request;
    std::string_view path;
    std::optional<std::string_view> authority;
    bool absolute;
    std::string_view scheme;
  };
  const std::vector<AbsCase> cases = {
      {"GET http://example.com/abs?q=1 HTTP/1.1\r\nHost: other\r\n\r\n", "/abs?q=1", "example.com", true, "http"},
      {"GET http://example.com:8080 HTTP/1.1\r\n\r\n", "/", "example.com:8080", true, "http"},
      {"GET HTTPS://user:pw@Example.com:443?x=1#f HTTP/1.1\r\n\r\n", "?x=1#f", "Example.com:443", true, "https"},
      {"GET http://[::1]:9901/ready HTTP/1.1\r\nHost: a\r\n\r\n", "/ready", "[::1]:9901", true, "http"},
      {"GET http://[2001:db8::1]/x HTTP/1.1\r\n\r\n", "/x", "[2001:db8::1]", true, "http"},
      {"GET http://10.0.0.1/ HTTP/1.0\r\n\r\n", "/", "10.0.0.1", true, "http"},
      {"GET /origin HTTP/1.1\r\nHost: h\r\n\r\n", "/origin", "h", false, ""},
      {"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", "*", "h", false, ""},
      {"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", "example.com:443", "example.com:443",
       false, ""},
  };
  for (const auto& c : cases) {
    Message msg;
    ParserLimits limits;
    RequestParser p(msg, limits);
    auto r = ParseAll(p, c.request);
    ASSERT_FALSE(r.ec) << c.request << ": " << r.ec.message() << " " << msg.reject_details;
    EXPECT_EQ(msg.absolute_form, c.absolute) << c.request;
    EXPECT_EQ(msg.Path(), c.path) << c.request;
    EXPECT_EQ(msg.Authority(), c.authority) << c.request;
    if (c.absolute) {
      EXPECT_EQ(msg.View(msg.abs_scheme), c.scheme) << c.request;
    }
  }
}

TEST(HttpParserTest, BadAbsoluteFormTargetsAre400) {
  const std::vector<Case> cases = {
      {"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, "http1.invalid_url"},
      {"GET example.com/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "http1.invalid_url"},
      {"GET http:/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "http1.invalid_url"},
      {"GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "http1.invalid_url"},
      {"GET http://a:99999/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "http1.invalid_url"},
      {"GET http://a:8x/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "http1.invalid_url"},
      {"GET http://a:/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "http1.invalid_url"},
      {"GET http://[::1]x/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "http1.invalid_url"},
      {"GET http://[::1/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "http1.invalid_url"},
      {"GET http://a<b/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "http1.invalid_url"},
      {"GET ftp://example.com/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "http1.invalid_scheme"},
  };
  for (const auto& c : cases) {
    Message msg;
    ParserLimits limits;
    RequestParser p(msg, limits);
    auto r = ParseAll(p, c.input, false);
    ASSERT_TRUE(r.ec) << c.input;
    const auto f = ClassifyRequestError(msg, r.ec);
    EXPECT_EQ(f.status, c.status) << c.input;
    EXPECT_EQ(f.details, c.details) << c.input;
  }
}

TEST(HttpParserTest, TooManyHeadersIs431) {
  ParserLimits limits;
  limits.max_header_count = 3;
  Message msg;
  RequestParser p(msg, limits);
  auto r = ParseAll(p, "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", false);
  ASSERT_TRUE(r.ec);
  EXPECT_EQ(ClassifyRequestError(msg, r.ec).status, 431u);
}

TEST(HttpParserTest, FieldsNamedByConnectionAreHopByHop) {
  Message msg;
  ParserLimits limits;
  RequestParser p(msg, limits);
  auto r = ParseAll(p, "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\n\r\n");
  ASSERT_FALSE(r.ec);
  EXPECT_TRUE(msg.NamedByConnection("x-secret"));
  EXPECT_FALSE(msg.NamedByConnection("host"));
}

TEST(HttpParserTest, Http10AndHelpers) {
  Message msg;
  ParserLimits limits;
  RequestParser p(msg, limits);
  auto r = ParseAll(p, "GET / HTTP/1.0\r\n\r\n");
  ASSERT_FALSE(r.ec);
  EXPECT_EQ(msg.version, 10u);
  EXPECT_EQ(ReasonPhrase(404), "Not Found");
  EXPECT_EQ(ReasonPhrase(799), "Unknown");
  EXPECT_TRUE(IsHopByHop(bhttp::field::connection, "Connection"));
  EXPECT_TRUE(IsHopByHop(bhttp::field::transfer_encoding, "Transfer-Encoding"));
  EXPECT_FALSE(IsHopByHop(bhttp::field::content_length, "Content-Length"));
  EXPECT_TRUE(IEquals("X-Request-ID", "x-request-id"));
}

}  // namespace
}  // namespace meshlog::proxy::http
