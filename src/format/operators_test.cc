// Per-operator behaviour (formatter.md section 4).
#include "format/operators.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "format/test_util.h"

namespace meshlog::format {
namespace {

using testing::PlainError;
using testing::RenderJson;
using testing::RenderPlain;
using testing::TcpInfo;
using testing::TestRequest;

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

// ---- 4.1 durations ----------------------------------------------------------------------------

TEST(DurationTest, MillisecondsTruncated) {
  TestRequest r;
  r.info.duration = microseconds(15999);
  r.info.timing(TimePoint::kDsRxEnd) = microseconds(5500);
  r.info.timing(TimePoint::kUsTxEnd) = milliseconds(6);
  r.info.timing(TimePoint::kUsRxBeg) = milliseconds(10);
  r.info.timing(TimePoint::kDsTxEnd) = milliseconds(25);
  EXPECT_EQ(RenderPlain("%DURATION% %REQUEST_DURATION% %REQUEST_TX_DURATION% %RESPONSE_DURATION% %RESPONSE_TX_DURATION%",
                        r.info),
            "15 5 6 10 15");
  EXPECT_EQ(RenderJson({{"d", "%DURATION%"}, {"rtx", "%RESPONSE_TX_DURATION%"}}, r.info), "{\"d\":15,\"rtx\":15}\n");
}

TEST(DurationTest, TcpHasNoHttpTimings) {
  StreamInfo tcp = TcpInfo();
  EXPECT_EQ(RenderPlain("%DURATION% %REQUEST_DURATION% %REQUEST_TX_DURATION% %RESPONSE_DURATION% %RESPONSE_TX_DURATION%",
                        tcp),
            "1500 - - - -");
  tcp.duration.reset();
  EXPECT_EQ(RenderPlain("%DURATION%", tcp), "-");
}

TEST(DurationTest, NotAvailableInMeshlog) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%DOWNSTREAM_HANDSHAKE_DURATION% %ROUNDTRIP_DURATION% %UPSTREAM_CONNECTION_POOL_READY_DURATION%",
                        r.info),
            "- - -");
}

TEST(CommonDurationTest, PrecisionsAndMissing) {
  TestRequest r;
  r.info.timing(TimePoint::kDsRxEnd) = nanoseconds(5123456);
  r.info.timing(TimePoint::kDsTxEnd) = nanoseconds(25987654);
  EXPECT_EQ(RenderPlain("%COMMON_DURATION(DS_RX_BEG:DS_RX_END)%", r.info), "5");
  EXPECT_EQ(RenderPlain("%COMMON_DURATION(DS_RX_END:DS_TX_END:ms)%", r.info), "20");
  EXPECT_EQ(RenderPlain("%COMMON_DURATION(DS_RX_END:DS_TX_END:us)%", r.info), "20864");
  EXPECT_EQ(RenderPlain("%COMMON_DURATION(DS_RX_END:DS_TX_END:ns)%", r.info), "20864198");
  EXPECT_EQ(RenderPlain("%COMMON_DURATION(DS_TX_END:DS_RX_END)%", r.info), "-");  // end < start
  EXPECT_EQ(RenderPlain("%COMMON_DURATION(US_CX_BEG:US_CX_END)%", r.info), "-");
  EXPECT_EQ(RenderPlain("%COMMON_DURATION(DS_RX_BEG:my_custom_key)%", r.info), "-");
  EXPECT_EQ(RenderJson({{"c", "%COMMON_DURATION(DS_RX_BEG:DS_RX_END:us)%"}}, r.info), "{\"c\":5123}\n");
}

TEST(CommonDurationTest, Errors) {
  EXPECT_EQ(PlainError("%COMMON_DURATION(DS_RX_BEG)%"), "Invalid common duration configuration: DS_RX_BEG.");
  EXPECT_EQ(PlainError("%COMMON_DURATION(A:B:ms:x)%"), "Invalid common duration configuration: A:B:ms:x.");
  EXPECT_EQ(PlainError("%COMMON_DURATION(DS_RX_BEG:DS_RX_END:s)%"), "Invalid common duration precision: s.");
  EXPECT_EQ(PlainError("%COMMON_DURATION(DS_RX_BEG:DS_RX_END):3%"),
            "COMMON_DURATION does not allow length to be specified.");
}

// ---- 4.2 byte counters ----------------------------------------------------------------------------

TEST(CounterTest, ValuesAndHeaderBytes) {
  TestRequest r;
  r.info.upstream_wire_bytes_sent = 11;
  r.info.upstream_wire_bytes_received = 12;
  r.info.upstream_header_bytes_sent = 13;
  r.info.upstream_header_bytes_received = 14;
  r.info.downstream_wire_bytes_sent = 15;
  r.info.downstream_wire_bytes_received = 16;
  r.info.downstream_header_bytes_sent = 17;
  r.info.downstream_header_bytes_received = 18;
  EXPECT_EQ(RenderPlain("%BYTES_RECEIVED% %BYTES_SENT% %BYTES_RETRANSMITTED% %PACKETS_RETRANSMITTED% "
                        "%UPSTREAM_WIRE_BYTES_SENT% %UPSTREAM_WIRE_BYTES_RECEIVED% %UPSTREAM_HEADER_BYTES_SENT% "
                        "%UPSTREAM_HEADER_BYTES_RECEIVED% %DOWNSTREAM_WIRE_BYTES_SENT% %DOWNSTREAM_WIRE_BYTES_RECEIVED% "
                        "%DOWNSTREAM_HEADER_BYTES_SENT% %DOWNSTREAM_HEADER_BYTES_RECEIVED% "
                        "%UPSTREAM_DECOMPRESSED_HEADER_BYTES_SENT% %DOWNSTREAM_DECOMPRESSED_HEADER_BYTES_RECEIVED%",
                        r.info),
            "1 2 0 0 11 12 13 14 15 16 17 18 13 18");
  // Sum of name + value lengths.
  const uint64_t req = 7 + 3 + 5 + 12 + 10 + 11 + 10 + 8 + 12 + 5;
  const uint64_t resp = 7 + 3 + 29 + 1;
  EXPECT_EQ(RenderPlain("%REQUEST_HEADERS_BYTES% %RESPONSE_HEADERS_BYTES% %RESPONSE_TRAILERS_BYTES%", r.info),
            std::to_string(req) + " " + std::to_string(resp) + " 0");
  EXPECT_EQ(RenderJson({{"b", "%BYTES_SENT%"}}, r.info), "{\"b\":2}\n");
}

TEST(CounterTest, TcpHeaderBytesAreZero) {
  StreamInfo tcp = TcpInfo();
  EXPECT_EQ(RenderPlain("%REQUEST_HEADERS_BYTES% %RESPONSE_HEADERS_BYTES% %RESPONSE_TRAILERS_BYTES%", tcp), "0 0 0");
}

// ---- 4.3 protocol, codes, details -----------------------------------------------------------------

TEST(ProtocolTest, Names) {
  TestRequest r;
  for (auto [p, name] : {std::pair{Protocol::kHttp10, "HTTP/1.0"}, std::pair{Protocol::kHttp11, "HTTP/1.1"},
                         std::pair{Protocol::kHttp2, "HTTP/2"}, std::pair{Protocol::kHttp3, "HTTP/3"}}) {
    r.info.protocol = p;
    r.info.upstream_protocol = p;
    EXPECT_EQ(RenderPlain("%PROTOCOL% %UPSTREAM_PROTOCOL%", r.info), std::string(name) + " " + name);
  }
  r.info.upstream_protocol = Protocol::kUnset;
  EXPECT_EQ(RenderPlain("%UPSTREAM_PROTOCOL%", r.info), "-");
}

TEST(ResponseCodeTest, UnsetIsZero) {
  StreamInfo tcp = TcpInfo();
  EXPECT_EQ(RenderPlain("%RESPONSE_CODE%", tcp), "0");
  EXPECT_EQ(RenderJson({{"c", "%RESPONSE_CODE%"}}, tcp), "{\"c\":0}\n");
}

TEST(ResponseCodeDetailsTest, WhitespaceReplaced) {
  TestRequest r;
  r.info.response_code_details = "a b\tc\fd\ve\nf\rg";
  EXPECT_EQ(RenderPlain("%RESPONSE_CODE_DETAILS%", r.info), "a_b_c_d_e_f_g");
  EXPECT_EQ(RenderPlain("%RESPONSE_CODE_DETAILS(ALLOW_WHITESPACES)%", r.info), "a b\tc\\x0Cd\\x0Be\\x0Af\\x0Dg");
  EXPECT_EQ(RenderPlain("%RESPONSE_CODE_DETAILS(OTHER)%", r.info), "a_b_c_d_e_f_g");
  r.info.response_code_details = "";
  EXPECT_EQ(RenderPlain("%RESPONSE_CODE_DETAILS%", r.info), "-");
}

TEST(ConnectionTerminationDetailsTest, StringOrMissing) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%CONNECTION_TERMINATION_DETAILS%", r.info), "-");
  r.info.connection_termination_details = "access_denied";
  EXPECT_EQ(RenderPlain("%CONNECTION_TERMINATION_DETAILS%", r.info), "access_denied");
}

TEST(GrpcStatusTest, Modes) {
  TestRequest r;
  r.req.add("content-type", "application/grpc");
  r.trailers.add("grpc-status", "14");
  EXPECT_EQ(RenderPlain("%GRPC_STATUS% %GRPC_STATUS(CAMEL_STRING)% %GRPC_STATUS(SNAKE_STRING)% %GRPC_STATUS(NUMBER)% "
                        "%GRPC_STATUS_NUMBER%",
                        r.info),
            "Unavailable Unavailable UNAVAILABLE 14 14");
  EXPECT_EQ(RenderJson({{"n", "%GRPC_STATUS(NUMBER)%"}, {"s", "%GRPC_STATUS%"}}, r.info),
            "{\"n\":14,\"s\":\"Unavailable\"}\n");
}

TEST(GrpcStatusTest, AllNames) {
  static const char* kCamel[] = {"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
                                 "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
                                 "Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss",
                                 "Unauthenticated"};
  static const char* kSnake[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
                                 "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
                                 "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  for (int code = 0; code <= 16; ++code) {
    TestRequest r;
    r.req.add("content-type", "application/grpc+proto");
    const std::string value = std::to_string(code);
    r.resp.add("grpc-status", value);
    EXPECT_EQ(RenderPlain("%GRPC_STATUS%|%GRPC_STATUS(SNAKE_STRING)%", r.info),
              std::string(kCamel[code]) + "|" + kSnake[code]);
  }
}

TEST(GrpcStatusTest, SourcesAndInvalidValues) {
  TestRequest r;
  r.req.add("content-type", "application/grpc");
  // Trailers win over headers.
  r.resp.add("grpc-status", "5");
  r.trailers.add("grpc-status", "0");
  EXPECT_EQ(RenderPlain("%GRPC_STATUS%", r.info), "OK");
  TestRequest big;
  big.req.add("content-type", "application/grpc");
  big.trailers.add("grpc-status", "42738");
  EXPECT_EQ(RenderPlain("%GRPC_STATUS% %GRPC_STATUS(SNAKE_STRING)% %GRPC_STATUS(NUMBER)%", big.info), "42738 42738 42738");
  TestRequest bad;
  bad.req.add("content-type", "application/grpc");
  bad.trailers.add("grpc-status", "-1");
  bad.resp.add("grpc-status", "x");
  EXPECT_EQ(RenderPlain("%GRPC_STATUS% %GRPC_STATUS(NUMBER)%", bad.info), "-1 -1");
  EXPECT_EQ(RenderJson({{"n", "%GRPC_STATUS(NUMBER)%"}}, bad.info), "{\"n\":-1}\n");
}

TEST(GrpcStatusTest, InferredFromHttpCode) {
  for (auto [http, grpc] : {std::pair{400u, "Internal"}, std::pair{401u, "Unauthenticated"},
                            std::pair{403u, "PermissionDenied"}, std::pair{404u, "Unimplemented"},
                            std::pair{429u, "Unavailable"}, std::pair{502u, "Unavailable"},
                            std::pair{503u, "Unavailable"}, std::pair{504u, "Unavailable"},
                            std::pair{200u, "Unknown"}, std::pair{500u, "Unknown"}}) {
    TestRequest r;
    r.req.add("content-type", "application/grpc");
    r.info.response_code = http;
    EXPECT_EQ(RenderPlain("%GRPC_STATUS%", r.info), grpc) << http;
  }
}

TEST(GrpcStatusTest, RequiresGrpcRequest) {
  TestRequest r;
  r.trailers.add("grpc-status", "0");
  EXPECT_EQ(RenderPlain("%GRPC_STATUS%", r.info), "-");
  r.req.add("content-type", "application/grpc-web");
  EXPECT_EQ(RenderPlain("%GRPC_STATUS%", r.info), "-");
  EXPECT_EQ(RenderPlain("%GRPC_STATUS%", TcpInfo()), "-");
}

TEST(GrpcStatusTest, Errors) {
  EXPECT_EQ(PlainError("%GRPC_STATUS(CAMEL)%"), "GrpcStatusFormatter only supports CAMEL_STRING, SNAKE_STRING or NUMBER.");
  EXPECT_EQ(PlainError("%GRPC_STATUS_NUMBER(NUMBER)%"), "GRPC_STATUS_NUMBER does not take any parameters or length");
}

TEST(AccessLogTypeTest, Names) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%ACCESS_LOG_TYPE%", r.info), "NotSet");
  r.info.access_log_type = AccessLogType::DownstreamEnd;
  EXPECT_EQ(RenderPlain("%ACCESS_LOG_TYPE%", r.info), "DownstreamEnd");
  r.info.access_log_type = AccessLogType::TcpConnectionEnd;
  EXPECT_EQ(RenderJson({{"t", "%ACCESS_LOG_TYPE%"}}, r.info), "{\"t\":\"TcpConnectionEnd\"}\n");
}

// ---- 4.4 response flags ---------------------------------------------------------------------------

TEST(ResponseFlagsTest, SetOrderShortAndLong) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%RESPONSE_FLAGS% %RESPONSE_FLAGS_LONG%", r.info), "- -");
  EXPECT_EQ(RenderJson({{"f", "%RESPONSE_FLAGS%"}}, r.info), "{\"f\":\"-\"}\n");
  r.info.response_flags.set(ResponseFlag::UT);
  EXPECT_EQ(RenderPlain("%RESPONSE_FLAGS% %RESPONSE_FLAGS_LONG%", r.info), "UT UpstreamRequestTimeout");
  r.info.response_flags.set(ResponseFlag::DI);
  r.info.response_flags.set(ResponseFlag::FI);
  r.info.response_flags.set(ResponseFlag::DI);
  EXPECT_EQ(RenderPlain("%RESPONSE_FLAGS%", r.info), "UT,DI,FI");
  EXPECT_EQ(RenderPlain("%RESPONSE_FLAGS_LONG%", r.info), "UpstreamRequestTimeout,DelayInjected,FaultInjected");
  EXPECT_EQ(RenderPlain("[%CUSTOM_FLAGS%]", r.info), "[]");
}

// ---- 4.5 addresses -------------------------------------------------------------------------------

TEST(AddressTest, Forms) {
  TestRequest r;
  r.info.downstream_direct_remote = *Address::Parse("127.0.0.3:63443");
  r.info.downstream_remote = *Address::Parse("[2001:db8::1]:8080");
  EXPECT_EQ(RenderPlain("%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% %DOWNSTREAM_REMOTE_PORT%",
                        r.info),
            "[2001:db8::1]:8080 2001:db8::1 8080");
  EXPECT_EQ(RenderPlain("%DOWNSTREAM_DIRECT_REMOTE_ADDRESS% %DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT% "
                        "%DOWNSTREAM_DIRECT_REMOTE_PORT%",
                        r.info),
            "127.0.0.3:63443 127.0.0.3 63443");
  // Direct local falls back to local.
  EXPECT_EQ(RenderPlain("%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_DIRECT_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_PORT% "
                        "%DOWNSTREAM_DIRECT_LOCAL_ADDRESS_WITHOUT_PORT% %DOWNSTREAM_DIRECT_LOCAL_PORT%",
                        r.info),
            "127.0.0.2:0 127.0.0.2:0 0 127.0.0.2 0");
  // Upstream remote falls back to the host.
  EXPECT_EQ(RenderPlain("%UPSTREAM_HOST% %UPSTREAM_REMOTE_ADDRESS% %UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "
                        "%UPSTREAM_REMOTE_PORT% %UPSTREAM_LOCAL_ADDRESS% %UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT% "
                        "%UPSTREAM_LOCAL_PORT%",
                        r.info),
            "10.0.0.1:443 10.0.0.1:443 10.0.0.1 443 127.1.2.3:18443 127.1.2.3 18443");
  EXPECT_EQ(RenderJson({{"a", "%UPSTREAM_HOST%"}, {"p", "%UPSTREAM_LOCAL_PORT%"}}, r.info),
            "{\"a\":\"10.0.0.1:443\",\"p\":18443}\n");
}

TEST(AddressTest, MissingAndPipe) {
  StreamInfo tcp = TcpInfo();
  EXPECT_EQ(RenderPlain("%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_PORT% %UPSTREAM_LOCAL_ADDRESS%", tcp), "- - -");
  tcp.upstream_local = *Address::Parse("/var/run/x.sock");
  EXPECT_EQ(RenderPlain("%UPSTREAM_LOCAL_ADDRESS%|%UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%|%UPSTREAM_LOCAL_PORT%|", tcp),
            "/var/run/x.sock|/var/run/x.sock||");
  EXPECT_EQ(RenderJson({{"p", "%UPSTREAM_LOCAL_PORT%"}, {"s", "x%UPSTREAM_LOCAL_PORT%"}}, tcp),
            "{\"p\":null,\"s\":\"x\"}\n");
  EXPECT_EQ(RenderJson({{"p", "%UPSTREAM_LOCAL_PORT%"}}, tcp, OmitEmptyValues::yes), "{}\n");
}

TEST(AddressTest, MaskPrefix) {
  TestRequest r;
  r.info.downstream_remote = *Address::Parse("10.1.10.23:5");
  r.info.downstream_local = *Address::Parse("[2001:db8:1234:5678:9abc:def0:1234:5678]:80");
  EXPECT_EQ(RenderPlain("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(16)% %DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT(64)%",
                        r.info),
            "10.1.0.0/16 2001:db8:1234:5678::/64");
  EXPECT_EQ(RenderPlain("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(32)%", r.info), "10.1.10.23/32");
  EXPECT_EQ(RenderPlain("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(0)%", r.info), "0.0.0.0/0");
  EXPECT_NE(PlainError("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(x)%"), "<ok>");
  EXPECT_NE(PlainError("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT(129)%"), "<ok>");
  EXPECT_EQ(PlainError("%DOWNSTREAM_REMOTE_PORT(1)%"), "DOWNSTREAM_REMOTE_PORT does not take any parameters or length");
}

TEST(UpstreamHostNameTest, NameOrAddress) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%UPSTREAM_HOST_NAME% %UPSTREAM_HOST_NAME_WITHOUT_PORT%", r.info), "10.0.0.1:443 10.0.0.1");
  r.info.upstream_host_name = "backend.svc:8080";
  EXPECT_EQ(RenderPlain("%UPSTREAM_HOST_NAME% %UPSTREAM_HOST_NAME_WITHOUT_PORT%", r.info),
            "backend.svc:8080 backend.svc");
  r.info.upstream_host_name = "";
  r.info.upstream_host = *Address::Parse("[::1]:80");
  EXPECT_EQ(RenderPlain("%UPSTREAM_HOST_NAME_WITHOUT_PORT%", r.info), "[::1]");
  StreamInfo tcp = TcpInfo();
  tcp.upstream_host = Address{};
  EXPECT_EQ(RenderPlain("%UPSTREAM_HOST_NAME%", tcp), "-");
}

TEST(ClusterAndNamesTest, MissingWhenEmpty) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%UPSTREAM_CLUSTER% %UPSTREAM_CLUSTER_RAW% %ROUTE_NAME% %VIRTUAL_CLUSTER_NAME% "
                        "%FILTER_CHAIN_NAME%",
                        r.info),
            "backend backend - - -");
  r.info.route_name = "r1";
  r.info.virtual_cluster_name = "vc";
  r.info.filter_chain_name = "fc";
  EXPECT_EQ(RenderPlain("%ROUTE_NAME% %VIRTUAL_CLUSTER_NAME% %FILTER_CHAIN_NAME%", r.info), "r1 vc fc");
}

TEST(ConnectionIdTest, NumbersNeverMissing) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%CONNECTION_ID% %UPSTREAM_CONNECTION_ID% %UPSTREAM_REQUEST_ATTEMPT_COUNT%", r.info), "0 0 0");
  r.info.connection_id = 18446744073709551615ULL;
  r.info.upstream_connection_id = 7;
  r.info.upstream_request_attempt_count = 3;
  EXPECT_EQ(RenderPlain("%CONNECTION_ID% %UPSTREAM_CONNECTION_ID% %UPSTREAM_REQUEST_ATTEMPT_COUNT%", r.info),
            "18446744073709551615 7 3");
  EXPECT_EQ(RenderJson({{"c", "%CONNECTION_ID%"}, {"n", "%UPSTREAM_REQUEST_ATTEMPT_COUNT%"}}, r.info),
            "{\"c\":18446744073709551615,\"n\":3}\n");
}

TEST(TransportFailureTest, SpacesBecomeUnderscores) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%UPSTREAM_TRANSPORT_FAILURE_REASON% %DOWNSTREAM_TRANSPORT_FAILURE_REASON%", r.info), "- -");
  r.info.upstream_transport_failure_reason = "SSL error";
  r.info.downstream_transport_failure_reason = "TLS error: x y";
  EXPECT_EQ(RenderPlain("%UPSTREAM_TRANSPORT_FAILURE_REASON% %DOWNSTREAM_TRANSPORT_FAILURE_REASON%", r.info),
            "SSL_error TLS_error:_x_y");
}

// ---- 4.6 headers, path, query ------------------------------------------------------------------

TEST(HeaderTest, AliasesCaseAndAlternatives) {
  TestRequest r;
  r.trailers.add("grpc-message", "m");
  EXPECT_EQ(RenderPlain("%REQ(:Method)% %REQUEST_HEADER(USER-AGENT)% %STREAM_INFO_REQ(:authority)%", r.info),
            "GET curl/8.0 example.com");
  EXPECT_EQ(RenderPlain("%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% %RESPONSE_HEADER(:status)%", r.info), "7 200");
  EXPECT_EQ(RenderPlain("%TRAILER(grpc-message)% %RESPONSE_TRAILER(grpc-message)%", r.info), "m m");
  EXPECT_EQ(RenderPlain("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%", r.info), "/bar/foo?x=1");
  r.req.add("x-envoy-original-path", "/orig");
  EXPECT_EQ(RenderPlain("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%", r.info), "/orig");
  EXPECT_EQ(RenderPlain("%REQ(nope?nope2)% %REQ(nope)%", r.info), "- -");
  EXPECT_EQ(RenderPlain("%REQ(?:method)%", r.info), "GET");
}

TEST(HeaderTest, FirstValueEvenIfEmpty) {
  TestRequest r;
  r.req.add("x-a", "");
  r.req.add("x-a", "second");
  r.req.add("x-b", "b");
  EXPECT_EQ(RenderPlain("[%REQ(x-a?x-b)%]", r.info), "[]");
}

TEST(HeaderTest, TruncationIsBytes) {
  TestRequest r;
  r.req.add("x-l", "\xce\xbb\xce\xbb");
  EXPECT_EQ(RenderPlain("%REQ(x-l):3%", r.info), "\xce\xbb\xce");
  EXPECT_EQ(RenderPlain("%REQ(x-l?:path):1%", r.info), "\xce");
}

TEST(HeaderTest, TcpHasNoHeaders) {
  StreamInfo tcp = TcpInfo();
  EXPECT_EQ(RenderPlain("%REQ(:path)% %RESP(a)% %TRAILER(b)%", tcp), "- - -");
}

TEST(QueryParamTest, DecodedFirstValue) {
  TestRequest r;
  r.req.clear();
  r.req.add(":path", "/p?a=1&b=x%20y&a=2&c&d=%zz&e%31=k#frag");
  EXPECT_EQ(RenderPlain("%QUERY_PARAM(a)%|%QUERY_PARAM(b)%|%QUERY_PARAM(c)%|%QUERY_PARAM(d)%|%QUERY_PARAM(e1)%|"
                        "%QUERY_PARAM(zz)%|%QUERY_PARAM(b):3%",
                        r.info),
            "1|x y||%zz|k|-|x y");
  EXPECT_EQ(PlainError("%QUERY_PARAM%"), "QUERY_PARAM requires parameters");
  r.req.clear();
  r.req.add(":path", "/p");
  EXPECT_EQ(RenderPlain("%QUERY_PARAM(a)%", r.info), "-");
}

TEST(PathTest, Options) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%PATH%|%PATH(NQ)%|%PATH(WQ:PATH)%|%PATH(NQ:ORIG)%|%PATH(WQ:ORIG_OR_PATH):4%", r.info),
            "/bar/foo?x=1|/bar/foo|/bar/foo?x=1|-|/bar");
  r.req.add("x-envoy-original-path", "/orig?q");
  EXPECT_EQ(RenderPlain("%PATH%|%PATH(NQ:ORIG)%|%PATH(NQ:PATH)%", r.info), "/orig?q|/orig|/bar/foo");
  EXPECT_EQ(PlainError("%PATH(XQ)%"), "Invalid PATH option: 'XQ', only 'WQ'/'NQ' are allowed");
  EXPECT_EQ(PlainError("%PATH(WQ:FOO)%"), "Invalid PATH option: 'FOO', only 'ORIG'/'PATH'/'ORIG_OR_PATH' are allowed");
}

TEST(LocalReplyBodyTest, EmptyNotMissing) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("[%LOCAL_REPLY_BODY%]", r.info, OmitEmptyValues::no), "[]");
  r.info.local_reply_body = "no healthy upstream";
  EXPECT_EQ(RenderPlain("%LOCAL_REPLY_BODY%", r.info), "no healthy upstream");
}

TEST(TraceIdTest, FromStreamInfo) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%TRACE_ID% %SPAN_ID% %STREAM_ID%", r.info), "- - -");
  r.info.trace_id = "abc";
  r.info.span_id = "def";
  r.info.stream_id = "req-1";
  EXPECT_EQ(RenderPlain("%TRACE_ID% %SPAN_ID% %STREAM_ID%", r.info), "abc def req-1");
}

// ---- 4.7 metadata and filter state (validate like Envoy, no data) -------------------------------

TEST(MetadataTest, ValidatesAndRendersMissing) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%DYNAMIC_METADATA(ns:key):25% %CLUSTER_METADATA(ns)% %UPSTREAM_METADATA(a:b:c)%", r.info),
            "- - -");
  EXPECT_EQ(PlainError("%DYNAMIC_METADATA%"), "DYNAMIC_METADATA requires parameters");
  EXPECT_EQ(RenderPlain("%FILTER_STATE(key)% %FILTER_STATE(key:PLAIN):3% %UPSTREAM_FILTER_STATE(k:FIELD:f)%", r.info),
            "- - -");
  EXPECT_EQ(PlainError("%FILTER_STATE()%"), "Invalid filter state configuration, key cannot be empty.");
  EXPECT_EQ(PlainError("%FILTER_STATE(k:JSON)%"), "Invalid filter state serialize type, only support PLAIN/TYPED/FIELD.");
  EXPECT_EQ(PlainError("%FILTER_STATE(k:FIELD)%"),
            "Invalid filter state serialize type, FIELD should be used with the field name.");
  EXPECT_EQ(PlainError("%FILTER_STATE(k:PLAIN:f)%"),
            "Invalid filter state serialize type, FIELD should be used with the field name.");
  EXPECT_EQ(RenderJson({{"m", "%DYNAMIC_METADATA(ns)%"}}, r.info), "{\"m\":null}\n");
}

// ---- 4.8 TLS ------------------------------------------------------------------------------------

TEST(TlsTest, MissingWithoutTls) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%DOWNSTREAM_PEER_URI_SAN% %DOWNSTREAM_TLS_VERSION% %UPSTREAM_PEER_SUBJECT% "
                        "%DOWNSTREAM_PEER_CERT_V_START% %UPSTREAM_PEER_CERT_V_END(%s)% %TLS_JA3_FINGERPRINT%",
                        r.info),
            "- - - - - -");
  EXPECT_EQ(PlainError("%DOWNSTREAM_TLS_VERSION(x)%"), "DOWNSTREAM_TLS_VERSION does not take any parameters or length");
  EXPECT_EQ(PlainError("%DOWNSTREAM_PEER_CERT_V_START(%n)%"),
            "Invalid header configuration. Format string contains newline.");
}

// ---- 4.9 identity / misc -------------------------------------------------------------------------

TEST(SniTest, Sanitised) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%REQUESTED_SERVER_NAME%", r.info), "-");
  r.info.requested_server_name = "example.com";
  EXPECT_EQ(RenderPlain("%REQUESTED_SERVER_NAME%", r.info), "example.com");
  r.info.requested_server_name = "a_b";
  EXPECT_EQ(RenderPlain("%REQUESTED_SERVER_NAME%", r.info), "invalid:a_b");
  r.info.requested_server_name = "foo bar\n";
  EXPECT_EQ(RenderPlain("%REQUESTED_SERVER_NAME%", r.info), "invalid:foo_bar_");
}

TEST(SniTest, HostFallbacks) {
  TestRequest r;
  EXPECT_EQ(RenderPlain("%REQUESTED_SERVER_NAME(SNI_ONLY)%|%REQUESTED_SERVER_NAME(SNI_FIRST)%|"
                        "%REQUESTED_SERVER_NAME(HOST_FIRST:HOST)%",
                        r.info),
            "-|example.com|example.com");
  r.info.requested_server_name = "sni.test";
  r.req.add("x-envoy-original-host", "orig.test");
  EXPECT_EQ(RenderPlain("%REQUESTED_SERVER_NAME(SNI_FIRST)%|%REQUESTED_SERVER_NAME(HOST_FIRST)%|"
                        "%REQUESTED_SERVER_NAME(HOST_FIRST:HOST)%|%REQUESTED_SERVER_NAME(HOST_FIRST:ORIG)%",
                        r.info),
            "sni.test|orig.test|example.com|orig.test");
  EXPECT_NE(PlainError("%REQUESTED_SERVER_NAME(BOTH)%"), "<ok>");
  EXPECT_NE(PlainError("%REQUESTED_SERVER_NAME(SNI_FIRST:X)%"), "<ok>");
}

TEST(HostnameTest, ResolvedOnce) {
  TestRequest r;
  char buf[256] = {};
  ASSERT_EQ(gethostname(buf, sizeof(buf) - 1), 0);
  EXPECT_EQ(RenderPlain("%HOSTNAME%", r.info), buf);
  EXPECT_EQ(PlainError("%HOSTNAME(x)%"), "HOSTNAME does not take any parameters or length");
}

TEST(EnvironmentTest, ReadOnceTruncatedDashWhenUnset) {
  TestRequest r;
  ASSERT_EQ(setenv("MESHLOG_FORMAT_TEST_VAR", "hello world", 1), 0);
  auto c = CompilePlain("%ENVIRONMENT(MESHLOG_FORMAT_TEST_VAR)% %ENVIRONMENT(MESHLOG_FORMAT_TEST_VAR):5%",
                        OmitEmptyValues::no);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(setenv("MESHLOG_FORMAT_TEST_VAR", "changed", 1), 0);  // read at config time only
  std::string out;
  c.value()->format(r.info, out);
  EXPECT_EQ(out, "hello world hello");
  EXPECT_EQ(RenderPlain("%ENVIRONMENT(MESHLOG_FORMAT_UNSET_VAR_XYZ)%", r.info, OmitEmptyValues::yes), "-");
  EXPECT_EQ(RenderJson({{"e", "%ENVIRONMENT(MESHLOG_FORMAT_UNSET_VAR_XYZ)%"}}, r.info), "{\"e\":\"-\"}\n");
  unsetenv("MESHLOG_FORMAT_TEST_VAR");
}

TEST(UniqueIdTest, FreshUuidV4PerRecord) {
  TestRequest r;
  auto c = CompilePlain("%UNIQUE_ID%", OmitEmptyValues::no);
  ASSERT_TRUE(c.ok());
  std::string a, b;
  c.value()->format(r.info, a);
  c.value()->format(r.info, b);
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 36u);
  for (size_t i = 0; i < a.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      EXPECT_EQ(a[i], '-');
    } else {
      EXPECT_TRUE(std::isxdigit(static_cast<unsigned char>(a[i])) && !std::isupper(static_cast<unsigned char>(a[i])));
    }
  }
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
}

// ---- time operators (section 2) ------------------------------------------------------------------

TEST(TimeOperatorTest, StartAndEmitTime) {
  TestRequest r;
  r.info.emit_time = SystemTime(std::chrono::milliseconds(1522796770999));
  EXPECT_EQ(RenderPlain("%START_TIME% %START_TIME()% %EMIT_TIME% %START_TIME(%Y)%", r.info),
            "2018-04-03T23:06:09.123Z 2018-04-03T23:06:09.123Z 2018-04-03T23:06:10.999Z 2018");
  EXPECT_EQ(RenderJson({{"t", "%START_TIME(%s)%"}}, r.info), "{\"t\":\"1522796769\"}\n");
}

TEST(TimeOperatorTest, EmitTimeDefaultsToNow) {
  TestRequest r;
  const auto before = std::chrono::system_clock::now();
  const std::string s = RenderPlain("%EMIT_TIME(%s)%", r.info);
  const auto after = std::chrono::system_clock::now();
  const int64_t v = std::stoll(s);
  EXPECT_GE(v, std::chrono::duration_cast<std::chrono::seconds>(before.time_since_epoch()).count());
  EXPECT_LE(v, std::chrono::duration_cast<std::chrono::seconds>(after.time_since_epoch()).count());
}

TEST(TimeOperatorTest, LocalUsesTimezone) {
  ASSERT_EQ(setenv("TZ", "UTC", 1), 0);
  tzset();
  TestRequest r;
  // absl::LocalTimeZone() is "UTC" here (TZ=UTC), so the local form ends in +0000.
  EXPECT_EQ(RenderPlain("%START_TIME_LOCAL% %EMIT_TIME_LOCAL(%Y)%", r.info).substr(0, 28), "2018-04-03T23:06:09.123+0000");
}

}  // namespace
}  // namespace meshlog::format

namespace meshlog::format {
namespace {

TEST(CoalesceTest, FirstNonEmptyValue) {
  testing::TestRequest r;
  r.req.add("x-empty", "");
  EXPECT_EQ(testing::RenderPlain(R"(%COALESCE({"operators": [{"command": "REQ", "param": "x-missing"}, )"
                                 R"({"command": "REQ", "param": "x-empty"}, "PROTOCOL", "RESPONSE_CODE"]})%)",
                                 r.info),
            "HTTP/1.1");
  EXPECT_EQ(testing::RenderPlain(R"(%COALESCE({"operators": ["UPSTREAM_PROTOCOL", "RESPONSE_CODE"]})%)", r.info), "200");
  EXPECT_EQ(testing::RenderJson({{"c", R"(%COALESCE({"operators": ["UPSTREAM_PROTOCOL", "RESPONSE_CODE"]})%)"}},
                                r.info),
            "{\"c\":200}\n");
  EXPECT_EQ(testing::RenderPlain(R"(%COALESCE({"operators": ["UPSTREAM_PROTOCOL", "TRACE_ID"]})%)", r.info), "-");
  // Per-operand max_length, then the COALESCE length.
  EXPECT_EQ(testing::RenderPlain(R"(%COALESCE({"operators": [{"command": "REQ", "param": ":path", "max_length": 6}]})%)"
                                 R"(|%COALESCE({"operators": [{"command": "REQ", "param": ":path"}]}):2%)",
                                 r.info),
            "/bar/f|/b");
}

TEST(CoalesceTest, Errors) {
  using testing::PlainError;
  EXPECT_EQ(PlainError("%COALESCE%"), "COALESCE requires parameters");
  EXPECT_EQ(PlainError(R"(%COALESCE({"x": 1})%)"), "COALESCE: JSON configuration must contain 'operators' array");
  EXPECT_EQ(PlainError(R"(%COALESCE({"operators": 1})%)"), "COALESCE: 'operators' must be an array");
  EXPECT_EQ(PlainError(R"(%COALESCE({"operators": []})%)"), "COALESCE: 'operators' array must not be empty");
  EXPECT_EQ(PlainError(R"(%COALESCE({"operators": ["NOPE"]})%)"),
            "COALESCE: failed to parse operator at index 0: unknown command: 'NOPE'");
  EXPECT_EQ(PlainError(R"(%COALESCE({"operators": ["PROTOCOL", {"param": "x"}]})%)"),
            "COALESCE: failed to parse operator at index 1: operator object must have 'command' field");
  EXPECT_EQ(PlainError(R"(%COALESCE({"operators": [{"command": "REQ", "param": "a", "max_length": 0}]})%)"),
            "COALESCE: failed to parse operator at index 0: 'max_length' must be a positive integer");
  EXPECT_EQ(PlainError(R"(%COALESCE({"operators": [3]})%)"),
            "COALESCE: failed to parse operator at index 0: operator entry must be either a string (command name) or "
            "an object with 'command' field");
  EXPECT_EQ(PlainError(R"(%COALESCE({"operators": ["REQ"]})%)"), "REQ requires parameters");
  EXPECT_EQ(PlainError("%COALESCE(not json)%").rfind("COALESCE: failed to parse JSON configuration: ", 0), 0u);
}

}  // namespace
}  // namespace meshlog::format
