// Byte writers: plain neutralisation and JSON escaping (formatter.md 5.4 + meshlog's rules).
#include "format/escape.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace meshlog::format {
namespace {

std::string Plain(std::string_view s, Utf8Check u = Utf8Check::kNo) {
  std::string out;
  AppendPlainSafe(out, s, u);
  return out;
}

std::string Json(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

TEST(PlainEscapeTest, OnlyC0ExceptTab) {
  EXPECT_EQ(Plain("hello world"), "hello world");
  EXPECT_EQ(Plain(std::string_view("\x00\x01\t\n\r\x1f\x20\x7f", 8)), "\\x00\\x01\t\\x0A\\x0D\\x1F \x7f");
  EXPECT_EQ(Plain("\"\\"), "\"\\");
  EXPECT_EQ(Plain("\xff\xce\xbb"), "\xff\xce\xbb");
}

TEST(PlainEscapeTest, Utf8Mode) {
  EXPECT_EQ(Plain("\xff\xce\xbb\xce", Utf8Check::kYes), "\\xFF\xce\xbb\\xCE");
}

TEST(JsonEscapeTest, Envoy) {
  EXPECT_EQ(Json("plain"), "\"plain\"");
  EXPECT_EQ(Json("\"\\"), "\"\\\"\\\\\"");
  EXPECT_EQ(Json("\b\t\n\f\r"), "\"\\b\\t\\n\\f\\r\"");
  EXPECT_EQ(Json(std::string_view("\x00\x01\x0b\x1f", 4)), "\"\\u0000\\u0001\\u000b\\u001f\"");
  EXPECT_EQ(Json("\x7f"), "\"\x7f\"");
  EXPECT_EQ(Json("</script>&"), "\"</script>&\"");
  EXPECT_EQ(Json("\xce\xbb \xe2\x82\xac \xf0\x9f\x98\x80"), "\"\xce\xbb \xe2\x82\xac \xf0\x9f\x98\x80\"");
}

TEST(JsonEscapeTest, InvalidUtf8PerByte) {
  EXPECT_EQ(Json("\x80"), "\"\\u0080\"");
  EXPECT_EQ(Json("\xff"), "\"\\u00ff\"");
  EXPECT_EQ(Json("Hello, \xf0\x9d\x84, World!"), "\"Hello, \\u00f0\\u009d\\u0084, World!\"");
  EXPECT_EQ(Json("\xce"), "\"\\u00ce\"");
  EXPECT_EQ(Json("\xc0\xaf"), "\"\\u00c0\\u00af\"");          // overlong '/'
  EXPECT_EQ(Json("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\""); // surrogate
  EXPECT_EQ(Json("\xf4\x90\x80\x80"), "\"\\u00f4\\u0090\\u0080\\u0080\"");  // > U+10FFFF
}

TEST(JsonEscapeTest, AllBytePairsParse) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; b += 7) {
      const char s[3] = {static_cast<char>(a), static_cast<char>(b), static_cast<char>(0xe2)};
      const std::string j = Json(std::string_view(s, 3));
      ASSERT_TRUE(nlohmann::json::accept(j)) << a << " " << b << " " << j;
    }
  }
}

TEST(Utf8Test, SequenceLength) {
  EXPECT_EQ(Utf8SequenceLength("a", 0), 1u);
  EXPECT_EQ(Utf8SequenceLength("\xce\xbb", 0), 2u);
  EXPECT_EQ(Utf8SequenceLength("\xe2\x82\xac", 0), 3u);
  EXPECT_EQ(Utf8SequenceLength("\xf0\x9f\x98\x80", 0), 4u);
  EXPECT_EQ(Utf8SequenceLength("\xe2\x82", 0), 0u);
  EXPECT_EQ(Utf8SequenceLength("\xe0\x80\x80", 0), 0u);
  EXPECT_EQ(Utf8SequenceLength("\xc1\xbf", 0), 0u);
}

}  // namespace
}  // namespace meshlog::format
