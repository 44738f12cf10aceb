// Why the proxy parses HTTP/1.1 with Boost.Beast's basic_parser and its own callbacks.
//
// Debian bookworm offers two HTTP/1 parsers: Boost.Beast (maintained with Boost, strict RFC 7230/9112
// grammar) and nodejs' http-parser 2.9 (libhttp-parser-dev; archived upstream, superseded by llhttp,
// which Debian does not package). So the choice is between Beast's ready-made request_parser
// (allocating fields and body into a message object) and basic_parser with our own callbacks (fields
// copied once into a reused arena, body streamed). These benchmarks measure both on a Kuma-like
// request, next to a lower bound: scanning for the end of the header without parsing anything.
#include <benchmark/benchmark.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstring>
#include <string>

#include "proxy/http_parser.h"

namespace {

namespace bhttp = boost::beast::http;
using meshlog::proxy::http::Framing;
using meshlog::proxy::http::Message;
using meshlog::proxy::http::ParserLimits;
using meshlog::proxy::http::RequestParser;

const std::string kGet =
    "GET /api/v1/orders?id=42&expand=items HTTP/1.1\r\n"
    "Host: backend.default.svc:8080\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "X-Request-Id: 3e1b7c1e-8f2a-4d43-9a57-1f6c3b2d9e10\r\n"
    "X-B3-TraceId: 80f198ee56343ba864fe8b2a57d3eff7\r\n"
    "X-B3-SpanId: e457b5a2e4d86bd1\r\n"
    "X-Forwarded-For: 10.0.0.7\r\n"
    "Accept-Encoding: gzip, deflate\r\n"
    "\r\n";

std::string ChunkedPost() {
  std::string s =
      "POST /upload HTTP/1.1\r\nHost: backend\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n";
  for (int i = 0; i < 4; ++i) s += "400\r\n" + std::string(1024, 'a') + "\r\n";
  s += "0\r\n\r\n";
  return s;
}

void BM_MeshlogParser_Get(benchmark::State& state) {
  Message msg;
  ParserLimits limits;
  std::string out;
  for (auto _ : state) {
    msg.Clear();
    msg.body_out = &out;
    RequestParser p(msg, limits);
    p.eager(true);
    boost::beast::error_code ec;
    p.put(boost::asio::buffer(kGet), ec);
    benchmark::DoNotOptimize(msg.fields.size());
    if (ec || !p.is_done()) state.SkipWithError("parse failed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kGet.size()));
}
BENCHMARK(BM_MeshlogParser_Get);

void BM_BeastRequestParserStringBody_Get(benchmark::State& state) {
  for (auto _ : state) {
    bhttp::request_parser<bhttp::string_body> p;
    p.eager(true);
    boost::beast::error_code ec;
    p.put(boost::asio::buffer(kGet), ec);
    benchmark::DoNotOptimize(p.get().target().size());
    if (ec || !p.is_done()) state.SkipWithError("parse failed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kGet.size()));
}
BENCHMARK(BM_BeastRequestParserStringBody_Get);

void BM_ScanForEndOfHeaderOnly_Get(benchmark::State& state) {
  for (auto _ : state) {
    const void* end = memmem(kGet.data(), kGet.size(), "\r\n\r\n", 4);
    benchmark::DoNotOptimize(end);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kGet.size()));
}
BENCHMARK(BM_ScanForEndOfHeaderOnly_Get);

void BM_MeshlogParser_ChunkedPost4K(benchmark::State& state) {
  const std::string input = ChunkedPost();
  Message msg;
  ParserLimits limits;
  std::string out;
  out.reserve(8192);
  for (auto _ : state) {
    msg.Clear();
    out.clear();
    msg.body_out = &out;
    msg.out_framing = Framing::kChunked;
    RequestParser p(msg, limits);
    p.eager(true);
    boost::beast::error_code ec;
    size_t used = 0;
    while (!ec && !p.is_done() && used < input.size()) {
      used += p.put(boost::asio::buffer(input.data() + used, input.size() - used), ec);
    }
    if (ec || !p.is_done()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(out.size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
}
BENCHMARK(BM_MeshlogParser_ChunkedPost4K);

void BM_BeastRequestParserStringBody_ChunkedPost4K(benchmark::State& state) {
  const std::string input = ChunkedPost();
  for (auto _ : state) {
    bhttp::request_parser<bhttp::string_body> p;
    p.eager(true);
    boost::beast::error_code ec;
    size_t used = 0;
    while (!ec && !p.is_done() && used < input.size()) {
      used += p.put(boost::asio::buffer(input.data() + used, input.size() - used), ec);
    }
    if (ec || !p.is_done()) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(p.get().body().size());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
}
BENCHMARK(BM_BeastRequestParserStringBody_ChunkedPost4K);

}  // namespace

BENCHMARK_MAIN();
