#include "sink/otlp_sink.h"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <thread>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"

namespace meshlog::sink {
namespace {

using namespace std::chrono_literals;
using Request = opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest;

// A scripted transport: decodes every request with the generated classes and answers with what
// `answer(n)` returns for the n-th call (std::nullopt = never answer until cancelAll()).
class ScriptedTransport : public OtlpTransport {
 public:
  using Answer = std::function<std::optional<ExportResult>(int call)>;
  ScriptedTransport(IoThreadPtr io, Answer answer) : io_(std::move(io)), answer_(std::move(answer)) {}

  void send(std::shared_ptr<const std::string> request, Done done) override {
    std::lock_guard<std::mutex> lock(mu_);
    Request req;
    EXPECT_TRUE(req.ParseFromString(*request));
    requests_.push_back(req);
    times_.push_back(std::chrono::steady_clock::now());
    in_flight_++;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    auto a = answer_(static_cast<int>(requests_.size()) - 1);
    if (!a) {
      held_.push_back(std::move(done));
      return;
    }
    boost::asio::post(io_->context(), [this, done = std::move(done), r = *a]() mutable {
      {
        std::lock_guard<std::mutex> lock(mu_);
        in_flight_--;
      }
      done(r);
    });
  }
  void cancelAll(std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> lock(mu_);
    held_.clear();
  }
  int connectionState() const override { return 2; }

  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::vector<std::chrono::steady_clock::time_point> times() {
    std::lock_guard<std::mutex> lock(mu_);
    return times_;
  }
  int maxInFlight() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_in_flight_;
  }
  // Answers every held call with `r`.
  void release(ExportResult r) {
    std::vector<Done> held;
    {
      std::lock_guard<std::mutex> lock(mu_);
      held.swap(held_);
      in_flight_ -= static_cast<int>(held.size());
    }
    for (auto& d : held) boost::asio::post(io_->context(), [d, r] { d(r); });
  }

 private:
  IoThreadPtr io_;
  Answer answer_;
  std::mutex mu_;
  std::vector<Request> requests_;
  std::vector<std::chrono::steady_clock::time_point> times_;
  std::vector<Done> held_;
  int in_flight_ = 0, max_in_flight_ = 0;
};

ExportResult Ok(int64_t rejected = 0, std::string msg = "") {
  ExportResult r;
  r.verdict = ExportVerdict::kSuccess;
  r.rejected = rejected;
  r.partial_message = std::move(msg);
  return r;
}
ExportResult Fail(ExportVerdict v, int code, std::optional<std::chrono::milliseconds> after = {}) {
  ExportResult r;
  r.verdict = v;
  r.code = code;
  r.retry_after = after;
  r.error = "code " + std::to_string(code);
  return r;
}

format::OtelRecord Rec(int i) {
  format::OtelRecord r;
  r.time_unix_nano = static_cast<uint64_t>(i) + 1;
  r.body = format::OtelValue::String("record-" + std::to_string(i) + std::string(150, 'b'));
  r.attributes = {{"i", std::to_string(i)}};
  return r;
}

std::vector<int> Ids(const std::vector<Request>& reqs) {
  std::vector<int> ids;
  for (const auto& q : reqs) {
    EXPECT_EQ(q.resource_logs_size(), 1);
    EXPECT_EQ(q.resource_logs(0).scope_logs_size(), 1);
    for (const auto& lr : q.resource_logs(0).scope_logs(0).log_records()) ids.push_back(std::stoi(lr.attributes(0).value().string_value()));
  }
  return ids;
}

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = 10s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

OtlpSinkConfig Config() {
  OtlpSinkConfig c;
  c.endpoint = "unused:1";
  c.resource.kuma_mesh = "default";
  c.retry = BackoffConfig{.initial = 10ms, .max = 100ms};
  return c;
}

TEST(OtlpSink, BatchesBySizeAndKeepsEveryRecordOnceInOrder) {
  auto io = std::make_shared<IoThread>();
  auto t = std::make_shared<ScriptedTransport>(io, [](int) { return Ok(); });
  auto cfg = Config();
  cfg.batch_max_bytes = 2048;
  cfg.batch_max_delay = 10s;  // only size (and shutdown) may flush
  auto sink = OtlpSink::Create(io, cfg, t, "test");
  constexpr int kN = 1000;
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(sink->push(Rec(i)));
  ASSERT_TRUE(WaitFor([&] { return sink->stats().records_sent.value() >= kN - 20; }));
  sink->shutdown(5s);
  auto reqs = t->requests();
  auto ids = Ids(reqs);
  ASSERT_EQ(ids.size(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; ++i) EXPECT_EQ(ids[i], i);
  for (size_t i = 0; i + 1 < reqs.size(); ++i) {
    EXPECT_GE(reqs[i].ByteSizeLong(), 2048u - 300);  // full batches...
    EXPECT_LT(reqs[i].ByteSizeLong(), 2048u + 300);  // ...overshooting by at most one record
  }
  EXPECT_EQ(sink->stats().records_sent.value(), static_cast<uint64_t>(kN));
  EXPECT_EQ(sink->stats().dropped_shutdown.value(), 0u);
  EXPECT_EQ(reqs[0].resource_logs(0).resource().attributes(0).value().string_value(), "MeshAccessLog");
}

TEST(OtlpSink, FlushesAPartialBatchAfterTheDelay) {
  auto io = std::make_shared<IoThread>();
  auto t = std::make_shared<ScriptedTransport>(io, [](int) { return Ok(); });
  auto cfg = Config();
  cfg.batch_max_delay = 200ms;
  auto sink = OtlpSink::Create(io, cfg, t, "test");
  const auto start = std::chrono::steady_clock::now();
  sink->push(Rec(1));
  ASSERT_TRUE(WaitFor([&] { return t->requests().size() == 1; }));
  EXPECT_GE(t->times()[0] - start, 190ms);
  EXPECT_LT(t->times()[0] - start, 2s);
  sink->shutdown(1s);
}

TEST(OtlpSink, RetriesRetryableFailuresHonouringServerDelay) {
  auto io = std::make_shared<IoThread>();
  // UNAVAILABLE with RetryInfo 300 ms, then 503-style retryable without delay, then success.
  auto t = std::make_shared<ScriptedTransport>(io, [](int call) -> std::optional<ExportResult> {
    if (call == 0) return Fail(ExportVerdict::kRetryable, 14, 300ms);
    if (call == 1) return Fail(ExportVerdict::kRetryable, 503);
    return Ok();
  });
  auto cfg = Config();
  cfg.batch_max_delay = 0ms;
  auto sink = OtlpSink::Create(io, cfg, t, "test");
  sink->push(Rec(7));
  ASSERT_TRUE(WaitFor([&] { return sink->stats().records_sent.value() == 1; }));
  auto times = t->times();
  ASSERT_EQ(times.size(), 3u);
  EXPECT_GE(times[1] - times[0], 295ms);   // server delay honoured
  EXPECT_LT(times[2] - times[1], 300ms);   // then plain backoff (10-15 ms scale)
  EXPECT_EQ(Ids(t->requests()), (std::vector<int>{7, 7, 7}));
  EXPECT_EQ(sink->stats().requests_retried.value(), 2u);
  EXPECT_EQ(sink->stats().records_retried.value(), 2u);
  EXPECT_EQ(sink->stats().requests_failed.value(), 2u);
  EXPECT_EQ(sink->stats().last_error.value(), 503);
  sink->shutdown(1s);
}

TEST(OtlpSink, NonRetryableIsDroppedAndPartialSuccessCountedAsRejected) {
  auto io = std::make_shared<IoThread>();
  auto t = std::make_shared<ScriptedTransport>(io, [](int call) -> std::optional<ExportResult> {
    if (call == 0) return Fail(ExportVerdict::kNonRetryable, 3);
    if (call == 1) return Ok(/*rejected=*/1, "one bad");
    return Ok(0, "warning only");
  });
  auto cfg = Config();
  cfg.batch_max_delay = 0ms;
  cfg.max_in_flight = 1;
  auto sink = OtlpSink::Create(io, cfg, t, "test");
  sink->push(Rec(1));
  ASSERT_TRUE(WaitFor([&] { return sink->stats().dropped_non_retryable.value() == 1; }));
  sink->push(Rec(2));
  sink->push(Rec(3));
  ASSERT_TRUE(WaitFor([&] { return t->requests().size() >= 2; }));
  sink->push(Rec(4));
  sink->shutdown(2s);
  const auto reqs = t->requests();
  EXPECT_EQ(Ids(reqs), (std::vector<int>{1, 2, 3, 4}));  // nothing retried (2 and 3 may share a batch)
  EXPECT_EQ(sink->stats().records_rejected.value(), 1u);
  EXPECT_EQ(sink->stats().partial_success_warnings.value(), reqs.size() - 2);
  EXPECT_EQ(sink->stats().records_sent.value() + sink->stats().records_rejected.value(), 3u);
  EXPECT_EQ(sink->stats().dropped_non_retryable.value(), 1u);
  EXPECT_NE(sink->lastError().find("one bad"), std::string::npos);
}

TEST(OtlpSink, LimitsRequestsInFlightAndShutdownCountsWhatWasNotAcknowledged) {
  auto io = std::make_shared<IoThread>();
  auto t = std::make_shared<ScriptedTransport>(io, [](int) { return std::nullopt; });  // never answers
  auto cfg = Config();
  cfg.batch_max_bytes = 1024;
  cfg.max_in_flight = 3;
  cfg.queue_max_records = 50;
  auto sink = OtlpSink::Create(io, cfg, t, "test");
  int accepted = 0;
  for (int i = 0; i < 200; ++i) {
    accepted += sink->push(Rec(i)) ? 1 : 0;
    std::this_thread::sleep_for(100us);
  }
  ASSERT_TRUE(WaitFor([&] { return t->requests().size() == 3; }));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(t->maxInFlight(), 3);
  EXPECT_EQ(t->requests().size(), 3u);
  EXPECT_EQ(sink->stats().dropped_queue_full.value(), static_cast<uint64_t>(200 - accepted));
  EXPECT_GT(sink->stats().dropped_queue_full.value(), 0u);
  const auto start = std::chrono::steady_clock::now();
  sink->shutdown(200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(sink->stats().dropped_shutdown.value(), static_cast<uint64_t>(accepted));
  EXPECT_EQ(sink->stats().records_sent.value(), 0u);
  t->release(Ok());  // late answers are ignored: nothing counted twice
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(sink->stats().records_sent.value(), 0u);
}

TEST(OtlpSink, GivesUpAfterMaxElapsed) {
  auto io = std::make_shared<IoThread>();
  auto t = std::make_shared<ScriptedTransport>(io, [](int) { return Fail(ExportVerdict::kRetryable, 14); });
  auto cfg = Config();
  cfg.batch_max_delay = 0ms;
  cfg.retry = BackoffConfig{.initial = 10ms, .max = 20ms, .max_elapsed = 100ms};
  auto sink = OtlpSink::Create(io, cfg, t, "test");
  sink->push(Rec(1));
  ASSERT_TRUE(WaitFor([&] { return sink->stats().dropped_retry_exhausted.value() == 1; }));
  EXPECT_GE(t->requests().size(), 4u);
  sink->shutdown(1s);
  EXPECT_EQ(sink->stats().dropped_shutdown.value(), 0u);
}

TEST(OtlpSink, HttpPathAndEndpointValidation) {
  auto io = std::make_shared<IoThread>();
  OtlpSinkConfig bad;
  bad.endpoint = "host:99999";
  EXPECT_THROW(OtlpSink::Create(io, bad), std::invalid_argument);
  OtlpSinkConfig http;
  http.protocol = OtlpProtocol::kHttp;
  http.endpoint = "collector";
  auto s = OtlpSink::Create(io, http);  // no path: the OTLP default
  EXPECT_EQ(s->destination(), "collector:4317/v1/logs");
  s->shutdown(0ms);
  http.path = "/base/v1/logs";
  s = OtlpSink::Create(io, http);
  EXPECT_EQ(s->destination(), "collector:4317/base/v1/logs");
  s->shutdown(0ms);
}

}  // namespace
}  // namespace meshlog::sink
