// The `inspect` report: OTLP protobuf-JSON rendering of bodies and the --shadow markers.
#include "rules/report.h"

#include <gtest/gtest.h>

namespace meshlog::rules {
namespace {

using format::OtelValue;

TEST(Report, OtelValueJsonUsesOtlpProtobufJsonNames) {
  EXPECT_EQ(OtelValueJson(OtelValue::String("x")).dump(), R"({"stringValue":"x"})");
  OtelValue i;
  i.kind = OtelValue::Kind::kInt;
  i.int_value = 123;
  EXPECT_EQ(OtelValueJson(i).dump(), R"({"intValue":"123"})");  // int64 as a string, like protojson
  OtelValue b;
  b.kind = OtelValue::Kind::kBytes;
  b.string_value = "hello";
  EXPECT_EQ(OtelValueJson(b).dump(), R"({"bytesValue":"aGVsbG8="})");
  EXPECT_EQ(OtelValueJson(OtelValue::KvList({{"k", OtelValue::Array({OtelValue::String("v")})}})).dump(),
            R"({"kvlistValue":{"values":[{"key":"k","value":{"arrayValue":{"values":[{"stringValue":"v"}]}}}]}})");
}

AccessLogConfig Log(const std::string& policy, const std::string& path) {
  AccessLogConfig l;
  l.policy = policy;
  l.entry = "to[0]";
  l.backend.type = policy::BackendType::kFile;
  l.backend.path = path;
  l.format.plain = "x\n";
  return l;
}

TEST(Report, ShadowMarksAddedUnchangedAndRemoved) {
  DataplaneConfig base;
  base.mesh = "default";
  base.dataplane = "web-1";
  ListenerConfig l;
  l.info.kind = ListenerKind::kOutbound;
  l.info.name = "outbound:127.0.0.1:1";
  l.access_logs = {Log("live", "/a"), Log("gone", "/b")};
  base.listeners.push_back(l);
  DataplaneConfig shadow = base;
  shadow.listeners[0].access_logs = {Log("live", "/a"), Log("candidate", "/c")};
  const auto j = ReportJson(shadow, &base);
  EXPECT_EQ(j["shadow"], true);
  const auto& logs = j["listeners"][0]["access_logs"];
  EXPECT_EQ(logs[0]["shadow"], "unchanged");
  EXPECT_EQ(logs[1]["shadow"], "added");
  ASSERT_EQ(j["listeners"][0]["shadow_removed"].size(), 1u);
  EXPECT_EQ(j["listeners"][0]["shadow_removed"][0]["policy"], "gone");
  EXPECT_EQ(j["listeners"][0]["direction"], "OUTBOUND");
  EXPECT_FALSE(ReportJson(base).contains("shadow"));
  const std::string text = ReportText(shadow, &base);
  EXPECT_NE(text.find("[shadow: added]"), std::string::npos);
  EXPECT_NE(text.find("[shadow: removed]"), std::string::npos);
}

}  // namespace
}  // namespace meshlog::rules
