#include "sink/otlp_grpc_transport.h"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <future>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"

namespace meshlog::sink {
namespace {

namespace pb = opentelemetry::proto::collector::logs::v1;
using namespace std::chrono_literals;

std::string StatusDetails(int code, std::optional<std::chrono::milliseconds> retry) {
  google::rpc::Status st;
  st.set_code(code);
  st.set_message("test");
  if (retry) {
    google::rpc::RetryInfo info;
    info.mutable_retry_delay()->set_seconds(retry->count() / 1000);
    info.mutable_retry_delay()->set_nanos(static_cast<int32_t>(retry->count() % 1000) * 1000000);
    st.add_details()->PackFrom(info);
  }
  return st.SerializeAsString();
}

// Answers the n-th Export with statuses_[n] (and records every request it decoded).
class ScriptedLogsService final : public pb::LogsService::CallbackService {
 public:
  explicit ScriptedLogsService(std::vector<grpc::Status> statuses) : statuses_(std::move(statuses)) {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    b.RegisterService(this);
    server_ = b.BuildAndStart();
  }
  ~ScriptedLogsService() override { server_->Shutdown(); }
  grpc::ServerUnaryReactor* Export(grpc::CallbackServerContext* ctx, const pb::ExportLogsServiceRequest* req,
                                   pb::ExportLogsServiceResponse* resp) override {
    size_t n;
    {
      std::lock_guard<std::mutex> lock(mu_);
      n = requests_.size();
      requests_.push_back(*req);
    }
    grpc::Status st = n < statuses_.size() ? statuses_[n] : grpc::Status::OK;
    if (st.ok() && n == 0) {
      resp->mutable_partial_success()->set_rejected_log_records(3);
      resp->mutable_partial_success()->set_error_message("three bad");
    }
    auto* r = ctx->DefaultReactor();
    r->Finish(st);
    return r;
  }
  int port() const { return port_; }
  std::vector<pb::ExportLogsServiceRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  std::vector<grpc::Status> statuses_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::mutex mu_;
  std::vector<pb::ExportLogsServiceRequest> requests_;
};

ExportResult Send(OtlpGrpcTransport& t, IoThread& io, const std::string& body) {
  auto p = std::make_shared<std::promise<ExportResult>>();
  auto f = p->get_future();
  auto req = std::make_shared<const std::string>(body);
  boost::asio::post(io.context(), [&t, req, p] { t.send(req, [p](ExportResult r) { p->set_value(std::move(r)); }); });
  EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
  return f.get();
}

TEST(OtlpGrpcTransport, SendsTheBytesAndClassifiesStatusesWithRetryInfo) {
  ScriptedLogsService server({
      grpc::Status::OK,
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "busy", StatusDetails(14, 1500ms)),
      grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "full"),  // no RetryInfo: not retryable
      grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "full", StatusDetails(8, 200ms)),
      grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad"),
  });
  auto io = std::make_shared<IoThread>();
  auto t = std::make_shared<OtlpGrpcTransport>(io, "127.0.0.1:" + std::to_string(server.port()), 5s);

  pb::ExportLogsServiceRequest req;
  req.add_resource_logs()->add_scope_logs()->add_log_records()->set_time_unix_nano(42);
  const std::string bytes = req.SerializeAsString();

  ExportResult r = Send(*t, *io, bytes);
  EXPECT_EQ(r.verdict, ExportVerdict::kSuccess);
  EXPECT_EQ(r.rejected, 3);
  EXPECT_EQ(r.partial_message, "three bad");
  EXPECT_EQ(t->connectionState(), 2);

  r = Send(*t, *io, bytes);
  EXPECT_EQ(r.verdict, ExportVerdict::kRetryable);
  EXPECT_EQ(r.code, 14);
  EXPECT_EQ(r.retry_after, std::chrono::milliseconds(1500));

  r = Send(*t, *io, bytes);
  EXPECT_EQ(r.verdict, ExportVerdict::kNonRetryable);
  EXPECT_EQ(r.code, 8);

  r = Send(*t, *io, bytes);
  EXPECT_EQ(r.verdict, ExportVerdict::kRetryable);
  EXPECT_EQ(r.retry_after, std::chrono::milliseconds(200));

  r = Send(*t, *io, bytes);
  EXPECT_EQ(r.verdict, ExportVerdict::kNonRetryable);
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.error.find("bad"), std::string::npos);

  auto got = server.requests();
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].SerializeAsString(), bytes);
  t->cancelAll(1s);
}

TEST(OtlpGrpcTransport, NoServerIsUnavailableAndRetryable) {
  int port = 0;
  {
    ScriptedLogsService s({});
    port = s.port();
  }  // shut down: nothing listens there now
  auto io = std::make_shared<IoThread>();
  auto t = std::make_shared<OtlpGrpcTransport>(io, "127.0.0.1:" + std::to_string(port), 2s);
  ExportResult r = Send(*t, *io, "");
  EXPECT_EQ(r.verdict, ExportVerdict::kRetryable);
  EXPECT_EQ(r.code, 14);
}

}  // namespace
}  // namespace meshlog::sink
