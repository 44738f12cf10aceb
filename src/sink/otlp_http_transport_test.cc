#include "sink/otlp_http_transport.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sys/socket.h>

#include <future>
#include <thread>

#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"

namespace meshlog::sink {
namespace {

namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using namespace std::chrono_literals;

// One scripted answer: status, body, extra header, and whether the server closes the connection
// right after answering (without saying so: a keep-alive connection that goes stale).
struct Answer {
  http::status status;
  std::string body;
  std::string retry_after;
  bool close_after = false;
};

class ScriptedHttpServer {
 public:
  explicit ScriptedHttpServer(std::vector<Answer> answers)
      : answers_(std::move(answers)), acceptor_(io_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { run(); });
  }
  ~ScriptedHttpServer() {
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::vector<http::request<http::string_body>> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  int connections() const { return connections_.load(); }

 private:
  void run() {
    size_t next = 0;
    while (next < answers_.size()) {
      tcp::socket s(io_);
      boost::system::error_code ec;
      acceptor_.accept(s, ec);
      if (ec) return;
      connections_++;
      boost::beast::flat_buffer buf;
      while (next < answers_.size()) {
        http::request<http::string_body> req;
        http::read(s, buf, req, ec);
        if (ec) break;
        {
          std::lock_guard<std::mutex> lock(mu_);
          requests_.push_back(req);
        }
        const Answer& a = answers_[next++];
        http::response<http::string_body> res(a.status, 11);
        res.set(http::field::content_type, "application/x-protobuf");
        if (!a.retry_after.empty()) res.set(http::field::retry_after, a.retry_after);
        res.body() = a.body;
        res.keep_alive(true);
        res.prepare_payload();
        http::write(s, res, ec);
        if (ec || a.close_after) break;
      }
    }
  }
  std::vector<Answer> answers_;
  boost::asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<http::request<http::string_body>> requests_;
  std::atomic<int> connections_{0};
};

ExportResult Send(OtlpHttpTransport& t, IoThread& io, const std::string& body) {
  std::promise<ExportResult> p;
  auto req = std::make_shared<const std::string>(body);
  boost::asio::post(io.context(), [&] { t.send(req, [&](ExportResult r) { p.set_value(std::move(r)); }); });
  auto f = p.get_future();
  EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
  return f.get();
}

TEST(OtlpHttpTransport, ClassifiesAnswersReusesConnectionsAndSurvivesAStaleOne) {
  opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse partial;
  partial.mutable_partial_success()->set_rejected_log_records(2);
  partial.mutable_partial_success()->set_error_message("two bad");
  google::rpc::Status unavailable;
  unavailable.set_code(14);
  unavailable.set_message("overloaded");
  ScriptedHttpServer server({
      {http::status::ok, partial.SerializeAsString(), "", /*close_after=*/true},
      {http::status::service_unavailable, unavailable.SerializeAsString(), "2"},
      {http::status::too_many_requests, "", "Wed, 21 Oct 2015 07:28:00 GMT"},
      {http::status::bad_request, "", ""},
      {http::status::ok, "", ""},
  });
  auto io = std::make_shared<IoThread>();
  auto t = std::make_shared<OtlpHttpTransport>(io, HostPort{"127.0.0.1", server.port()}, "/base/v1/logs", 5s);

  ExportResult r1 = Send(*t, *io, "request-1");
  EXPECT_EQ(r1.verdict, ExportVerdict::kSuccess);
  EXPECT_EQ(r1.rejected, 2);
  EXPECT_EQ(r1.partial_message, "two bad");
  EXPECT_EQ(t->connectionState(), 2);

  // The server closed the kept-alive connection: tried again at once on a fresh one.
  ExportResult r2 = Send(*t, *io, "request-2");
  EXPECT_EQ(r2.verdict, ExportVerdict::kRetryable);
  EXPECT_EQ(r2.code, 503);
  EXPECT_EQ(r2.retry_after, std::chrono::milliseconds(2000));
  EXPECT_NE(r2.error.find("overloaded"), std::string::npos) << r2.error;

  ExportResult r3 = Send(*t, *io, "request-3");  // same connection
  EXPECT_EQ(r3.verdict, ExportVerdict::kRetryable);
  EXPECT_EQ(r3.code, 429);
  EXPECT_EQ(r3.retry_after, std::chrono::milliseconds(0));  // a date in the past

  ExportResult r4 = Send(*t, *io, "request-4");
  EXPECT_EQ(r4.verdict, ExportVerdict::kNonRetryable);
  EXPECT_EQ(r4.code, 400);

  ExportResult r5 = Send(*t, *io, "request-5");
  EXPECT_EQ(r5.verdict, ExportVerdict::kSuccess);
  EXPECT_EQ(r5.rejected, 0);

  EXPECT_EQ(server.connections(), 2);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 5u);
  EXPECT_EQ(reqs[0].method(), http::verb::post);
  EXPECT_EQ(reqs[0].target(), "/base/v1/logs");
  EXPECT_EQ(reqs[0][http::field::content_type], "application/x-protobuf");
  EXPECT_EQ(reqs[0].body(), "request-1");
  EXPECT_EQ(reqs[1].body(), "request-2");
  t->cancelAll(1s);
}

TEST(OtlpHttpTransport, NoListenerIsRetryableTransportError) {
  boost::asio::io_context io_probe;
  tcp::acceptor a(io_probe, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = a.local_endpoint().port();
  a.close();
  auto io = std::make_shared<IoThread>();
  auto t = std::make_shared<OtlpHttpTransport>(io, HostPort{"127.0.0.1", port}, "/v1/logs", 2s);
  ExportResult r = Send(*t, *io, "x");
  EXPECT_EQ(r.verdict, ExportVerdict::kRetryable);
  EXPECT_EQ(r.code, -1);
  EXPECT_NE(r.error.find("connect"), std::string::npos) << r.error;
  EXPECT_EQ(t->connectionState(), 0);
}

}  // namespace
}  // namespace meshlog::sink
