// libFuzzer target for the proxy's request parsing path: arbitrary bytes, fed in up to three
// pieces (as they arrive from a socket), must either parse or be classified into an HTTP error;
// never crash, never read out of bounds, never consume more than given.
#include <cstddef>
#include <cstdint>
#include <string>

#include <boost/asio/buffer.hpp>

#include "proxy/http_parser.h"

using meshlog::proxy::http::ClassifyRequestError;
using meshlog::proxy::http::Framing;
using meshlog::proxy::http::Message;
using meshlog::proxy::http::ParserLimits;
using meshlog::proxy::http::RequestParser;
using meshlog::proxy::http::ResponseParser;

namespace {

template <typename P>
void Feed(P& parser, Message& msg, const uint8_t* data, size_t size, size_t split1, size_t split2) {
  std::string buffered;
  const size_t cuts[] = {split1, split2, size};
  size_t fed = 0;
  for (size_t cut : cuts) {
    // Beast's contract (asserted in its debug build): after need_more, call put() again only with
    // the unconsumed bytes plus at least one new byte. The proxy reads before every retry.
    if (cut <= fed || cut > size) continue;
    buffered.append(reinterpret_cast<const char*>(data) + fed, cut - fed);
    fed = cut;
    for (;;) {
      if (parser.is_header_done() && !meshlog::proxy::http::CanPut(parser, buffered.size())) break;
      boost::beast::error_code ec;
      const size_t used = parser.put(boost::asio::buffer(buffered.data(), buffered.size()), ec);
      if (used > buffered.size()) __builtin_trap();
      buffered.erase(0, used);
      if (ec == boost::beast::http::error::need_more) break;
      if (ec) {
        const auto f = ClassifyRequestError(msg, ec);
        if (f.status < 400 || f.status > 599) __builtin_trap();
        return;
      }
      if (parser.is_header_done()) parser.eager(true);
      if (parser.is_done() || used == 0) break;
    }
    if (parser.is_done()) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const size_t split1 = data[0] % (size + 1);
  const size_t split2 = split1 + data[1] % (size + 1 - split1);
  const bool response = data[2] & 1;
  const Framing framing = (data[2] & 2) ? Framing::kChunked : Framing::kRaw;
  data += 3;
  size -= 3;
  ParserLimits limits;
  limits.max_header_bytes = 4096;
  limits.max_uri_bytes = 1024;
  limits.max_header_count = 32;
  Message msg;
  std::string out;
  msg.body_out = &out;
  msg.out_framing = framing;
  if (response) {
    ResponseParser p(msg, limits);
    Feed(p, msg, data, size, split1 > size ? size : split1, split2 > size ? size : split2);
  } else {
    RequestParser p(msg, limits);
    Feed(p, msg, data, size, split1 > size ? size : split1, split2 > size ? size : split2);
    if (p.is_header_done()) {
      // Views into the arena must be readable.
      volatile size_t sum = msg.Method().size() + msg.Target().size() + msg.Path().size() + msg.Authority().value_or("").size();
      for (const auto& f : msg.fields) sum = sum + msg.View(f.name).size() + msg.View(f.value).size();
      (void)sum;
    }
  }
  if (msg.body_bytes > size) __builtin_trap();
  return 0;
}
