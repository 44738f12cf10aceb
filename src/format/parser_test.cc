// Format-string grammar (formatter.md section 1).
#include <gtest/gtest.h>

#include "format/parser.h"
#include "format/test_util.h"

namespace meshlog::format {
namespace {

using testing::PlainError;
using testing::RenderPlain;
using testing::TestRequest;

TEST(ParserTest, LiteralsAndPercentEscape) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("plain text", r.info), "plain text");
  EXPECT_EQ(RenderPlain("%%", r.info), "%");
  EXPECT_EQ(RenderPlain("100%% sure", r.info), "100% sure");
  EXPECT_EQ(RenderPlain("%%PROTOCOL%%", r.info), "%PROTOCOL%");
  EXPECT_EQ(RenderPlain("", r.info), "");
}

TEST(ParserTest, AdjacentCommandsAreNotAnEscape) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%RESPONSE_CODE%%PROTOCOL%", r.info), "200HTTP/1.1");
}

TEST(ParserTest, EmptyFormatIsOneLiteralProvider) {
  std::string error;
  auto p = ParseFormat("", &error);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->provider_count, 1u);
  ASSERT_EQ(p->pieces.size(), 1u);
  EXPECT_FALSE(p->pieces[0].op);
}

TEST(ParserTest, ProviderCount) {
  std::string error;
  EXPECT_EQ(ParseFormat("%PROTOCOL%", &error)->provider_count, 1u);
  EXPECT_EQ(ParseFormat("%DURATION%ms", &error)->provider_count, 2u);
  EXPECT_EQ(ParseFormat("a%PROTOCOL%b%DURATION%", &error)->provider_count, 4u);
  EXPECT_EQ(ParseFormat("%%", &error)->provider_count, 1u);
}

TEST(ParserTest, PositionErrors) {
  EXPECT_EQ(PlainError("%protocol%"),
            "Incorrect configuration: %protocol%. Couldn't find valid command at position 0");
  EXPECT_EQ(PlainError("%"), "Incorrect configuration: %. Couldn't find valid command at position 0");
  EXPECT_EQ(PlainError("abc%"), "Incorrect configuration: abc%. Couldn't find valid command at position 3");
  EXPECT_EQ(PlainError("100%"), "Incorrect configuration: 100%. Couldn't find valid command at position 3");
  EXPECT_EQ(PlainError("x %REQ(TEST):% y"),
            "Incorrect configuration: x %REQ(TEST):% y. Couldn't find valid command at position 2");
  for (const char* bad : {"%REQ(TEST):%", "%REQ(TEST):3q4%", "%REQ(TEST):-3%", "%REQ(TEST):10", "%REQ(TEST:10%",
                          "%REQ(", "%REQ(FIRST?SECOND%", "%REQ(FIRST?SECOND)T%"}) {
    EXPECT_EQ(PlainError(bad),
              std::string("Incorrect configuration: ") + bad + ". Couldn't find valid command at position 0")
        << bad;
  }
  EXPECT_EQ(PlainError("RESP(FIRST)%"),
            "Incorrect configuration: RESP(FIRST)%. Couldn't find valid command at position 11");
}

TEST(ParserTest, UnknownCommand) {
  EXPECT_EQ(PlainError("%NOT_A_COMMAND%"), "Not supported field in StreamInfo: NOT_A_COMMAND");
  EXPECT_EQ(PlainError("%CEL(x)%"), "Not supported field in StreamInfo: CEL");
}

TEST(ParserTest, SyntaxFlags) {
  EXPECT_EQ(PlainError("%PROTOCOL(x)%"), "PROTOCOL does not take any parameters or length");
  EXPECT_EQ(PlainError("%PROTOCOL:12%"), "PROTOCOL does not take any parameters or length");
  EXPECT_EQ(PlainError("%ENVIRONMENT()%"), "ENVIRONMENT requires parameters");
  EXPECT_EQ(PlainError("%REQ()%"), "REQ requires parameters");
  EXPECT_EQ(PlainError("%START_TIME(%s):10%"), "START_TIME does not allow length to be specified.");
  EXPECT_EQ(PlainError("%GRPC_STATUS(NUMBER):3%"), "GRPC_STATUS does not allow length to be specified.");
  EXPECT_EQ(PlainError("%RESPONSE_CODE_DETAILS:3%"), "RESPONSE_CODE_DETAILS does not allow length to be specified.");
  EXPECT_EQ(PlainError("%COMMON_DURATION%"), "COMMON_DURATION requires parameters");
}

TEST(ParserTest, EmptyParensBehaveLikeNone) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%PROTOCOL()%", r.info), "HTTP/1.1");
}

TEST(ParserTest, SubcommandMayContainParenthesis) {
  TestRequest r;
  r.req.add("a)b", "v1");
  EXPECT_EQ(RenderPlain("%REQ(a)b)%", r.info), "v1");
  EXPECT_EQ(RenderPlain("%REQ(a)b):1%", r.info), "v");
  // The shortest subcommand that is followed by % or :<digits>% wins: here the command ends at
  // the first ")%", leaving a lone '%' at position 15.
  EXPECT_EQ(PlainError("%REQ(:method)%)%"),
            "Incorrect configuration: %REQ(:method)%)%. Couldn't find valid command at position 15");
  // ")x" is not followed by '%', so the subcommand extends to the next ')'.
  r.req.add("a)x", "v2");
  EXPECT_EQ(RenderPlain("%REQ(a)x)%", r.info), "v2");
}

TEST(ParserTest, SubcommandCannotContainLineFeed) {
  EXPECT_EQ(PlainError("%REQ(a\nb)%"),
            "Incorrect configuration: %REQ(a\nb)%. Couldn't find valid command at position 0");
}

TEST(ParserTest, SubcommandMustBeUtf8) {
  TestRequest r;
  r.req.add("x-\xce\xbb", "lambda");
  EXPECT_EQ(RenderPlain("%REQ(x-\xce\xbb)%", r.info), "lambda");
  EXPECT_EQ(PlainError("%REQ(x\xff)%"),
            "Incorrect configuration: %REQ(x\xff)%. Couldn't find valid command at position 0");
  // Literal text may hold any bytes.
  EXPECT_EQ(RenderPlain("\xff%PROTOCOL%", r.info), "\xffHTTP/1.1");
}

TEST(ParserTest, LengthTruncatesBytes) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%REQ(:path):4%", r.info), "/bar");
  EXPECT_EQ(RenderPlain("%REQ(:path):100%", r.info), "/bar/foo?x=1");
  EXPECT_EQ(RenderPlain("%REQ(:path):0%", r.info), "");
}

TEST(ParserTest, HeaderSubcommandRules) {
  EXPECT_EQ(PlainError("%REQ(X?Y?Z)%"), "More than 1 alternative header specified in token: X?Y?Z");
  EXPECT_EQ(PlainError(std::string_view("%REQ(a\0b)%", 10)),
            "Invalid header configuration. Format string contains null or newline.");
  EXPECT_EQ(PlainError("%REQ(a\rb)%"), "Invalid header configuration. Format string contains null or newline.");
  EXPECT_EQ(PlainError("%RESP(?a\rb)%"), "Invalid header configuration. Format string contains null or newline.");
}

TEST(ParserTest, LiteralsAroundCommands) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("[%PROTOCOL%] x %RESPONSE_CODE% y", r.info), "[HTTP/1.1] x 200 y");
}

}  // namespace
}  // namespace meshlog::format
