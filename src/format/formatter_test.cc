// Output rules: Plain (formatter.md 3), typed JSON (5), Kuma placeholders and defaults (policy.md 4.1, 4.3).
#include "format/formatter.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "format/test_util.h"

namespace meshlog::format {
namespace {

using testing::RenderJson;
using testing::RenderPlain;
using testing::TcpInfo;
using testing::TestRequest;

KumaValues Kuma() {
  KumaValues k;
  k.mesh = "default";
  k.source_service = "web";
  k.destination_service = "backend";
  k.source_ip = "127.0.0.1";
  k.direction = "OUTBOUND";
  k.zone = "zone-1";
  k.workload = "";
  return k;
}

// ---- Kuma placeholders and defaults ------------------------------------------------------------

TEST(KumaTest, BindsEveryPlaceholder) {
  EXPECT_EQ(BindKumaPlaceholders("%KUMA_MESH%|%KUMA_SOURCE_SERVICE%|%KUMA_DESTINATION_SERVICE%|%KUMA_SOURCE_ADDRESS%|"
                                 "%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%|%KUMA_TRAFFIC_DIRECTION%|%KUMA_ZONE%|%KUMA_WORKLOAD%|"
                                 "%START_TIME%",
                                 Kuma()),
            "default|web|backend|127.0.0.1:0|127.0.0.1|OUTBOUND|zone-1||%START_TIME%");
}

TEST(KumaTest, Ipv6SourceAddressIsBracketed) {
  KumaValues k = Kuma();
  k.source_ip = "fd00::1";
  EXPECT_EQ(BindKumaPlaceholders("%KUMA_SOURCE_ADDRESS% %KUMA_SOURCE_ADDRESS_WITHOUT_PORT%", k), "[fd00::1]:0 fd00::1");
}

TEST(KumaTest, ReplacementIsSequentialLikeKuma) {
  // Kuma replaces in order with strings.ReplaceAll: a value containing a later placeholder is
  // itself replaced.
  KumaValues k = Kuma();
  k.source_service = "%KUMA_MESH%";
  EXPECT_EQ(BindKumaPlaceholders("%KUMA_SOURCE_SERVICE%", k), "default");
}

TEST(DefaultFormatTest, SeedStrings) {
  EXPECT_EQ(DefaultTcpFormat(),
            "[%START_TIME%] %RESPONSE_FLAGS% %KUMA_MESH% %KUMA_SOURCE_ADDRESS_WITHOUT_PORT%(%KUMA_SOURCE_SERVICE%)->"
            "%UPSTREAM_HOST%(%KUMA_DESTINATION_SERVICE%) took %DURATION%ms, sent %BYTES_SENT% bytes, received: "
            "%BYTES_RECEIVED% bytes");
  EXPECT_EQ(DefaultHttpFormat(),
            "[%START_TIME%] %KUMA_MESH% \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
            "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
            "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" "
            "\"%REQ(X-REQUEST-ID)%\" \"%REQ(:AUTHORITY)%\" \"%KUMA_SOURCE_SERVICE%\" \"%KUMA_DESTINATION_SERVICE%\" "
            "\"%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%\" \"%UPSTREAM_HOST%\"");
  EXPECT_EQ(DefaultHttpFormat().find("X-B3-TRACEID"), std::string_view::npos);
}

TEST(DefaultFormatTest, HttpRecord) {
  TestRequest r;
  const std::string fmt = BindKumaPlaceholders(DefaultHttpFormat(), Kuma()) + "\n";
  EXPECT_EQ(RenderPlain(fmt, r.info),
            "[2018-04-03T23:06:09.123Z] default \"GET /bar/foo?x=1 HTTP/1.1\" 200 - 1 2 15 7 \"-\" \"curl/8.0\" "
            "\"req-1\" \"example.com\" \"web\" \"backend\" \"127.0.0.1\" \"10.0.0.1:443\"\n");
}

TEST(DefaultFormatTest, TcpRecord) {
  StreamInfo info = TcpInfo();
  info.response_flags.set(ResponseFlag::UF);
  const std::string fmt = BindKumaPlaceholders(DefaultTcpFormat(), Kuma()) + "\n";
  EXPECT_EQ(RenderPlain(fmt, info),
            "[2018-04-03T23:06:09.123Z] UF default 127.0.0.1(web)->10.0.0.1:443(backend) took 1500ms, sent 20 bytes, "
            "received: 10 bytes\n");
}

// ---- Plain rules -------------------------------------------------------------------------------

TEST(PlainTest, MissingIsDashOrNothing) {
  StreamInfo tcp = TcpInfo();
  EXPECT_EQ(RenderPlain("a%REQ(x)%b%PROTOCOL%c", tcp), "a-b-c");
  EXPECT_EQ(RenderPlain("a%REQ(x)%b%PROTOCOL%c", tcp, OmitEmptyValues::yes), "abc");
}

TEST(PlainTest, EmptyValueIsNotMissing) {
  TestRequest r;
  r.req.add("x-empty", "");
  EXPECT_EQ(RenderPlain("[%REQ(x-empty)%]", r.info), "[]");
  EXPECT_EQ(RenderPlain("[%LOCAL_REPLY_BODY%]", r.info), "[]");
}

TEST(PlainTest, DashValuesSurviveOmitEmptyValues) {
  StreamInfo tcp = TcpInfo();
  EXPECT_EQ(RenderPlain("%RESPONSE_FLAGS%|%RESPONSE_FLAGS_LONG%|%ENVIRONMENT(MESHLOG_SURELY_UNSET_VAR)%", tcp,
                        OmitEmptyValues::yes),
            "-|-|-");
}

TEST(PlainTest, NoNewlineAdded) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%PROTOCOL%", r.info), "HTTP/1.1");
}

TEST(PlainTest, TrafficControlBytesAreNeutralised) {
  TestRequest r;
  r.req.add("x-evil", "a\r\nb\tc\x01\x1f\x7f\"\\ d");
  EXPECT_EQ(RenderPlain("%REQ(x-evil)%", r.info), "a\\x0D\\x0Ab\tc\\x01\\x1F\x7f\"\\ d");
}

TEST(PlainTest, NonUtf8BytesFromTrafficAreKept) {
  TestRequest r;
  r.req.add("x-bin", "\xff\xfe");
  EXPECT_EQ(RenderPlain("%REQ(x-bin)%", r.info), "\xff\xfe");
}

TEST(PlainTest, LiteralNewlinesOfTheFormatAreKept) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%PROTOCOL%\n", r.info), "HTTP/1.1\n");
}

TEST(PlainTest, AppendsWithoutClearing) {
  TestRequest r;
  auto c = CompilePlain("%RESPONSE_CODE%", OmitEmptyValues::no);
  ASSERT_TRUE(c.ok());
  std::string out = "x";
  c.value()->format(r.info, out);
  c.value()->format(r.info, out);
  EXPECT_EQ(out, "x200200");
}

TEST(PlainTest, ValidateFormat) {
  EXPECT_EQ(ValidateFormat("%REQ(:path)% %START_TIME(%s)%"), std::nullopt);
  EXPECT_EQ(ValidateFormat("%protocol%"),
            "Incorrect configuration: %protocol%. Couldn't find valid command at position 0");
}

// ---- JSON rules ----------------------------------------------------------------------------------

TEST(JsonTest, SortedCompactTypedWithNewline) {
  TestRequest r;
  EXPECT_EQ(RenderJson({{"text", "plain text"}, {"path", "%REQ(:path)%"}, {"code", "%RESPONSE_CODE%"}}, r.info),
            "{\"code\":200,\"path\":\"/bar/foo?x=1\",\"text\":\"plain text\"}\n");
}

TEST(JsonTest, EmptyIsBraces) {
  TestRequest r;
  EXPECT_EQ(RenderJson({}, r.info), "{}\n");
  EXPECT_EQ(RenderJson({}, r.info, OmitEmptyValues::yes), "{}\n");
}

TEST(JsonTest, KeysSortedBytewise) {
  TestRequest r;
  EXPECT_EQ(RenderJson({{"b", "1"}, {"B", "2"}, {"a", "3"}, {"\xc3\xa9", "4"}, {"_", "5"}}, r.info),
            "{\"B\":\"2\",\"_\":\"5\",\"a\":\"3\",\"b\":\"1\",\"\xc3\xa9\":\"4\"}\n");
}

TEST(JsonTest, DuplicateKeysLastWins) {
  TestRequest r;
  EXPECT_EQ(RenderJson({{"k", "first"}, {"k", "%RESPONSE_CODE%"}}, r.info), "{\"k\":200}\n");
}

TEST(JsonTest, SingleOperatorKeepsType) {
  TestRequest r;
  EXPECT_EQ(RenderJson({{"d", "%DURATION%"},
                        {"p", "%PROTOCOL%"},
                        {"port", "%UPSTREAM_REMOTE_PORT%"},
                        {"t", "%START_TIME(%s)%"},
                        {"flags", "%RESPONSE_FLAGS%"}},
                       r.info),
            "{\"d\":15,\"flags\":\"-\",\"p\":\"HTTP/1.1\",\"port\":443,\"t\":\"1522796769\"}\n");
}

TEST(JsonTest, MissingIsNull) {
  StreamInfo tcp = TcpInfo();
  EXPECT_EQ(RenderJson({{"m", "%REQ(:method)%"}, {"p", "%PROTOCOL%"}, {"c", "%RESPONSE_CODE%"}}, tcp),
            "{\"c\":0,\"m\":null,\"p\":null}\n");
}

TEST(JsonTest, MultiPartIsString) {
  TestRequest r;
  StreamInfo tcp = TcpInfo();
  EXPECT_EQ(RenderJson({{"d", "%DURATION%ms"}, {"x", "%PROTOCOL% x %REQ(a)%"}}, r.info),
            "{\"d\":\"15ms\",\"x\":\"HTTP/1.1 x -\"}\n");
  EXPECT_EQ(RenderJson({{"x", "%PROTOCOL% x %REQ(a)%"}}, tcp, OmitEmptyValues::yes), "{\"x\":\" x \"}\n");
}

TEST(JsonTest, LoneLiteralIsString) {
  TestRequest r;
  EXPECT_EQ(RenderJson({{"a", "100%%"}, {"b", ""}, {"c", "\"q\""}}, r.info),
            "{\"a\":\"100%\",\"b\":\"\",\"c\":\"\\\"q\\\"\"}\n");
}

TEST(JsonTest, OmitEmptyValuesDropsNullKeys) {
  StreamInfo tcp = TcpInfo();
  EXPECT_EQ(RenderJson({{"a", "%REQ(:method)%"}, {"b", "%BYTES_SENT%"}, {"c", "%PROTOCOL%"}}, tcp,
                       OmitEmptyValues::yes),
            "{\"b\":20}\n");
  EXPECT_EQ(RenderJson({{"a", "%REQ(:method)%"}, {"c", "%PROTOCOL%"}}, tcp, OmitEmptyValues::yes), "{}\n");
}

TEST(JsonTest, ParseErrorFailsCompile) {
  auto c = CompileJson({{"a", "%protocol%"}}, OmitEmptyValues::no);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error(), "Incorrect configuration: %protocol%. Couldn't find valid command at position 0");
}

TEST(JsonTest, Escaping) {
  TestRequest r;
  r.req.add("x-s", "\"\\/<>&\b\f\n\r\t\x01\x0b\x1f\x7f\xce\xbb");
  EXPECT_EQ(RenderJson({{"v", "%REQ(x-s)%"}}, r.info),
            "{\"v\":\"\\\"\\\\/<>&\\b\\f\\n\\r\\t\\u0001\\u000b\\u001f\x7f\xce\xbb\"}\n");
}

TEST(JsonTest, InvalidUtf8BytesBecomeUnicodeEscapes) {
  TestRequest r;
  r.req.add("x-bin", "ok\xce");            // truncated lambda
  r.req.add("x-bin2", "a\xf0\x9d\x84 b");  // truncated 4-byte sequence
  r.req.add("x-lambda", "\xce\xbb\xce\xbb");
  EXPECT_EQ(RenderJson({{"a", "%REQ(x-bin)%"}, {"b", "%REQ(x-bin2)%"}, {"c", "%REQ(x-lambda):3%"}}, r.info),
            "{\"a\":\"ok\\u00ce\",\"b\":\"a\\u00f0\\u009d\\u0084 b\",\"c\":\"\xce\xbb\\u00ce\"}\n");
}

TEST(JsonTest, KeysAreEscaped) {
  TestRequest r;
  EXPECT_EQ(RenderJson({{"a\"b\n", "x"}}, r.info), "{\"a\\\"b\\n\":\"x\"}\n");
}

TEST(JsonTest, EveryRecordParses) {
  TestRequest r;
  r.req.add("x-bin", std::string_view("\x00\xff\xc0\xaf\xed\xa0\x80\"", 8));
  const std::string out = RenderJson({{"a", "%REQ(x-bin)%"}, {"b", "%REQ(x-bin)% and %REQ(x-bin):2%"}}, r.info);
  EXPECT_TRUE(nlohmann::json::accept(out)) << out;
}

TEST(JsonTemplateTest, NestedObjectsAndConstants) {
  TestRequest r;
  JsonTemplate t = JsonTemplate::Object({{"req", JsonTemplate::Object({{"path", JsonTemplate::String("%REQ(:path)%")},
                                                                       {"m", JsonTemplate::String("%REQ(:method)%")}})},
                                         {"n", JsonTemplate::Number(400)},
                                         {"f", JsonTemplate::Number(3.14)},
                                         {"b", JsonTemplate::Bool(true)},
                                         {"z", JsonTemplate{}},
                                         {"l", JsonTemplate::Array({JsonTemplate::String("%PROTOCOL%"),
                                                                    JsonTemplate::Number(1)})}});
  auto c = CompileJsonTemplate(t, OmitEmptyValues::no);
  ASSERT_TRUE(c.ok());
  std::string out;
  c.value()->format(r.info, out);
  EXPECT_EQ(out,
            "{\"b\":true,\"f\":3.14,\"l\":[\"HTTP/1.1\",1],\"n\":400,\"req\":{\"m\":\"GET\",\"path\":\"/bar/foo?x=1\"},"
            "\"z\":null}\n");
}

TEST(JsonTemplateTest, OmitDropsEmptiedNestedObjectsKeepsArrays) {
  StreamInfo tcp = TcpInfo();
  JsonTemplate t = JsonTemplate::Object(
      {{"req", JsonTemplate::Object({{"path", JsonTemplate::String("%REQ(:path)%")}})},
       {"l", JsonTemplate::Array({JsonTemplate::String("%PROTOCOL%")})},
       {"outer", JsonTemplate::Object({{"inner", JsonTemplate::Object({{"m", JsonTemplate::String("%REQ(:method)%")}})},
                                       {"k", JsonTemplate::String("%BYTES_SENT%")}})}});
  auto c = CompileJsonTemplate(t, OmitEmptyValues::yes);
  ASSERT_TRUE(c.ok());
  std::string out;
  c.value()->format(tcp, out);
  EXPECT_EQ(out, "{\"l\":[],\"outer\":{\"k\":20}}\n");
}

TEST(JsonTemplateTest, RootMustBeObject) {
  EXPECT_FALSE(CompileJsonTemplate(JsonTemplate::String("x"), OmitEmptyValues::no).ok());
}

}  // namespace
}  // namespace meshlog::format
