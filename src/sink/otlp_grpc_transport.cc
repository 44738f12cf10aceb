#include "sink/otlp_grpc_transport.h"

#include <boost/asio/post.hpp>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"

namespace meshlog::sink {

namespace {
constexpr char kExportMethod[] = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
}

struct OtlpGrpcTransport::Call {
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
};

OtlpGrpcTransport::OtlpGrpcTransport(IoThreadPtr io, std::string target, std::chrono::milliseconds timeout)
    : io_(std::move(io)),
      timeout_(timeout),
      channel_([&] {
        grpc::ChannelArguments args;
        args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
        args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
        args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
        args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
        args.SetUserAgentPrefix("meshlog");
        return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
      }()),
      stub_(channel_) {}

void OtlpGrpcTransport::send(std::shared_ptr<const std::string> request, Done done) {
  auto call_ptr = std::make_shared<Call>();
  Call* call = call_ptr.get();
  call->context.set_deadline(std::chrono::system_clock::now() + timeout_);
  grpc::Slice slice(*request);
  call->request = grpc::ByteBuffer(&slice, 1);
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_.emplace(call, call_ptr);
  }
  stub_.UnaryCall(&call->context, kExportMethod, grpc::StubOptions(), &call->request, &call->response,
                  [self = shared_from_this(), call_ptr, call, done = std::move(done)](grpc::Status status) mutable {
                    ExportResult r;
                    r.code = status.error_code();
                    if (status.ok()) {
                      r.verdict = ExportVerdict::kSuccess;
                      grpc::Slice body;
                      opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse resp;
                      if (call->response.TrySingleSlice(&body).ok() ||
                          call->response.DumpToSingleSlice(&body).ok()) {
                        if (resp.ParseFromArray(body.begin(), static_cast<int>(body.size()))) {
                          r.rejected = resp.partial_success().rejected_log_records();
                          r.partial_message = resp.partial_success().error_message();
                        }
                      }
                    } else {
                      r.retry_after = RetryDelayFromStatusDetails(status.error_details());
                      r.verdict = ClassifyGrpc(status.error_code(), r.retry_after.has_value());
                      r.error = "grpc status " + std::to_string(status.error_code()) + ": " + status.error_message();
                    }
                    {
                      std::lock_guard<std::mutex> lock(self->mu_);
                      self->active_.erase(call);
                    }
                    self->cv_.notify_all();
                    // The last references to the call (its ClientContext) and to this transport
                    // (its channel) are dropped on the IoThread, never on a gRPC thread: tearing
                    // a channel down from inside one of its own callbacks is not safe.
                    auto* io = &self->io_->context();
                    boost::asio::post(*io, [done = std::move(done), r = std::move(r), self = std::move(self),
                                            call_ptr = std::move(call_ptr)]() mutable { done(std::move(r)); });
                  });
}

void OtlpGrpcTransport::cancelAll(std::chrono::milliseconds wait) {
  std::vector<std::shared_ptr<Call>> calls;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [raw, c] : active_) calls.push_back(c);
  }
  for (auto& c : calls) c->context.TryCancel();  // outside the lock: may complete inline
  calls.clear();
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, wait, [this] { return active_.empty(); });
}

int OtlpGrpcTransport::connectionState() const {
  switch (channel_->GetState(false)) {
    case GRPC_CHANNEL_READY:
      return 2;
    case GRPC_CHANNEL_CONNECTING:
      return 1;
    default:
      return 0;
  }
}

}  // namespace meshlog::sink
