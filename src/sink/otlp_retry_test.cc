#include "sink/otlp_retry.h"

#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace meshlog::sink {
namespace {

using std::chrono::milliseconds;

TEST(OtlpRetry, GrpcCodesFollowTheSpec) {
  EXPECT_EQ(ClassifyGrpc(0, false), ExportVerdict::kSuccess);
  for (int code : {1, 4, 10, 11, 14, 15}) {
    EXPECT_EQ(ClassifyGrpc(code, false), ExportVerdict::kRetryable) << code;
  }
  // UNKNOWN, INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, FAILED_PRECONDITION,
  // UNIMPLEMENTED, INTERNAL, UNAUTHENTICATED.
  for (int code : {2, 3, 5, 6, 7, 9, 12, 13, 16}) {
    EXPECT_EQ(ClassifyGrpc(code, false), ExportVerdict::kNonRetryable) << code;
    EXPECT_EQ(ClassifyGrpc(code, true), ExportVerdict::kNonRetryable) << code;
  }
  EXPECT_EQ(ClassifyGrpc(8, false), ExportVerdict::kNonRetryable);  // RESOURCE_EXHAUSTED
  EXPECT_EQ(ClassifyGrpc(8, true), ExportVerdict::kRetryable);
}

TEST(OtlpRetry, HttpStatusesFollowTheSpec) {
  EXPECT_EQ(ClassifyHttp(200), ExportVerdict::kSuccess);
  for (int s : {429, 502, 503, 504}) EXPECT_EQ(ClassifyHttp(s), ExportVerdict::kRetryable) << s;
  for (int s : {400, 401, 403, 404, 405, 408, 413, 415, 500, 501, 505}) {
    EXPECT_EQ(ClassifyHttp(s), ExportVerdict::kNonRetryable) << s;
  }
}

TEST(OtlpRetry, RetryInfoIsReadFromStatusDetails) {
  google::rpc::Status st;
  st.set_code(14);
  google::rpc::RetryInfo info;
  info.mutable_retry_delay()->set_seconds(2);
  info.mutable_retry_delay()->set_nanos(500000000);
  auto* other = st.add_details();
  other->set_type_url("type.googleapis.com/google.rpc.DebugInfo");
  other->set_value("x");
  st.add_details()->PackFrom(info);
  EXPECT_EQ(RetryDelayFromStatusDetails(st.SerializeAsString()), milliseconds(2500));
  google::rpc::Status none;
  none.set_code(14);
  EXPECT_EQ(RetryDelayFromStatusDetails(none.SerializeAsString()), std::nullopt);
  EXPECT_EQ(RetryDelayFromStatusDetails(""), std::nullopt);
  EXPECT_EQ(RetryDelayFromStatusDetails("\xff\xff garbage"), std::nullopt);
}

TEST(OtlpRetry, RetryAfterSecondsAndHttpDate) {
  const auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
  EXPECT_EQ(ParseRetryAfter("3", now), milliseconds(3000));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", now), milliseconds(10000));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now), milliseconds(0));
  EXPECT_EQ(ParseRetryAfter("soon", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("", now), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-1", now), std::nullopt);
}

}  // namespace
}  // namespace meshlog::sink
