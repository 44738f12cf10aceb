#include "sink/otlp_encoder.h"

#include <gtest/gtest.h>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"

namespace meshlog::sink {
namespace {

namespace pb_common = opentelemetry::proto::common::v1;
namespace pb_logs = opentelemetry::proto::logs::v1;
namespace pb_collector = opentelemetry::proto::collector::logs::v1;
using format::OtelRecord;
using format::OtelValue;

void ToProto(const OtelValue& v, pb_common::AnyValue* out) {
  switch (v.kind) {
    case OtelValue::Kind::kEmpty: break;
    case OtelValue::Kind::kString: out->set_string_value(v.string_value); break;
    case OtelValue::Kind::kBool: out->set_bool_value(v.bool_value); break;
    case OtelValue::Kind::kInt: out->set_int_value(v.int_value); break;
    case OtelValue::Kind::kDouble: out->set_double_value(v.double_value); break;
    case OtelValue::Kind::kBytes: out->set_bytes_value(v.string_value); break;
    case OtelValue::Kind::kArray:
      out->mutable_array_value();
      for (const auto& e : v.array_values) ToProto(e, out->mutable_array_value()->add_values());
      break;
    case OtelValue::Kind::kKvList:
      out->mutable_kvlist_value();
      for (const auto& [k, e] : v.kvlist_values) {
        auto* kv = out->mutable_kvlist_value()->add_values();
        kv->set_key(k);
        ToProto(e, kv->mutable_value());
      }
      break;
  }
}

pb_logs::LogRecord ToProto(const OtelRecord& r) {
  pb_logs::LogRecord p;
  p.set_time_unix_nano(r.time_unix_nano);
  if (r.body.kind != OtelValue::Kind::kEmpty) ToProto(r.body, p.mutable_body());
  for (const auto& [k, v] : r.attributes) {
    auto* kv = p.add_attributes();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  }
  if (r.trace_id.size() == 16) p.set_trace_id(r.trace_id);
  if (r.span_id.size() == 8) p.set_span_id(r.span_id);
  return p;
}

OtelValue Scalar(OtelValue::Kind k) {
  OtelValue v;
  v.kind = k;
  return v;
}

OtelRecord Sample() {
  OtelRecord r;
  r.time_unix_nano = 1700000000123456789ull;
  OtelValue b = Scalar(OtelValue::Kind::kBool);
  b.bool_value = true;
  OtelValue i = Scalar(OtelValue::Kind::kInt);
  i.int_value = -42;  // negative: 10-byte varint
  OtelValue d = Scalar(OtelValue::Kind::kDouble);
  d.double_value = 2.5;
  OtelValue bytes = Scalar(OtelValue::Kind::kBytes);
  bytes.string_value = std::string("\x00\x01\xff", 3);
  r.body = OtelValue::KvList({{"mesh", OtelValue::String("default")},
                              {"empty", OtelValue::String("")},
                              {"nested", OtelValue::Array({OtelValue::String("a"), b, i, d, bytes,
                                                           OtelValue::KvList({})})},
                              {"", OtelValue::String("no key")}});
  r.attributes = {{"z-first", "1"}, {"a-second", ""}, {"mesh", "default"}};
  r.trace_id = std::string(16, '\x11');
  r.span_id = std::string(8, '\x22');
  return r;
}

TEST(OtlpEncoder, LogRecordIsByteIdenticalToGeneratedClasses) {
  OtelRecord r = Sample();
  std::string mine;
  EncodeLogRecord(r, mine);
  EXPECT_EQ(mine, ToProto(r).SerializeAsString());
  pb_logs::LogRecord decoded;
  ASSERT_TRUE(decoded.ParseFromString(mine));
  EXPECT_EQ(decoded.attributes(0).key(), "z-first");  // configuration order kept
  EXPECT_EQ(decoded.body().kvlist_value().values(2).value().array_value().values(2).int_value(), -42);
  EXPECT_EQ(decoded.body().kvlist_value().values(1).value().value_case(), pb_common::AnyValue::kStringValue);
}

TEST(OtlpEncoder, DefaultStringBodyAndOptionalIds) {
  OtelRecord r;
  r.time_unix_nano = 1;
  r.body = OtelValue::String("[2024-01-01T00:00:00.000Z] default \"GET / HTTP/1.1\" 200");
  r.trace_id = "short";  // not 16 bytes: not sent
  r.span_id = "";
  std::string mine;
  EncodeLogRecord(r, mine);
  EXPECT_EQ(mine, ToProto(r).SerializeAsString());
  pb_logs::LogRecord decoded;
  ASSERT_TRUE(decoded.ParseFromString(mine));
  EXPECT_TRUE(decoded.trace_id().empty());
  EXPECT_EQ(decoded.body().string_value(), r.body.string_value);
  // No body at all.
  OtelRecord none;
  std::string empty;
  EncodeLogRecord(none, empty);
  EXPECT_TRUE(empty.empty());
}

TEST(OtlpEncoder, RequestHasOneResourceLogsOneScopeLogsAndResourceAttributesInOrder) {
  OtlpResourceConfig rc;
  rc.zone_name = "zone-1";
  rc.cluster_name = "backend";
  rc.node_name = "backend-01";
  rc.kuma_mesh = "default";
  rc.kuma_workload = "kri_wl_default_zone-1_kuma-demo_backend_";
  OtlpRequestBuilder b(EncodeResource(rc));
  EXPECT_TRUE(b.empty());
  std::vector<OtelRecord> recs;
  for (int i = 0; i < 300; ++i) {  // > 127 records: multi-byte lengths everywhere
    OtelRecord r = Sample();
    r.time_unix_nano = static_cast<uint64_t>(i + 1);
    r.body = OtelValue::String(std::string(static_cast<size_t>(i), 'x'));
    std::string enc;
    EncodeLogRecord(r, enc);
    b.add(enc);
    recs.push_back(r);
  }
  const size_t predicted = b.requestSize();
  std::string req = b.finish();
  EXPECT_EQ(req.size(), predicted);
  EXPECT_TRUE(b.empty());

  pb_collector::ExportLogsServiceRequest expected;
  auto* rl = expected.add_resource_logs();
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"log_name", "MeshAccessLog"}, {"zone_name", "zone-1"}, {"cluster_name", "backend"},
           {"node_name", "backend-01"}, {"kuma.mesh", "default"},
           {"kuma.workload", "kri_wl_default_zone-1_kuma-demo_backend_"}}) {
    auto* kv = rl->mutable_resource()->add_attributes();
    kv->set_key(k);
    kv->mutable_value()->set_string_value(v);
  }
  auto* sl = rl->add_scope_logs();
  for (const auto& r : recs) *sl->add_log_records() = ToProto(r);
  EXPECT_EQ(req, expected.SerializeAsString());

  pb_collector::ExportLogsServiceRequest decoded;
  ASSERT_TRUE(decoded.ParseFromString(req));
  ASSERT_EQ(decoded.resource_logs_size(), 1);
  ASSERT_EQ(decoded.resource_logs(0).scope_logs_size(), 1);
  EXPECT_FALSE(decoded.resource_logs(0).scope_logs(0).has_scope());
  EXPECT_EQ(decoded.resource_logs(0).scope_logs(0).log_records_size(), 300);
  EXPECT_EQ(decoded.resource_logs(0).resource().attributes(3).key(), "node_name");
  EXPECT_EQ(decoded.resource_logs(0).resource().attributes_size(), 6);  // no kuma.zone: empty
}

}  // namespace
}  // namespace meshlog::sink
