// Date formatter (formatter.md section 2).
#include "format/date_format.h"

#include <gtest/gtest.h>

namespace meshlog::format {
namespace {

std::string Fmt(std::string_view fmt, SystemTime t, bool local = false) {
  std::string error;
  auto f = DateFormatter::Create(fmt, local, &error);
  EXPECT_TRUE(f) << fmt << ": " << error;
  if (!f) return "<error>";
  std::string out;
  f->Format(t, out);
  return out;
}

std::string CreateError(std::string_view fmt) {
  std::string error;
  return DateFormatter::Create(fmt, false, &error) ? std::string("<ok>") : error;
}

SystemTime Ms(int64_t ms) { return SystemTime(std::chrono::milliseconds(ms)); }
SystemTime Ns(int64_t ns) { return SystemTime(std::chrono::nanoseconds(ns)); }

TEST(DateFormatTest, DefaultMillisecondsTruncated) {
  EXPECT_EQ(Fmt("", SystemTime(std::chrono::seconds(1522796769))), "2018-04-03T23:06:09.000Z");
  EXPECT_EQ(Fmt("", Ms(1522796769123)), "2018-04-03T23:06:09.123Z");
  EXPECT_EQ(Fmt("", Ms(1522796769999)), "2018-04-03T23:06:09.999Z");
  EXPECT_EQ(Fmt("", Ms(1522796768999)), "2018-04-03T23:06:08.999Z");
  EXPECT_EQ(Fmt("", Ns(1522796769123999999)), "2018-04-03T23:06:09.123Z");
}

TEST(DateFormatTest, DefaultCacheDoesNotLeakAcrossSeconds) {
  // Same thread, alternating seconds: the per-second cache must be refreshed each time.
  EXPECT_EQ(Fmt("", Ms(1522796769001)), "2018-04-03T23:06:09.001Z");
  EXPECT_EQ(Fmt("", Ms(1522796770002)), "2018-04-03T23:06:10.002Z");
  EXPECT_EQ(Fmt("", Ms(1522796769003)), "2018-04-03T23:06:09.003Z");
  EXPECT_EQ(Fmt("", Ms(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(Fmt("", Ms(951782400000)), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(Fmt("", Ms(-1)), "1969-12-31T23:59:59.999Z");
}

TEST(DateFormatTest, DefaultLocal) {
  ASSERT_EQ(setenv("TZ", "UTC", 1), 0);
  EXPECT_EQ(Fmt("", Ms(1522796769123), true), "2018-04-03T23:06:09.123+0000");
}

TEST(DateFormatTest, EnvoySpecifiers) {
  const SystemTime t = Ns(1522796769123456789);
  EXPECT_EQ(Fmt("%s", t), "1522796769");
  EXPECT_EQ(Fmt("%f", t), "123456789");
  EXPECT_EQ(Fmt("%1f|%3f|%6f|%9f", t), "1|123|123456|123456789");
  EXPECT_EQ(Fmt("%*f", t), "123456789");
  EXPECT_EQ(Fmt("%*f", Ns(1522796769120000000)), "12");
  EXPECT_EQ(Fmt("%*f", Ns(1522796769000000000)), "0");
  EXPECT_EQ(Fmt("%s.%3f", Ms(1522796769123)), "1522796769.123");
  EXPECT_EQ(Fmt("%f", Ms(1522796769001)), "001000000");
}

TEST(DateFormatTest, AbslSpecifiers) {
  const SystemTime t = Ns(1522796769123456789);
  EXPECT_EQ(Fmt("%Y-%m-%dT%H:%M:%S", t), "2018-04-03T23:06:09");
  EXPECT_EQ(Fmt("%E3S", t), "09.123");
  EXPECT_EQ(Fmt("%E6S", t), "09.123456");
  EXPECT_EQ(Fmt("%E*S", t), "09.123456789");
  EXPECT_EQ(Fmt("%E*S", SystemTime(std::chrono::seconds(1522796769))), "09");
  EXPECT_EQ(Fmt("%E3f", t), "123");
  EXPECT_EQ(Fmt("%E*f", Ns(1522796769120000000)), "12");
  EXPECT_EQ(Fmt("%Y/%m/%d %H:%M:%S.%3f %z", t), "2018/04/03 23:06:09.123 +0000");
  EXPECT_EQ(Fmt("%%s %%", t), "%s %");
}

TEST(DateFormatTest, PerSecondCacheIsPerFormatterAndSecond) {
  std::string error;
  auto a = DateFormatter::Create("%Y-%m-%d %H:%M:%S", false, &error);
  auto b = DateFormatter::Create("%d/%m/%Y %H-%M-%S", false, &error);
  ASSERT_TRUE(a && b);
  std::string out;
  for (int round = 0; round < 2; ++round) {
    out.clear();
    a->Format(Ms(1522796769123), out);
    b->Format(Ms(1522796769456), out);
    a->Format(Ms(1522796770001), out);
    b->Format(Ms(1522796770001), out);
    EXPECT_EQ(out, "2018-04-03 23:06:0903/04/2018 23-06-092018-04-03 23:06:1003/04/2018 23-06-10");
  }
  // Sub-second absl specifiers are never served from the per-second cache.
  auto c = DateFormatter::Create("%H:%M:%E3S", false, &error);
  ASSERT_TRUE(c);
  out.clear();
  c->Format(Ms(1522796769123), out);
  c->Format(Ms(1522796769456), out);
  EXPECT_EQ(out, "23:06:09.12323:06:09.456");
}

TEST(DateFormatTest, UnknownSpecifiersAndTextCopied) {
  const SystemTime t = Ms(1522796769123);
  EXPECT_EQ(Fmt("bad_format", t), "bad_format");
  EXPECT_EQ(Fmt("%E4n", t), "%E4n");
}

TEST(DateFormatTest, NewlineSpecifiersRejected) {
  for (const char* fmt : {"%n", "%85n", "%#__88n", "%En", "%4En", "%On", "%4On", "x %Y %n"}) {
    EXPECT_EQ(CreateError(fmt), "Invalid header configuration. Format string contains newline.") << fmt;
  }
  EXPECT_EQ(CreateError("%E4n"), "<ok>");
  EXPECT_EQ(CreateError("%O4n"), "<ok>");
}

}  // namespace
}  // namespace meshlog::format
