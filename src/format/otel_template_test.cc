// OpenTelemetry body/attribute templates (policy.md 4.8, formatter.md 6.2).
#include "format/otel_template.h"

#include <gtest/gtest.h>

#include "format/test_util.h"

namespace meshlog::format {
namespace {

using testing::TcpInfo;
using testing::TestRequest;

KumaValues Kuma() {
  KumaValues k;
  k.mesh = "default";
  k.source_service = "web";
  k.destination_service = "backend";
  k.source_ip = "127.0.0.1";
  k.direction = "OUTBOUND";
  return k;
}

std::shared_ptr<const OtelTemplate> Compile(const OtelValue& body, const OtelTemplate::Attributes& attrs = {}) {
  auto t = OtelTemplate::Compile(body, attrs, Kuma());
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error());
  return t.ok() ? t.value() : nullptr;
}

TEST(OtelTemplateTest, StringBodyAndAttributes) {
  TestRequest r;
  auto t = Compile(OtelValue::String("%KUMA_MESH% %RESPONSE_CODE% %REQ(x-missing)%"),
                   {{"path", "%REQ(:path)%"}, {"%KUMA_SOURCE_SERVICE%-key", "%DURATION%"}});
  ASSERT_TRUE(t);
  OtelRecord rec;
  t->Render(r.info, rec);
  EXPECT_EQ(rec.time_unix_nano, 1522796769123000000ULL);
  EXPECT_EQ(rec.body, OtelValue::String("default 200 -"));
  ASSERT_EQ(rec.attributes.size(), 2u);
  EXPECT_EQ(rec.attributes[0], (std::pair<std::string, std::string>{"path", "/bar/foo?x=1"}));
  // Attribute keys get Kuma placeholders, values are strings even for numeric operators.
  EXPECT_EQ(rec.attributes[1], (std::pair<std::string, std::string>{"web-key", "15"}));
}

TEST(OtelTemplateTest, StructureKeptOrderKeptKeysBound) {
  TestRequest r;
  auto t = Compile(OtelValue::KvList(
      {{"z", OtelValue::String("%PROTOCOL%")},
       {"%KUMA_MESH%", OtelValue::String("x")},
       {"list", OtelValue::Array({OtelValue::String("%RESPONSE_CODE%"),
                                  OtelValue::KvList({{"inner", OtelValue::String("%REQ(:method)%")}})})},
       {"%REQ(:method)%", OtelValue::String("keys are not format strings")}}));
  ASSERT_TRUE(t);
  const OtelValue body = t->RenderBody(r.info);
  const OtelValue want = OtelValue::KvList(
      {{"z", OtelValue::String("HTTP/1.1")},
       {"default", OtelValue::String("x")},
       {"list", OtelValue::Array({OtelValue::String("200"), OtelValue::KvList({{"inner", OtelValue::String("GET")}})})},
       {"%REQ(:method)%", OtelValue::String("keys are not format strings")}});
  EXPECT_EQ(body, want);
}

TEST(OtelTemplateTest, NoBody) {
  TestRequest r;
  auto t = Compile(OtelValue{});
  ASSERT_TRUE(t);
  OtelRecord rec;
  t->Render(r.info, rec);
  EXPECT_EQ(rec.body.kind, OtelValue::Kind::kEmpty);
  EXPECT_TRUE(rec.attributes.empty());
}

TEST(OtelTemplateTest, UnsupportedValues) {
  OtelValue b;
  b.kind = OtelValue::Kind::kBool;
  for (const OtelValue& body : {b, OtelValue::KvList({{"k", b}}), OtelValue::Array({OtelValue{}})}) {
    auto t = OtelTemplate::Compile(body, {}, Kuma());
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error(),
              "Only string values, nested key value lists and array values are supported in OpenTelemetry access "
              "log format.");
  }
}

TEST(OtelTemplateTest, FormatErrors) {
  auto t = OtelTemplate::Compile(OtelValue::String("%bad%"), {}, Kuma());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error(), "Incorrect configuration: %bad%. Couldn't find valid command at position 0");
  auto a = OtelTemplate::Compile(OtelValue{}, {{"k", "%PROTOCOL(x)%"}}, Kuma());
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error(), "PROTOCOL does not take any parameters or length");
}

TEST(OtelTemplateTest, TrafficBytesAreUtf8Safe) {
  TestRequest r;
  r.req.add("x-bin", "a\xff\r\xce\xbb");
  auto t = Compile(OtelValue::String("%REQ(x-bin)%"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->RenderBody(r.info), OtelValue::String("a\\xFF\\x0D\xce\xbb"));
}

TEST(OtelTemplateTest, TraceIds) {
  EXPECT_EQ(TraceIdFromHex("80f198ee56343ba864fe8b2a57d3eff7"),
            std::string("\x80\xf1\x98\xee\x56\x34\x3b\xa8\x64\xfe\x8b\x2a\x57\xd3\xef\xf7", 16));
  EXPECT_EQ(TraceIdFromHex("64fe8b2a57d3eff7"), std::string("\0\0\0\0\0\0\0\0\x64\xfe\x8b\x2a\x57\xd3\xef\xf7", 16));
  EXPECT_EQ(TraceIdFromHex("00000000000000000000000000000000"), "");
  EXPECT_EQ(TraceIdFromHex("xyz"), "");
  EXPECT_EQ(TraceIdFromHex("80f198ee56343ba864fe8b2a57d3effg"), "");
  EXPECT_EQ(SpanIdFromHex("e457b5a2e4d86bd1"), std::string("\xe4\x57\xb5\xa2\xe4\xd8\x6b\xd1", 8));
  EXPECT_EQ(SpanIdFromHex("e457"), "");
}

TEST(OtelTemplateTest, TraceContextFromHeaders) {
  auto t = Compile(OtelValue{});
  ASSERT_TRUE(t);
  {
    TestRequest r;
    r.req.add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    r.req.add("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7");
    OtelRecord rec;
    t->Render(r.info, rec);
    EXPECT_EQ(rec.trace_id, TraceIdFromHex("0af7651916cd43dd8448eb211c80319c"));
    EXPECT_EQ(rec.span_id, SpanIdFromHex("b7ad6b7169203331"));
  }
  {
    TestRequest r;
    r.req.add("X-B3-TraceId", "64fe8b2a57d3eff7");
    r.req.add("x-b3-spanid", "e457b5a2e4d86bd1");
    OtelRecord rec;
    t->Render(r.info, rec);
    EXPECT_EQ(rec.trace_id, TraceIdFromHex("64fe8b2a57d3eff7"));
    EXPECT_EQ(rec.span_id, SpanIdFromHex("e457b5a2e4d86bd1"));
  }
  {
    TestRequest r;
    r.info.trace_id = "0af7651916cd43dd8448eb211c80319c";
    r.req.add("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7");
    OtelRecord rec;
    t->Render(r.info, rec);
    EXPECT_EQ(rec.trace_id, TraceIdFromHex("0af7651916cd43dd8448eb211c80319c"));
    EXPECT_EQ(rec.span_id, "");
  }
  {
    StreamInfo tcp = TcpInfo();
    OtelRecord rec;
    rec.trace_id = "stale";
    t->Render(tcp, rec);
    EXPECT_EQ(rec.trace_id, "");
    EXPECT_EQ(rec.span_id, "");
  }
}

}  // namespace
}  // namespace meshlog::format
