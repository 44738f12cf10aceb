// libFuzzer: arbitrary header (and other traffic) bytes rendered through fixed formats.
// Properties checked (abort on violation):
//   - every JSON record is exactly one valid JSON document (nlohmann::json::accept) + "\n";
//   - a plain record built from a format without control bytes contains no C0 byte except TAB
//     and the final "\n" (one request can never forge a second log line).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "format/formatter.h"
#include "format/otel_template.h"

namespace {

using namespace meshlog::format;  // NOLINT

struct Formats {
  std::vector<FormatterPtr> json;
  std::vector<FormatterPtr> plain;
  std::shared_ptr<const OtelTemplate> otel;
  Formats() {
    const JsonFields fields = {{"method", "%REQ(:method)%"},
                               {"path", "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"},
                               {"trunc", "%REQ(x-a):3%"},
                               {"multi", "%REQ(x-a)% and %RESP(x-b):5% %TRAILER(x-c)%"},
                               {"query", "%QUERY_PARAM(q)%"},
                               {"query_multi", "[%QUERY_PARAM(q):4%]"},
                               {"sni", "%REQUESTED_SERVER_NAME%"},
                               {"details", "%RESPONSE_CODE_DETAILS(ALLOW_WHITESPACES)%"},
                               {"details2", "%RESPONSE_CODE_DETAILS%"},
                               {"grpc", "%GRPC_STATUS%"},
                               {"grpc_n", "%GRPC_STATUS(NUMBER)%"},
                               {"host", "%UPSTREAM_HOST_NAME_WITHOUT_PORT%"},
                               {"path_nq", "%PATH(NQ)%"},
                               {"reply", "%LOCAL_REPLY_BODY%"},
                               {"trace", "%TRACE_ID%"},
                               {"k\x01\xff", "%STREAM_ID%"}};
    for (bool omit : {false, true}) {
      json.push_back(CompileJson(fields, OmitEmptyValues(omit)).value());
      std::string fmt;
      for (const auto& [k, v] : fields) {
        if (k == "k\x01\xff") continue;
        fmt += k + "=" + v + " ";
      }
      plain.push_back(CompilePlain(fmt + "\n", OmitEmptyValues(omit)).value());
      plain.push_back(
          CompilePlain(BindKumaPlaceholders(DefaultHttpFormat(), KumaValues{}) + "\n", OmitEmptyValues(omit)).value());
    }
    otel = OtelTemplate::Compile(OtelValue::KvList({{"p", OtelValue::String("%REQ(:path)% %REQ(x-a):2%")}}),
                                 {{"a", "%REQ(x-b)%"}}, KumaValues{})
               .value();
  }
};

bool IsUtf8(const std::string& s) {
  return nlohmann::json::accept("\"" + [&] {
    std::string e;
    for (char c : s) {  // escape only what JSON requires, keep other bytes raw
      if (c == '"' || c == '\\') {
        e.push_back('\\');
        e.push_back(c);
      } else if (static_cast<unsigned char>(c) < 0x20) {
        e += "\\u0020";
      } else {
        e.push_back(c);
      }
    }
    return e;
  }() + "\"");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Formats* formats = new Formats();
  FuzzedDataProvider fdp(data, size);
  std::vector<std::string> storage;
  storage.reserve(64);
  auto bytes = [&] {
    storage.push_back(fdp.ConsumeRandomLengthString(64));
    return std::string_view(storage.back());
  };
  static const char* kNames[] = {":method", ":path", "x-envoy-original-path", "x-a", "x-b", "x-c", "content-type",
                                 "grpc-status", "X-A"};
  HeaderMap req, resp, trailers;
  StreamInfo info;
  info.start_time = SystemTime(std::chrono::nanoseconds(fdp.ConsumeIntegral<int64_t>() % 4102444800000000000LL));
  info.emit_time = info.start_time;
  for (HeaderMap* map : {&req, &resp, &trailers}) {
    const int n = fdp.ConsumeIntegralInRange(0, 6);
    for (int i = 0; i < n; ++i) {
      const std::string_view name = fdp.ConsumeBool() ? std::string_view(kNames[fdp.ConsumeIntegralInRange(0, 8)])
                                                      : bytes();
      map->add(name, bytes());
    }
  }
  if (fdp.ConsumeBool()) info.request_headers = &req;
  if (fdp.ConsumeBool()) info.response_headers = &resp;
  if (fdp.ConsumeBool()) info.response_trailers = &trailers;
  info.requested_server_name = bytes();
  info.response_code_details = bytes();
  info.upstream_host_name = bytes();
  info.local_reply_body = bytes();
  info.trace_id = bytes();
  info.stream_id = bytes();
  if (fdp.ConsumeBool()) info.response_code = fdp.ConsumeIntegral<uint32_t>();

  std::string out;
  for (const auto& f : formats->json) {
    out.clear();
    f->format(info, out);
    if (out.empty() || out.back() != '\n') std::abort();
    if (!nlohmann::json::accept(std::string_view(out).substr(0, out.size() - 1))) std::abort();
  }
  for (const auto& f : formats->plain) {
    out.clear();
    f->format(info, out);
    for (size_t i = 0; i + 1 < out.size(); ++i) {
      const auto c = static_cast<unsigned char>(out[i]);
      if (c < 0x20 && c != '\t') std::abort();
    }
    if (out.empty() || out.back() != '\n') std::abort();
  }
  OtelRecord record;
  formats->otel->Render(info, record);
  if (!IsUtf8(record.body.kvlist_values.at(0).second.string_value) || !IsUtf8(record.attributes.at(0).second)) {
    std::abort();  // OTLP strings must be UTF-8
  }
  return 0;
}
