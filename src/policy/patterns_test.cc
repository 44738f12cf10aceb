#include "policy/patterns.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy/regex.h"
#include "policy/value.h"
#include "policy/violation.h"

namespace meshlog::policy {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// ---- Regex engine ----

TEST(RegexTest, BasicConstructs) {
  Regex re(R"(^a(b|c)*d?$)");
  EXPECT_TRUE(re.FullMatch("a"));
  EXPECT_TRUE(re.FullMatch("abcbd"));
  EXPECT_FALSE(re.FullMatch("abx"));
  EXPECT_FALSE(re.FullMatch(""));
  EXPECT_FALSE(re.FullMatch("ad d"));
}

TEST(RegexTest, CountedRepetitionAndClasses) {
  Regex re(R"(^[0-9a-f]{2,3}(?::[^\s]+)?$)");
  EXPECT_TRUE(re.FullMatch("ab"));
  EXPECT_TRUE(re.FullMatch("abc:x/y"));
  EXPECT_FALSE(re.FullMatch("a"));
  EXPECT_FALSE(re.FullMatch("abcd"));
  EXPECT_FALSE(re.FullMatch("ab:x y"));
  Regex at_least(R"(^x{2,}$)");
  EXPECT_FALSE(at_least.FullMatch("x"));
  EXPECT_TRUE(at_least.FullMatch("xxxxx"));
}

TEST(RegexTest, HyphenAfterRangeIsLiteralAndUnicodeRanges) {
  Regex re(R"(^[a-z0-9-_]+$)");
  EXPECT_TRUE(re.FullMatch("a-b_c"));
  EXPECT_FALSE(re.FullMatch("A"));  // '-'..'_' is not a range here
  Regex uni(R"(^[\x{00a1}-\x{ffff}]+$)");
  EXPECT_TRUE(uni.FullMatch("é"));
  EXPECT_TRUE(uni.FullMatch("\xff"));  // invalid UTF-8 byte = U+FFFD, inside the range
  EXPECT_FALSE(uni.FullMatch("a"));
}

TEST(RegexTest, NoExponentialBlowUp) {
  Regex re(R"(^(([a-z]+-?-?)*[a-z]+)$)");
  EXPECT_FALSE(re.FullMatch(std::string(5000, 'a') + "!"));
}

TEST(RegexTest, RuneCountIsGoCompatible) {
  EXPECT_EQ(RuneCount("aé"), 2u);
  EXPECT_EQ(RuneCount("\xff\xfe"), 2u);
  EXPECT_EQ(RuneCount("€"), 1u);
}

// ---- govalidator.IsFilePath ----

TEST(IsFilePathTest, UnixAndWindowsPaths) {
  EXPECT_TRUE(IsGovalidatorFilePath("/dev/stdout"));
  EXPECT_TRUE(IsGovalidatorFilePath("/tmp/logs.txt"));
  EXPECT_TRUE(IsGovalidatorFilePath("/"));
  EXPECT_TRUE(IsGovalidatorFilePath("/tmp/dir/"));
  EXPECT_TRUE(IsGovalidatorFilePath("//double"));
  EXPECT_TRUE(IsGovalidatorFilePath("/with space/x"));
  EXPECT_TRUE(IsGovalidatorFilePath("C:\\logs\\access.log"));
  EXPECT_TRUE(IsGovalidatorFilePath("c:\\"));
  EXPECT_FALSE(IsGovalidatorFilePath(""));
  EXPECT_FALSE(IsGovalidatorFilePath("logs.txt"));
  EXPECT_FALSE(IsGovalidatorFilePath("#not_valid"));
  EXPECT_FALSE(IsGovalidatorFilePath("./relative"));
  EXPECT_FALSE(IsGovalidatorFilePath(std::string("/a\0b", 4)));
  EXPECT_FALSE(IsGovalidatorFilePath("C:\\a|b"));
  EXPECT_FALSE(IsGovalidatorFilePath("C:/unix/style"));
  EXPECT_FALSE(IsGovalidatorFilePath("C:\\" + std::string(32768, 'a')));
  EXPECT_TRUE(IsGovalidatorFilePath("C:\\" + std::string(32767, 'a')));
}

// ---- govalidator.IsURL ----

TEST(IsURLTest, AddressesFromTheSpec) {
  EXPECT_TRUE(IsGovalidatorURL("127.0.0.1:5000"));
  EXPECT_TRUE(IsGovalidatorURL("logstash:5000"));
  EXPECT_TRUE(IsGovalidatorURL("logging.backend"));
  EXPECT_TRUE(IsGovalidatorURL("google.com"));
  EXPECT_TRUE(IsGovalidatorURL("http://logs.com"));
  EXPECT_FALSE(IsGovalidatorURL("not_valid_url"));
  EXPECT_FALSE(IsGovalidatorURL("logstash"));
  EXPECT_FALSE(IsGovalidatorURL(""));
}

TEST(IsURLTest, LengthAndLeadingDotLimits) {
  EXPECT_FALSE(IsGovalidatorURL("a.b"));    // byte length <= 3
  EXPECT_TRUE(IsGovalidatorURL("ab.c"));
  EXPECT_FALSE(IsGovalidatorURL(".example.com"));
  EXPECT_FALSE(IsGovalidatorURL("example.com/" + std::string(2083, 'a')));
  EXPECT_TRUE(IsGovalidatorURL("example.com/" + std::string(2000, 'a')));
}

TEST(IsURLTest, SchemesPortsUserinfoAndPaths) {
  EXPECT_TRUE(IsGovalidatorURL("tcp://logs.example.com:5000"));
  EXPECT_TRUE(IsGovalidatorURL("udp://10.0.0.1:514"));
  EXPECT_TRUE(IsGovalidatorURL("user:pass@example.com:80"));
  EXPECT_TRUE(IsGovalidatorURL("example.com:80/path?q=1#frag"));
  EXPECT_TRUE(IsGovalidatorURL("[::1]:5000"));
  EXPECT_TRUE(IsGovalidatorURL("localhost:5000"));
  EXPECT_FALSE(IsGovalidatorURL("smtp://example.com"));    // scheme not in the list
  EXPECT_FALSE(IsGovalidatorURL("example.com:123456"));    // port > 5 digits
  EXPECT_FALSE(IsGovalidatorURL("example.com:abc"));       // url.Parse: invalid port
  EXPECT_FALSE(IsGovalidatorURL("exa mple.com"));
  EXPECT_FALSE(IsGovalidatorURL("http://.example.com"));   // host starts with '.'
  EXPECT_FALSE(IsGovalidatorURL("example.com:80:80"));
  EXPECT_FALSE(IsGovalidatorURL("http://exa%zzmple.com")); // bad escape
}

TEST(ParseGoUrlTest, HostPathAndErrors) {
  auto u = ParseGoUrl("http://user@example.com:80/a%2Eb");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "example.com:80");
  EXPECT_EQ(u->path, "/a.b");
  u = ParseGoUrl("logstash");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->host, "");
  EXPECT_EQ(u->path, "logstash");
  EXPECT_FALSE(ParseGoUrl(":foo").has_value());           // missing protocol scheme
  EXPECT_TRUE(ParseGoUrl("a/b:c").has_value());            // colon only after the first segment
  EXPECT_FALSE(ParseGoUrl("1a:b/c").has_value());          // first segment with colon
  EXPECT_FALSE(ParseGoUrl("http://a\nb").has_value());     // control character
  EXPECT_FALSE(ParseGoUrl("http://[::1").has_value());     // missing ']'
  EXPECT_FALSE(ParseGoUrl("http://a b").has_value());      // invalid host character
  EXPECT_FALSE(ParseGoUrl("http://x/%zz").has_value());
  EXPECT_FALSE(ParseGoUrl("http://x/#%zz").has_value());
  EXPECT_TRUE(ParseGoUrl("mailto:someone").has_value());   // opaque
}

// ---- govalidator.IsJSON ----

TEST(IsGoJSONTest, ValidAndInvalid) {
  EXPECT_TRUE(IsGoJSON(R"({"a": "b"})"));
  EXPECT_TRUE(IsGoJSON(R"({"": ""})"));
  EXPECT_TRUE(IsGoJSON(R"({"a": "line\nbreak"})"));
  EXPECT_TRUE(IsGoJSON(" [1, -2.5e3, true, false, null, {\"x\": {}}] "));
  EXPECT_TRUE(IsGoJSON("{\"a\": \"\xff\"}"));  // Go tolerates invalid UTF-8
  EXPECT_FALSE(IsGoJSON(R"({"a"b": "c"})"));
  EXPECT_FALSE(IsGoJSON(R"({"a": "\x"})"));
  EXPECT_FALSE(IsGoJSON("{\"a\": \"tab\there\"}"));
  EXPECT_FALSE(IsGoJSON(R"({"a": 01})"));
  EXPECT_FALSE(IsGoJSON(R"({"a": 1,})"));
  EXPECT_FALSE(IsGoJSON(""));
  EXPECT_FALSE(IsGoJSON(R"({"a": "b"} x)"));
  EXPECT_TRUE(IsGoJSON(R"({"a": "\u00e9"})"));
  EXPECT_FALSE(IsGoJSON(R"({"a": "\u00g9"})"));
}

// ---- SPIFFE IDs ----

TEST(SpiffeIdTest, GoSpiffeErrors) {
  EXPECT_EQ(SpiffeIdError("spiffe://trust.domain/ns/default/sa/client"), std::nullopt);
  EXPECT_EQ(SpiffeIdError("spiffe://td"), std::nullopt);
  EXPECT_EQ(SpiffeIdError(""), "cannot be empty");
  EXPECT_EQ(SpiffeIdError("http://td/x"), "scheme is missing or invalid");
  EXPECT_EQ(SpiffeIdError("spiffe:/td"), "scheme is missing or invalid");
  EXPECT_EQ(SpiffeIdError("spiffe:///path"), "trust domain is missing");
  EXPECT_EQ(SpiffeIdError("spiffe://"), "trust domain is missing");
  EXPECT_EQ(SpiffeIdError("spiffe://Trust/x"),
            "trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores");
  EXPECT_EQ(SpiffeIdError("spiffe://td/a/"), "path cannot have a trailing slash");
  EXPECT_EQ(SpiffeIdError("spiffe://td/"), "path cannot have a trailing slash");
  EXPECT_EQ(SpiffeIdError("spiffe://td/a//b"), "path cannot contain empty segments");
  EXPECT_EQ(SpiffeIdError("spiffe://td/a/./b"), "path cannot contain dot segments");
  EXPECT_EQ(SpiffeIdError("spiffe://td/a/.."), "path cannot contain dot segments");
  EXPECT_EQ(SpiffeIdError("spiffe://td/a b"),
            "path segment characters are limited to letters, numbers, dots, dashes, and underscores");
  EXPECT_EQ(SpiffeIdError("spiffe://td/A.b-c_d"), std::nullopt);
}

// ---- DNS-1123 subdomain ----

constexpr char kDns1123Msg[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

TEST(Dns1123Test, Messages) {
  EXPECT_THAT(Dns1123SubdomainErrors("example.com"), IsEmpty());
  EXPECT_THAT(Dns1123SubdomainErrors("a"), IsEmpty());
  EXPECT_THAT(Dns1123SubdomainErrors("sni.extsvc.default.zone-1.aws-aurora.8443"), IsEmpty());
  EXPECT_THAT(Dns1123SubdomainErrors("Example.com"), ElementsAre(kDns1123Msg));
  EXPECT_THAT(Dns1123SubdomainErrors("-a.com"), ElementsAre(kDns1123Msg));
  EXPECT_THAT(Dns1123SubdomainErrors("a..com"), ElementsAre(kDns1123Msg));
  EXPECT_THAT(Dns1123SubdomainErrors("*.example.com"), ElementsAre(kDns1123Msg));
  EXPECT_THAT(Dns1123SubdomainErrors(std::string(254, 'a')), ElementsAre("must be no more than 253 characters"));
  EXPECT_THAT(Dns1123SubdomainErrors(std::string(254, 'A')),
              ElementsAre("must be no more than 253 characters", kDns1123Msg));
}

// ---- charsets ----

TEST(CharsetTest, OtelAttributeKeys) {
  EXPECT_TRUE(MatchesOtelAttributeKeySchemaPattern("a"));
  EXPECT_TRUE(MatchesOtelAttributeKeySchemaPattern("http.request_method"));
  EXPECT_TRUE(MatchesOtelAttributeKeySchemaPattern("a1.b2_c3"));
  EXPECT_FALSE(MatchesOtelAttributeKeySchemaPattern(""));
  EXPECT_FALSE(MatchesOtelAttributeKeySchemaPattern("1a"));
  EXPECT_FALSE(MatchesOtelAttributeKeySchemaPattern("a..b"));
  EXPECT_FALSE(MatchesOtelAttributeKeySchemaPattern("a._b"));
  EXPECT_FALSE(MatchesOtelAttributeKeySchemaPattern("a."));
  EXPECT_FALSE(MatchesOtelAttributeKeySchemaPattern("A"));
  EXPECT_FALSE(MatchesOtelAttributeKeySchemaPattern("a-b"));
}

TEST(CharsetTest, KumaNamesTagsAndSelectors) {
  EXPECT_TRUE(IsKumaNameCharset("backend_kuma-demo_svc_8080"));
  EXPECT_TRUE(IsKumaNameCharset(""));
  EXPECT_FALSE(IsKumaNameCharset("Backend"));
  EXPECT_FALSE(IsKumaNameCharset("a/b"));
  EXPECT_TRUE(IsKumaTagNameCharset("kuma.io/service"));
  EXPECT_FALSE(IsKumaTagNameCharset("a b"));
  EXPECT_TRUE(IsKumaTagValueCharset("web:v1.2_x-y"));
  EXPECT_FALSE(IsKumaTagValueCharset("a/b"));
  EXPECT_TRUE(IsKumaSelectorValueCharset("*"));
  EXPECT_TRUE(IsKumaSelectorValueCharset("a/b"));
  EXPECT_FALSE(IsKumaSelectorValueCharset("a*"));
}

// ---- paths, quoting, values ----

TEST(FieldPathTest, KumaPathBuilderSemantics) {
  FieldPath p = FieldPath::RootedAt("spec").Field("to").Index(0);
  EXPECT_EQ(p.str(), "spec.to[0]");
  EXPECT_EQ(p.Concat("").str(), "spec.to[0]");
  EXPECT_EQ(p.Concat("[1]").str(), "spec.to[0][1]");
  EXPECT_EQ(p.Concat("a.b").str(), "spec.to[0].a.b");
  EXPECT_EQ(FieldPath::Root().Concat("x").str(), "x");
  EXPECT_EQ(FieldPath::Root().Field("x").str(), "x");
  EXPECT_EQ(FieldPath::Root().Index(2).str(), "[2]");
  EXPECT_EQ(FieldPath::RootedAt("tags").Key("a b").str(), "tags[\"a b\"]");
}

TEST(GoQuoteTest, EscapesLikeStrconvQuote) {
  EXPECT_EQ(GoQuote("abc"), "\"abc\"");
  EXPECT_EQ(GoQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(GoQuote("\n\t\x01"), "\"\\n\\t\\x01\"");
  EXPECT_EQ(GoQuote("é"), "\"é\"");
  EXPECT_EQ(GoQuote("\xff"), "\"\\xff\"");
}

TEST(ValueTest, CanonicalJsonSortsKeysAndEscapesLikeGo) {
  Value v = Value::MakeObject({{"b", Value::Int(1)},
                               {"a", Value::String("<&>\"\n")},
                               {"c", Value::MakeArray({Value::Bool(true), Value::Null(), Value::Double(1.5)})}});
  EXPECT_EQ(v.ToCanonicalJson(), R"({"a":"\u003c\u0026\u003e\"\n","b":1,"c":[true,null,1.5]})");
  EXPECT_EQ(Value::Double(3).ToCanonicalJson(), "3");
  EXPECT_EQ(v.Find("b")->JsonTypeName(), "number");
  EXPECT_EQ(Value().JsonTypeName(), "null");
  EXPECT_EQ(v.Find("zzz"), nullptr);
  EXPECT_EQ(Value::String("x").array_items().size(), 0u);
}

}  // namespace
}  // namespace meshlog::policy
