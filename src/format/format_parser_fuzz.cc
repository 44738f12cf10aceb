// libFuzzer: any bytes as a format string -> a compiled formatter or Envoy's error, never a crash.
// Compiled formatters are rendered against a fixed request (Plain, and JSON with the bytes as a
// value), which must not crash either; a JSON record must always be valid JSON.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "format/formatter.h"

namespace {

using namespace meshlog::format;  // NOLINT

struct Fixture {
  HeaderMap req, resp, trailers;
  StreamInfo info;
  Fixture() {
    req.add(":method", "GET");
    req.add(":path", "/a?b=c%20d");
    req.add(":authority", "example.com");
    req.add("content-type", "application/grpc");
    resp.add("grpc-status", "3");
    info.start_time = SystemTime(std::chrono::milliseconds(1522796769123));
    info.emit_time = info.start_time;
    info.protocol = Protocol::kHttp11;
    info.request_headers = &req;
    info.response_headers = &resp;
    info.response_trailers = &trailers;
    info.response_code = 200;
    info.duration = std::chrono::milliseconds(5);
    info.timing(TimePoint::kDsRxEnd) = std::chrono::milliseconds(1);
    info.upstream_host = *Address::Parse("10.0.0.1:443");
    info.downstream_remote = *Address::Parse("[::1]:80");
    info.requested_server_name = "sni with space";
    info.response_flags.set(ResponseFlag::UT);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = new Fixture();
  const std::string_view format(reinterpret_cast<const char*>(data), size);

  auto plain = CompilePlain(format, OmitEmptyValues(size % 2 == 0));
  const bool valid = !ValidateFormat(format).has_value();
  if (plain.ok() != valid) std::abort();  // the two entry points must agree
  if (plain.ok()) {
    std::string out;
    plain.value()->format(fixture->info, out);
  } else if (plain.error().empty()) {
    std::abort();  // every rejection carries a message
  }

  auto json = CompileJson({{"k", std::string(format)}, {"z", "%RESPONSE_CODE%"}}, OmitEmptyValues(size % 3 == 0));
  if (json.ok()) {
    std::string out;
    json.value()->format(fixture->info, out);
    if (out.empty() || out.back() != '\n' || !nlohmann::json::accept(std::string_view(out).substr(0, out.size() - 1))) {
      std::abort();
    }
  }
  return 0;
}
