#include "sink/otlp_http_transport.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <future>

#include "google/rpc/status.pb.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"

namespace meshlog::sink {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct OtlpHttpTransport::Conn {
  explicit Conn(asio::io_context& io) : stream(io), resolver(io) {}
  beast::tcp_stream stream;
  tcp::resolver resolver;
  beast::flat_buffer buffer;
  bool connected = false;
};

struct OtlpHttpTransport::Exchange {
  std::unique_ptr<Conn> conn;
  std::shared_ptr<const std::string> body;
  Done done;
  http::request<http::string_body> req;
  std::optional<http::response_parser<http::string_body>> parser;
  bool reused = false;
  bool retried_fresh = false;
  bool finished = false;
};

OtlpHttpTransport::OtlpHttpTransport(IoThreadPtr io, HostPort host_port, std::string path,
                                     std::chrono::milliseconds timeout)
    : io_(std::move(io)),
      host_port_(std::move(host_port)),
      path_(std::move(path)),
      host_header_(host_port_.toString()),
      timeout_(timeout) {}

OtlpHttpTransport::~OtlpHttpTransport() = default;

void OtlpHttpTransport::send(std::shared_ptr<const std::string> request, Done done) {
  auto ex = std::make_shared<Exchange>();
  ex->body = std::move(request);
  ex->done = std::move(done);
  if (!idle_.empty()) {
    ex->conn = std::move(idle_.back());
    idle_.pop_back();
    ex->reused = true;
  } else {
    ex->conn = std::make_unique<Conn>(io_->context());
  }
  ex->req = http::request<http::string_body>(http::verb::post, path_, 11);
  ex->req.set(http::field::host, host_header_);
  ex->req.set(http::field::user_agent, "meshlog-otlp/0.1");
  ex->req.set(http::field::content_type, "application/x-protobuf");
  ex->req.keep_alive(true);
  ex->req.body() = *ex->body;
  ex->req.prepare_payload();
  active_.erase(std::remove_if(active_.begin(), active_.end(), [](auto& w) { return w.expired(); }), active_.end());
  active_.push_back(ex);
  start(std::move(ex));
}

void OtlpHttpTransport::start(std::shared_ptr<Exchange> ex) {
  if (ex->conn->connected) {
    write(std::move(ex));
  } else {
    connect(std::move(ex));
  }
}

void OtlpHttpTransport::connect(std::shared_ptr<Exchange> ex) {
  if (state_.load() == 0) state_ = 1;
  Conn& c = *ex->conn;
  c.resolver.async_resolve(
      host_port_.host, std::to_string(host_port_.port),
      [self = shared_from_this(), ex](const boost::system::error_code& ec, tcp::resolver::results_type results) {
        if (ex->finished) return;
        if (ec) return self->fail(ex, "resolve " + self->host_port_.host + ": " + ec.message(), ec.value());
        ex->conn->stream.expires_after(self->timeout_);
        ex->conn->stream.async_connect(results, [self, ex](const boost::system::error_code& ec2, const tcp::endpoint&) {
          if (ex->finished) return;
          if (ec2) return self->fail(ex, "connect " + self->host_header_ + ": " + ec2.message(), ec2.value());
          ex->conn->connected = true;
          ex->conn->stream.socket().set_option(tcp::no_delay(true));
          self->write(ex);
        });
      });
}

void OtlpHttpTransport::write(std::shared_ptr<Exchange> ex) {
  ex->conn->stream.expires_after(timeout_);
  http::async_write(ex->conn->stream, ex->req, [self = shared_from_this(), ex](const boost::system::error_code& ec, size_t) {
    if (ex->finished) return;
    if (ec) return self->fail(ex, "write " + self->host_header_ + ": " + ec.message(), ec.value());
    ex->parser.emplace();
    ex->parser->body_limit(4u << 20);  // OTLP: clients should cap response parsing at 4 MiB
    ex->conn->buffer.clear();
    http::async_read(ex->conn->stream, ex->conn->buffer, *ex->parser,
                     [self, ex](const boost::system::error_code& ec2, size_t) {
                       if (ex->finished) return;
                       if (ec2) return self->fail(ex, "read " + self->host_header_ + ": " + ec2.message(), ec2.value());
                       auto& res = ex->parser->get();
                       self->state_ = 2;
                       ExportResult r;
                       r.code = static_cast<int>(res.result_int());
                       r.verdict = ClassifyHttp(r.code);
                       if (r.verdict == ExportVerdict::kSuccess) {
                         opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse resp;
                         if (resp.ParseFromString(res.body())) {
                           r.rejected = resp.partial_success().rejected_log_records();
                           r.partial_message = resp.partial_success().error_message();
                         }
                       } else {
                         if (auto it = res.find(http::field::retry_after); it != res.end()) {
                           r.retry_after = ParseRetryAfter(std::string_view(it->value().data(), it->value().size()),
                                                           std::chrono::system_clock::now());
                         }
                         google::rpc::Status st;
                         std::string msg;
                         if (st.ParseFromString(res.body())) msg = st.message();
                         r.error = "http status " + std::to_string(r.code) + (msg.empty() ? "" : ": " + msg);
                       }
                       self->finish(ex, std::move(r), res.keep_alive() && !res.need_eof());
                     });
  });
}

void OtlpHttpTransport::fail(std::shared_ptr<Exchange> ex, const std::string& what, int ec_value) {
  beast::error_code ignored;
  ex->conn->stream.socket().close(ignored);
  ex->conn->connected = false;
  if (ex->reused && !ex->retried_fresh) {
    // The keep-alive connection had gone stale: try once on a fresh one before reporting.
    ex->retried_fresh = true;
    ex->reused = false;
    ex->conn = std::make_unique<Conn>(io_->context());
    connect(std::move(ex));
    return;
  }
  state_ = 0;
  ExportResult r;
  r.verdict = ExportVerdict::kRetryable;  // no response: retry with backoff (OTLP/HTTP)
  r.code = -1;
  r.error = what;
  (void)ec_value;
  finish(std::move(ex), std::move(r), false);
}

void OtlpHttpTransport::finish(std::shared_ptr<Exchange> ex, ExportResult r, bool keep_conn) {
  if (ex->finished) return;
  ex->finished = true;
  if (keep_conn) {
    idle_.push_back(std::move(ex->conn));
  } else if (ex->conn) {
    beast::error_code ignored;
    ex->conn->stream.socket().close(ignored);
  }
  auto done = std::move(ex->done);
  done(std::move(r));
}

void OtlpHttpTransport::cancelAll(std::chrono::milliseconds wait) {
  auto closed = std::make_shared<std::promise<void>>();
  auto future = closed->get_future();
  asio::post(io_->context(), [self = shared_from_this(), closed] {
    for (auto& w : self->active_) {
      if (auto ex = w.lock(); ex && !ex->finished) {
        ExportResult r;
        r.verdict = ExportVerdict::kRetryable;
        r.code = -1;
        r.error = "cancelled";
        beast::error_code ignored;
        ex->conn->stream.socket().close(ignored);
        self->finish(ex, std::move(r), false);
      }
    }
    self->active_.clear();
    self->idle_.clear();
    closed->set_value();
  });
  future.wait_for(wait);
}

}  // namespace meshlog::sink
