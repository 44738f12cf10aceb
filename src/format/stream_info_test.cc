// StreamInfo helpers: flag names, log types, addresses, header maps.
#include "format/stream_info.h"

#include <gtest/gtest.h>

namespace meshlog::format {
namespace {

std::string Render(const Address& a, bool port = true) {
  std::string out;
  if (port) {
    AppendAddress(out, a);
  } else {
    AppendAddressWithoutPort(out, a);
  }
  return out;
}

TEST(ResponseFlagTest, Names) {
  EXPECT_EQ(ResponseFlagShortName(ResponseFlag::LH), "LH");
  EXPECT_EQ(ResponseFlagLongName(ResponseFlag::LH), "FailedLocalHealthCheck");
  EXPECT_EQ(ResponseFlagShortName(ResponseFlag::UAEX), "UAEX");
  EXPECT_EQ(ResponseFlagLongName(ResponseFlag::UAEX), "UnauthorizedExternalService");
  EXPECT_EQ(ResponseFlagShortName(ResponseFlag::UMSDR), "UMSDR");
  EXPECT_EQ(ResponseFlagLongName(ResponseFlag::UMSDR), "UpstreamMaxStreamDurationReached");
  EXPECT_EQ(ResponseFlagShortName(ResponseFlag::UDO), "UDO");
  EXPECT_EQ(ResponseFlagLongName(ResponseFlag::UDO), "UnconditionalDropOverload");
  EXPECT_EQ(ResponseFlagLongName(ResponseFlag::DR), "DownstreamRemoteReset");
}

TEST(ResponseFlagsTest, OrderAndDedup) {
  ResponseFlags f;
  EXPECT_TRUE(f.empty());
  f.set(ResponseFlag::FI);
  f.set(ResponseFlag::UT);
  f.set(ResponseFlag::FI);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0], ResponseFlag::FI);
  EXPECT_EQ(f[1], ResponseFlag::UT);
  EXPECT_TRUE(f.has(ResponseFlag::UT));
  EXPECT_FALSE(f.has(ResponseFlag::DI));
}

TEST(AccessLogTypeTest, Names) {
  EXPECT_EQ(AccessLogTypeName(AccessLogType::NotSet), "NotSet");
  EXPECT_EQ(AccessLogTypeName(AccessLogType::TcpConnectionEnd), "TcpConnectionEnd");
  EXPECT_EQ(AccessLogTypeName(AccessLogType::DownstreamTunnelSuccessfullyEstablished),
            "DownstreamTunnelSuccessfullyEstablished");
  EXPECT_EQ(AccessLogTypeName(AccessLogType::UdpSessionEnd), "UdpSessionEnd");
}

TEST(AddressTest, ParseAndRender) {
  auto v4 = Address::Parse("10.0.0.1:443");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->kind, Address::Kind::kIpv4);
  EXPECT_EQ(v4->port, 443);
  EXPECT_EQ(Render(*v4), "10.0.0.1:443");
  EXPECT_EQ(Render(*v4, false), "10.0.0.1");
  auto v6 = Address::Parse("[2001:DB8:0:0::1]:80");
  ASSERT_TRUE(v6);
  EXPECT_EQ(Render(*v6), "[2001:db8::1]:80");
  EXPECT_EQ(Render(*v6, false), "2001:db8::1");
  auto pipe = Address::Parse("/tmp/x.sock");
  ASSERT_TRUE(pipe);
  EXPECT_EQ(Render(*pipe), "/tmp/x.sock");
  EXPECT_EQ(Render(*pipe, false), "/tmp/x.sock");
  EXPECT_EQ(Render(Address{}), "");
  EXPECT_EQ(Render(Address::Ipv4(0x7f000001, 8080)), "127.0.0.1:8080");
}

TEST(AddressTest, Rejects) {
  for (const char* bad : {"", "1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "1.2.3:80", "host:80", "[::1]", "[::1]80",
                          "::1:80", "1.2.3.4:8x", "[zz]:1"}) {
    EXPECT_FALSE(Address::Parse(bad)) << bad;
  }
}

TEST(HeaderMapTest, CaseInsensitiveFirstValue) {
  HeaderMap m;
  m.add("Content-Type", "a");
  m.add("content-type", "b");
  m.add(":path", "/");
  EXPECT_EQ(m.get("content-type"), "a");
  EXPECT_EQ(m.get(":path"), "/");
  EXPECT_EQ(m.get("missing"), std::nullopt);
  EXPECT_EQ(m.byte_size(), 12u + 1u + 12u + 1u + 5u + 1u);
  m.clear();
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.byte_size(), 0u);
}

}  // namespace
}  // namespace meshlog::format
