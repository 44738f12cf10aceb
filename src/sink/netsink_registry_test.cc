#include "sink/netsink_registry.h"

#include "sink/otlp_sink.h"

#include <gtest/gtest.h>

namespace meshlog::sink {
namespace {

TEST(NetSinkRegistry, SharesOneSenderPerDestination) {
  NetSinkRegistry reg(nullptr, CreateOtlpSink);
  auto a = reg.tcp(TcpSinkConfig{.address = "127.0.0.1:25999"});
  auto b = reg.tcp(TcpSinkConfig{.address = "127.0.0.1:25999"});
  auto c = reg.tcp(TcpSinkConfig{.address = "127.0.0.1:25998"});
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(reg.tcp(TcpSinkConfig{.address = "[::1]:25999"}), reg.tcp(TcpSinkConfig{.address = "[::1]:25999"}));

  OtlpSinkConfig g;
  g.endpoint = "127.0.0.1";
  g.resource.kuma_mesh = "default";
  OtlpSinkConfig g2 = g;
  g2.endpoint = "127.0.0.1:4317";  // same endpoint once the default port is applied
  OtlpSinkConfig h = g;
  h.protocol = OtlpProtocol::kHttp;
  EXPECT_EQ(reg.otlp(g), reg.otlp(g2));
  EXPECT_NE(reg.otlp(g), reg.otlp(h));
  int n = 0;
  reg.forEach([&](Sink&) { ++n; });
  EXPECT_EQ(n, 5);
  EXPECT_THROW(reg.tcp(TcpSinkConfig{.address = "nope"}), std::invalid_argument);
  reg.shutdownAll(std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace meshlog::sink
