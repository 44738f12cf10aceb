// In-process integration tests of the data plane: a real Server, the real demo app as upstream,
// real clients (raw sockets and curl) on loopback.
#include "proxy/server.h"

#include <utility>  // before asio (std::exchange)

#include <boost/asio.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "proxy/demo_app.h"
#include "proxy/internal.h"
#include "proxy/test_util.h"
#include "sink/access_log_impl.h"
#include "sink/file_sink.h"

namespace meshlog::proxy {
namespace {

using namespace std::chrono_literals;
using format::TimePoint;
using testing::ClosedPort;
using testing::Client;
using testing::Exchange;
using testing::Record;
using testing::RecordingLog;

class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    app_ = std::make_unique<DemoApp>(DemoApp::Options{.http_address = "127.0.0.1:0", .tcp_address = "127.0.0.1:0"});
    ASSERT_EQ(app_->Start(), "");
    log_ = std::make_shared<RecordingLog>();
  }
  void TearDown() override {
    if (server_) server_->Stop();
    app_->Stop();
  }

  ListenerConfig Http(std::vector<std::string> endpoints = {}) {
    ListenerConfig l;
    l.name = "inbound:test";
    l.bind_address = "127.0.0.1:0";
    l.direction = Direction::kInbound;
    l.protocol = ListenerProtocol::kHttp;
    l.cluster_name = "localhost:app";
    if (endpoints.empty()) endpoints.push_back(AppAddress());
    for (auto& e : endpoints) l.endpoints.push_back({.address = e, .host_name = ""});
    l.access_logs = {log_};
    return l;
  }
  ListenerConfig Tcp(std::vector<std::string> endpoints = {}) {
    ListenerConfig l = Http(endpoints.empty() ? std::vector<std::string>{TcpAddress()} : endpoints);
    l.name = "outbound:tcp";
    l.direction = Direction::kOutbound;
    l.protocol = ListenerProtocol::kTcp;
    return l;
  }
  std::string AppAddress() const { return "127.0.0.1:" + std::to_string(app_->http_port()); }
  std::string TcpAddress() const { return "127.0.0.1:" + std::to_string(app_->tcp_port()); }

  uint16_t StartProxy(const ListenerConfig& l, unsigned workers = 1) {
    server_ = std::make_unique<Server>(Server::Options{.workers = workers, .peer_close_epoll = peer_close_epoll_});
    EXPECT_EQ(server_->Apply({l}), "");
    server_->Start();
    return server_->Port(l.name);
  }

  std::unique_ptr<DemoApp> app_;
  std::shared_ptr<RecordingLog> log_;
  std::unique_ptr<Server> server_;
  bool peer_close_epoll_ = true;
};

// The tests of the client-close watch (a request waiting for the upstream notices a client that
// leaves) run twice: through the worker's epoll set (true) and through the fallback 1-byte read.
class CloseWatchTest : public ProxyTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    ProxyTest::SetUp();
    peer_close_epoll_ = GetParam();
  }
};
INSTANTIATE_TEST_SUITE_P(Watch, CloseWatchTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "epoll" : "read"; });

std::string Get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: test.local\r\n" + std::string(extra) + "\r\n";
}

TEST_F(ProxyTest, CurlGetIsProxiedAndFullyLogged) {
  const uint16_t port = StartProxy(Http());
  const std::string out = testing::Run("curl -s -i -A meshlog-test http://127.0.0.1:" + std::to_string(port) + "/hello");
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
  EXPECT_NE(out.find("x-envoy-upstream-service-time: "), std::string::npos) << out;
  EXPECT_NE(out.find("demo-app GET /hello body=0 request-id="), std::string::npos) << out;
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  const Record& r = recs[0];
  EXPECT_EQ(r.code, 200u);
  EXPECT_EQ(r.flags, "-");
  EXPECT_EQ(r.details, "via_upstream");
  EXPECT_EQ(r.protocol, format::Protocol::kHttp11);
  EXPECT_EQ(r.type, format::AccessLogType::DownstreamEnd);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/hello");
  EXPECT_EQ(r.authority, "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(r.user_agent, "meshlog-test");
  ASSERT_TRUE(r.request_id.has_value());
  EXPECT_EQ(r.request_id->size(), 36u);
  EXPECT_EQ(r.stream_id, *r.request_id);
  // The generated x-request-id went upstream.
  EXPECT_NE(out.find("request-id=" + *r.request_id), std::string::npos) << out;
  EXPECT_TRUE(r.service_time.has_value());
  EXPECT_EQ(r.status_header, "200");
  EXPECT_EQ(r.upstream_host, AppAddress());
  EXPECT_EQ(r.cluster, "localhost:app");
  EXPECT_EQ(r.downstream_local, "127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(r.downstream_remote.rfind("127.0.0.1:", 0), 0u);
  EXPECT_GT(r.connection_id, 0u);
  EXPECT_GT(r.upstream_connection_id, 0u);
  EXPECT_NE(r.connection_id, r.upstream_connection_id);
  EXPECT_EQ(r.bytes_received, 0u);
  const auto body_pos = out.find("\r\n\r\n");
  EXPECT_EQ(r.bytes_sent, out.size() - body_pos - 4);
  EXPECT_GT(r.ds_wire_received, 0u);
  EXPECT_GT(r.ds_wire_sent, r.bytes_sent);
  EXPECT_GT(r.us_wire_sent, 0u);
  EXPECT_GT(r.us_wire_received, r.bytes_sent);
  EXPECT_EQ(r.attempts, 1u);
  for (auto p : {TimePoint::kDsRxBeg, TimePoint::kDsRxEnd, TimePoint::kUsCxBeg, TimePoint::kUsCxEnd,
                 TimePoint::kUsTxBeg, TimePoint::kUsTxEnd, TimePoint::kUsRxBeg, TimePoint::kUsRxBodyBeg,
                 TimePoint::kUsRxEnd, TimePoint::kDsTxBeg, TimePoint::kDsTxEnd}) {
    EXPECT_TRUE(r.has(p)) << static_cast<int>(p);
  }
  EXPECT_FALSE(r.has(TimePoint::kUsHsEnd));  // no TLS
  const auto t = [&](TimePoint p) { return *r.timings[static_cast<size_t>(p)]; };
  EXPECT_LE(t(TimePoint::kDsRxEnd), t(TimePoint::kUsTxBeg));
  EXPECT_LE(t(TimePoint::kUsCxEnd), t(TimePoint::kUsTxBeg));
  EXPECT_LE(t(TimePoint::kUsTxEnd), t(TimePoint::kUsRxBeg));
  EXPECT_LE(t(TimePoint::kUsRxBeg), t(TimePoint::kDsTxBeg));
  EXPECT_LE(t(TimePoint::kDsTxBeg), t(TimePoint::kDsTxEnd));
  ASSERT_TRUE(r.duration.has_value());
  EXPECT_GE(*r.duration, t(TimePoint::kDsTxEnd));
}

TEST_F(ProxyTest, KeepAlivePipeliningAndUpstreamPool) {
  const uint16_t port = StartProxy(Http());
  Client c(port);
  ASSERT_TRUE(c.ok());
  c.Send(Get("/one") + Get("/two") + Get("/three", "x-request-id: given-id\r\n"));
  const std::string r1 = c.ReadResponse();
  const std::string r2 = c.ReadResponse();
  const std::string r3 = c.ReadResponse();
  EXPECT_NE(r1.find("GET /one "), std::string::npos) << r1;
  EXPECT_NE(r2.find("GET /two "), std::string::npos) << r2;
  EXPECT_NE(r3.find("GET /three body=0 request-id=given-id"), std::string::npos) << r3;
  auto recs = log_->WaitFor(3);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].path, "/one");
  EXPECT_EQ(recs[2].request_id, "given-id");
  EXPECT_EQ(recs[2].stream_id, "given-id");
  EXPECT_EQ(recs[0].connection_id, recs[2].connection_id);
  // One upstream connection carried all three (pooled between requests).
  EXPECT_EQ(recs[0].upstream_connection_id, recs[1].upstream_connection_id);
  EXPECT_EQ(recs[1].upstream_connection_id, recs[2].upstream_connection_id);
  EXPECT_TRUE(recs[0].has(TimePoint::kUsCxBeg));
  EXPECT_FALSE(recs[1].has(TimePoint::kUsCxBeg));  // reused: no connect in this request
}

TEST_P(CloseWatchTest, RequestPipelinedWhileTheResponseIsPendingIsServedAfterIt) {
  // The second request arrives while the proxy waits for the first response (the read-based close
  // watch takes its first byte; the epoll one leaves it in the socket): it must be parsed intact
  // after the first response.
  const uint16_t port = StartProxy(Http());
  Client c(port);
  ASSERT_TRUE(c.ok());
  c.Send(Get("/delay/300"));
  std::this_thread::sleep_for(100ms);
  c.Send(Get("/after", "x-request-id: second\r\n"));
  const std::string r1 = c.ReadResponse();
  const std::string r2 = c.ReadResponse();
  EXPECT_NE(r1.find("delayed"), std::string::npos) << r1;
  EXPECT_NE(r2.find("GET /after body=0 request-id=second"), std::string::npos) << r2;
  auto recs = log_->WaitFor(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].code, 200u);
  EXPECT_EQ(recs[0].flags, "-");
  EXPECT_EQ(recs[1].path, "/after");
  EXPECT_EQ(recs[1].code, 200u);
  // Every byte the client sent is counted once, including the one the close watch read.
  std::map<std::string, double> stats;
  server_->VisitListenerStats([&](std::string_view, std::string_view name, StatKind, double v) {
    stats[std::string(name)] = v;
  });
  EXPECT_EQ(stats["downstream_bytes_received"],
            static_cast<double>(Get("/delay/300").size() + Get("/after", "x-request-id: second\r\n").size()));
}

TEST_F(ProxyTest, ConnectionIdleLongEnoughToParkStillServesItsNextRequest) {
  const uint16_t port = StartProxy(Http());
  Client c(port);
  ASSERT_TRUE(c.ok());
  c.Send(Get("/one"));
  EXPECT_NE(c.ReadResponse().find("GET /one "), std::string::npos);
  // Past kIdleParkAfter + kSweepInterval: the idle read is cancelled and the buffers go back to
  // the worker's pool; the next request must not notice.
  std::this_thread::sleep_for(kIdleParkAfter + 2 * kSweepInterval + 100ms);
  c.Send(Get("/two"));
  EXPECT_NE(c.ReadResponse().find("GET /two "), std::string::npos);
  std::this_thread::sleep_for(kIdleParkAfter + 2 * kSweepInterval + 100ms);
  c.Close();  // a parked connection closed by the client: no record, no crash
  auto recs = log_->WaitFor(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].path, "/two");
  EXPECT_EQ(recs[0].connection_id, recs[1].connection_id);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(log_->WaitFor(3, 100ms).size(), 2u);
}

// A hand-scripted upstream on 127.0.0.1 (ephemeral port) serving `connections` connections one
// after another on its own thread: on each it reads once (the request) and then runs
// `script(i, socket)` for the i-th connection. Join() waits for the thread.
//
//   ScriptedUpstream up(1, [](int, Socket& s) { s.close(); });  // closes without answering
//   StartProxy(Http({up.Address()}));
class ScriptedUpstream {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  ScriptedUpstream(int connections, std::function<void(int, Socket&)> script)
      : thread_([this, connections, script = std::move(script)] {
          for (int i = 0; i < connections; ++i) {
            Socket s = acc_.accept();
            ++accepted_;
            std::string first = ReadOnce(s);
            {
              std::lock_guard lock(mu_);
              first_reads_.push_back(std::move(first));
            }
            script(i, s);
          }
        }) {}
  ~ScriptedUpstream() { Join(); }
  std::string Address() const { return "127.0.0.1:" + std::to_string(acc_.local_endpoint().port()); }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  int accepted() const { return accepted_.load(); }
  // What the first read of each accepted connection returned (the request head, for small ones).
  std::vector<std::string> first_reads() {
    std::lock_guard lock(mu_);
    return first_reads_;
  }

  // One read of whatever arrives; errors (the peer closing) are ignored.
  static std::string ReadOnce(Socket& s) {
    char buf[4096];
    boost::system::error_code ec;
    const size_t n = s.read_some(boost::asio::buffer(buf), ec);
    return std::string(buf, n);
  }
  // A keep-alive `200 OK` with body "ok"; errors are ignored.
  static void AnswerOk(Socket& s) {
    const std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    boost::system::error_code ec;
    boost::asio::write(s, boost::asio::buffer(resp), ec);
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acc_{io_, {boost::asio::ip::make_address("127.0.0.1"), 0}};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<std::string> first_reads_;
  std::thread thread_;  // last: starts once the acceptor is listening
};

TEST_F(ProxyTest, PooledConnectionThatTheUpstreamClosedWhileIdleIsNotReused) {
  // The upstream closes each connection 50 ms after its response (an upstream keep-alive timeout).
  // A connection idle that long is probed before reuse, so the next request goes straight to a
  // fresh connection (one attempt), not through the reused-connection retry.
  ScriptedUpstream upstream(2, [](int, ScriptedUpstream::Socket& s) {
    ScriptedUpstream::AnswerOk(s);
    std::this_thread::sleep_for(50ms);
    s.close();
  });
  const uint16_t port = StartProxy(Http({upstream.Address()}));
  Client c(port);
  c.Send(Get("/1"));
  EXPECT_EQ(c.ReadResponse().rfind("HTTP/1.1 200", 0), 0u);
  std::this_thread::sleep_for(200ms);
  c.Send(Get("/2"));
  const std::string second = c.ReadResponse();
  EXPECT_EQ(second.rfind("HTTP/1.1 200", 0), 0u) << second;
  auto recs = log_->WaitFor(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].code, 200u);
  EXPECT_EQ(recs[1].attempts, 1u);
  EXPECT_NE(recs[0].upstream_connection_id, recs[1].upstream_connection_id);
  c.Close();
  upstream.Join();
  EXPECT_EQ(upstream.accepted(), 2);
}

TEST_F(ProxyTest, AbsoluteFormTargetIsForwardedInOriginFormWithItsAuthorityAsHost) {
  // As Envoy's codec (RFC 9112 3.2.2): the target's authority replaces Host, the upstream gets the
  // origin form, and the record shows the split :path and :authority.
  ScriptedUpstream upstream(1, [](int, ScriptedUpstream::Socket& s) { ScriptedUpstream::AnswerOk(s); });
  const uint16_t port = StartProxy(Http({upstream.Address()}));
  const std::string out = testing::HttpExchange(
      port, "GET http://Example.com:8081/abs?q=1 HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  upstream.Join();
  const auto heads = upstream.first_reads();
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].rfind("GET /abs?q=1 HTTP/1.1\r\nhost: Example.com:8081\r\n", 0), 0u) << heads[0];
  EXPECT_EQ(heads[0].find("other"), std::string::npos) << heads[0];
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].code, 200u);
  EXPECT_EQ(recs[0].path, "/abs?q=1");
  EXPECT_EQ(recs[0].authority, "Example.com:8081");
}

TEST_F(ProxyTest, XForwardedProtoIsAddedWhenAbsentAndSetsTheScheme) {
  // Envoy's connection manager adds x-forwarded-proto (the connection's scheme) when the request
  // has none, and takes :scheme from it when it names http or https.
  ScriptedUpstream upstream(2, [](int, ScriptedUpstream::Socket& s) { ScriptedUpstream::AnswerOk(s); });
  const uint16_t port = StartProxy(Http({upstream.Address()}));
  EXPECT_EQ(testing::HttpExchange(port, Get("/plain", "Connection: close\r\n")).rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(testing::HttpExchange(port, Get("/tls", "X-Forwarded-Proto: https\r\nConnection: close\r\n"))
                .rfind("HTTP/1.1 200", 0),
            0u);
  upstream.Join();
  const auto heads = upstream.first_reads();
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_NE(heads[0].find("\r\nx-forwarded-proto: http\r\n"), std::string::npos) << heads[0];
  EXPECT_NE(heads[1].find("\r\nX-Forwarded-Proto: https\r\n"), std::string::npos) << heads[1];
  EXPECT_EQ(heads[1].find("x-forwarded-proto"), std::string::npos) << heads[1];  // not added twice
  auto recs = log_->WaitFor(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].forwarded_proto, "http");
  EXPECT_EQ(recs[0].scheme, "http");
  EXPECT_EQ(recs[1].forwarded_proto, "https");
  EXPECT_EQ(recs[1].scheme, "https");
}

TEST_F(ProxyTest, ContentLengthAndChunkedRequestBodiesAreStreamed) {
  const uint16_t port = StartProxy(Http());
  const std::string body(100000, 'b');
  std::string out = testing::HttpExchange(port, "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n" + body);
  EXPECT_NE(out.find("POST /upload body=100000"), std::string::npos) << out.substr(0, 300);
  out = testing::HttpExchange(port,
                 "POST /chunks HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-t: 1\r\n\r\n");
  EXPECT_NE(out.find("POST /chunks body=11"), std::string::npos) << out;
  auto recs = log_->WaitFor(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].bytes_received, 100000u);
  EXPECT_GT(recs[0].ds_wire_received, 100000u);
  EXPECT_EQ(recs[1].bytes_received, 11u);
  EXPECT_EQ(recs[1].code, 200u);
}

TEST_F(ProxyTest, ChunkedBodyArrivingInTinySegmentsIsReassembled) {
  const uint16_t port = StartProxy(Http());
  Client c(port);
  c.Send("POST /slow HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n");
  std::this_thread::sleep_for(50ms);
  c.Send("x");  // one byte of a trailer
  std::this_thread::sleep_for(50ms);
  c.Send("-t: 1\r\n");
  std::this_thread::sleep_for(50ms);
  c.Send("\r\n");
  const std::string out = c.ReadResponse();
  EXPECT_NE(out.find("POST /slow body=3"), std::string::npos) << out;
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].bytes_received, 3u);
}

TEST_F(ProxyTest, ChunkedResponseWithTrailersIsForwardedAndLogged) {
  const uint16_t port = StartProxy(Http());
  const std::string out = testing::HttpExchange(port, Get("/chunked"));
  EXPECT_NE(out.find("transfer-encoding: chunked\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("hello\n"), std::string::npos) << out;
  EXPECT_NE(out.find("world\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\r\n0\r\nx-checksum: 42\r\n\r\n"), std::string::npos) << out;
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].bytes_sent, 12u);
  EXPECT_EQ(recs[0].trailer_checksum, "42");
}

TEST_F(ProxyTest, Http10ClientsGetCloseDelimitedBodies) {
  const uint16_t port = StartProxy(Http());
  std::string out = Exchange(port, "GET /chunked HTTP/1.0\r\n\r\n", /*half_close=*/false);
  EXPECT_EQ(out.find("transfer-encoding"), std::string::npos) << out;
  EXPECT_NE(out.find("connection: close\r\n\r\nhello\nworld\n"), std::string::npos) << out;
  Client keep(port);
  keep.Send("GET /plain HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  out = keep.ReadResponse();
  EXPECT_NE(out.find("connection: keep-alive"), std::string::npos) << out;
  keep.Send("GET /again HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_NE(keep.ReadResponse().find("GET /again"), std::string::npos);
  auto recs = log_->WaitFor(3);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[1].connection_id, recs[2].connection_id);  // HTTP/1.0 keep-alive honoured
  EXPECT_EQ(recs[0].protocol, format::Protocol::kHttp10);
  EXPECT_EQ(recs[0].bytes_sent, 12u);
  EXPECT_FALSE(recs[0].authority.has_value());
}

TEST_F(ProxyTest, ResponseDelimitedByUpstreamCloseIsRechunked) {
  const uint16_t port = StartProxy(Http());
  const std::string out = testing::HttpExchange(port, Get("/eof"));
  EXPECT_NE(out.find("transfer-encoding: chunked\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("c\r\nuntil-close\n\r\n0\r\n\r\n"), std::string::npos) << out;
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].code, 200u);
  EXPECT_EQ(recs[0].flags, "-");
  EXPECT_EQ(recs[0].bytes_sent, 12u);
}

TEST_F(ProxyTest, HeadResponseHasNoBodyAndConnectionStaysUsable) {
  const uint16_t port = StartProxy(Http());
  Client c(port);
  c.Send("HEAD /bytes/100 HTTP/1.1\r\nHost: a\r\n\r\n");
  const std::string head = c.ReadUntil("\r\n\r\n");
  EXPECT_NE(head.find("Content-Length: 100"), std::string::npos) << head;
  c.Send(Get("/after"));
  const std::string next = c.ReadResponse();
  EXPECT_EQ(next.rfind("HTTP/1.1 200", 0), 0u) << next;  // no stray body bytes before it
  auto recs = log_->WaitFor(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].bytes_sent, 0u);
}

TEST_F(ProxyTest, ExpectContinueIsAnsweredByTheProxy) {
  const uint16_t port = StartProxy(Http());
  Client c(port);
  c.Send("POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  const std::string interim = c.ReadUntil("\r\n\r\n");
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  c.Send("12345");
  const std::string out = c.ReadResponse();
  EXPECT_NE(out.find("POST /e body=5"), std::string::npos) << out;
}

struct BadRequest {
  const char* name;
  std::string request;
  unsigned status;
  const char* details;
};

TEST_F(ProxyTest, MalformedRequestCorpusGetsTheRightStatusAndARecord) {
  const uint16_t port = StartProxy(Http());
  const std::vector<BadRequest> corpus = {
      {"cl_and_te", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       400, "http1.content_length_and_chunked_not_allowed"},
      {"te_and_cl", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
       400, "http1.content_length_and_chunked_not_allowed"},
      {"te_not_chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nxxxxx", 400,
       "http1.invalid_transfer_encoding"},
      {"te_gzip_chunked", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501,
       "http1.invalid_transfer_encoding"},
      {"te_in_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
       "http1.invalid_transfer_encoding"},
      {"conflicting_cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n123456", 400,
       "http1.invalid_content_length"},
      {"bad_cl", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5x\r\n\r\n12345", 400, "http1.invalid_content_length"},
      {"bad_chunk_size", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
       400, "http1.invalid_chunk"},
      {"missing_host", "GET / HTTP/1.1\r\n\r\n", 400, "missing_host_header"},
      {"double_host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "http1.duplicate_host"},
      {"target_not_a_url", "GET example.com/x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "http1.invalid_url"},
      {"target_scheme_not_http", "GET ftp://example.com/x HTTP/1.1\r\nHost: a\r\n\r\n", 400,
       "http1.invalid_scheme"},
      {"space_before_colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "http1.codec_error"},
      {"garbage", std::string("\x01\x02\x03 junk\r\n\r\n", 13), 400, "http1.codec_error"},
      {"bad_version", "GET / HTTP/9.9\r\nHost: a\r\n\r\n", 400, "http1.codec_error"},
      {"headers_too_large", "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(70 * 1024, 'a') + "\r\n\r\n", 431,
       "http1.headers_too_large"},
      {"uri_too_long", "GET /" + std::string(20 * 1024, 'u') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414,
       "http1.uri_too_long"},
      {"request_line_too_long", "GET /" + std::string(70 * 1024, 'u'), 414, "http1.uri_too_long"},
  };
  for (size_t i = 0; i < corpus.size(); ++i) {
    const auto& bad = corpus[i];
    const std::string out = testing::HttpExchange(port, bad.request);
    const std::string want = "HTTP/1.1 " + std::to_string(bad.status) + " ";
    EXPECT_EQ(out.rfind(want, 0), 0u) << bad.name << ": " << out.substr(0, 200);
    EXPECT_NE(out.find("connection: close"), std::string::npos) << bad.name;
    auto recs = log_->WaitFor(i + 1);
    ASSERT_EQ(recs.size(), i + 1) << bad.name;
    EXPECT_EQ(recs[i].code, bad.status) << bad.name;
    EXPECT_EQ(recs[i].flags, "DPE") << bad.name;
    EXPECT_EQ(recs[i].details, bad.details) << bad.name;
  }
  // Nothing reached the upstream and the proxy still works.
  EXPECT_EQ(testing::HttpExchange(port, Get("/ok")).rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(ProxyTest, NoEndpointIs503UH) {
  ListenerConfig l = Http();
  l.endpoints.clear();
  const uint16_t port = StartProxy(l);
  const std::string out = testing::HttpExchange(port, Get("/x"));
  EXPECT_EQ(out.rfind("HTTP/1.1 503 Service Unavailable", 0), 0u) << out;
  EXPECT_NE(out.find("\r\n\r\nno healthy upstream"), std::string::npos) << out;
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].code, 503u);
  EXPECT_EQ(recs[0].flags, "UH");
  EXPECT_EQ(recs[0].details, "no_healthy_upstream");
  EXPECT_EQ(recs[0].local_reply_body, "no healthy upstream");
  EXPECT_EQ(recs[0].upstream_host, "-");
  EXPECT_EQ(recs[0].bytes_sent, 19u);
}

TEST_F(ProxyTest, AllConnectsFailingIs503UF) {
  ClosedPort a, b;
  ListenerConfig one = Http({"127.0.0.1:" + std::to_string(a.port())});
  const uint16_t port = StartProxy(one);
  std::string out = testing::HttpExchange(port, Get("/x"));
  EXPECT_EQ(out.rfind("HTTP/1.1 503", 0), 0u) << out;
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].flags, "UF");
  EXPECT_EQ(recs[0].details, "upstream_reset_before_response_started{connection_failure}");
  EXPECT_EQ(recs[0].upstream_host, "127.0.0.1:" + std::to_string(a.port()));
  // Two endpoints, both refusing: both tried, then UF with URX (retries exhausted).
  server_->Apply({Http({"127.0.0.1:" + std::to_string(a.port()), "127.0.0.1:" + std::to_string(b.port())})});
  out = testing::HttpExchange(port, Get("/y"));
  recs = log_->WaitFor(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].code, 503u);
  EXPECT_EQ(recs[1].flags, "UF,URX");
  EXPECT_EQ(recs[1].attempts, 2u);
}

TEST_F(ProxyTest, RefusingEndpointIsSkippedAndRoundRobinContinues) {
  ClosedPort dead;
  const uint16_t port = StartProxy(Http({"127.0.0.1:" + std::to_string(dead.port()), AppAddress()}));
  for (int i = 0; i < 4; ++i) {
    const std::string out = testing::HttpExchange(port, Get("/rr"));
    EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  }
  auto recs = log_->WaitFor(4);
  ASSERT_EQ(recs.size(), 4u);
  uint32_t total_attempts = 0;
  for (const auto& r : recs) {
    EXPECT_EQ(r.code, 200u);
    EXPECT_EQ(r.upstream_host, AppAddress());
    total_attempts += r.attempts;
  }
  // The dead endpoint was tried once, then ejected (passive health) for the following requests.
  EXPECT_LE(total_attempts, 5u);
}

TEST_F(ProxyTest, UpstreamResponseTimeoutIs504UT) {
  ListenerConfig l = Http();
  l.timeouts.response = 200ms;
  const uint16_t port = StartProxy(l);
  const std::string out = testing::HttpExchange(port, Get("/delay/2000"));
  EXPECT_EQ(out.rfind("HTTP/1.1 504 Gateway Timeout", 0), 0u) << out;
  EXPECT_NE(out.find("upstream request timeout"), std::string::npos);
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].flags, "UT");
  EXPECT_EQ(recs[0].details, "upstream_response_timeout");
  EXPECT_EQ(recs[0].upstream_host, AppAddress());
}

TEST_F(ProxyTest, IncompleteHeadersTimeOutWith408) {
  ListenerConfig l = Http();
  l.timeouts.request_headers = 200ms;
  const uint16_t port = StartProxy(l);
  const std::string out = Exchange(port, "GET / HTTP/1.1\r\nHost: a\r\n", /*half_close=*/false, 3s);
  EXPECT_EQ(out.rfind("HTTP/1.1 408 Request Timeout", 0), 0u) << out;
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].code, 408u);
  EXPECT_EQ(recs[0].details, "request_header_timeout");
}

TEST_F(ProxyTest, DownstreamDisconnectMidBodyIsLoggedDC) {
  const uint16_t port = StartProxy(Http());
  {
    Client c(port);
    c.Send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly-part");
    std::this_thread::sleep_for(100ms);
  }
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].code, std::nullopt);
  EXPECT_EQ(recs[0].flags, "DC");
  EXPECT_EQ(recs[0].details, "downstream_remote_disconnect");
  EXPECT_EQ(recs[0].bytes_received, 9u);
}

TEST_P(CloseWatchTest, ClientLeavingBeforeTheResponseIsLoggedDCWithCode0) {
  const uint16_t port = StartProxy(Http());
  {
    Client c(port);
    c.Send(Get("/delay/2000"));
    std::this_thread::sleep_for(100ms);
  }  // closed while the upstream is still working
  auto recs = log_->WaitFor(1, 1500ms);
  ASSERT_EQ(recs.size(), 1u);  // logged long before the upstream's 2 s
  EXPECT_EQ(recs[0].code, std::nullopt);
  EXPECT_EQ(recs[0].flags, "DC");
  EXPECT_EQ(recs[0].details, "downstream_remote_disconnect");
  EXPECT_EQ(recs[0].upstream_host, AppAddress());
}

TEST_P(CloseWatchTest, ClientHalfClosingWithItsRequestIsLoggedDCLikeEnvoy) {
  // Envoy's HTTP connection manager does not keep half-closed client connections: a FIN that
  // arrives with (or before the response to) the request closes the connection and the request is
  // logged DC with code 0. Here the FIN is seen before the request waits for the upstream; then a
  // keep-alive neighbour on the same worker is unaffected.
  const uint16_t port = StartProxy(Http());
  Client c(port);
  c.Send(Get("/delay/2000"));
  c.ShutdownWrite();
  auto recs = log_->WaitFor(1, 1500ms);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].code, std::nullopt);
  EXPECT_EQ(recs[0].flags, "DC");
  EXPECT_EQ(c.ReadToEof(2s), "");
  Client other(port);
  other.Send(Get("/after"));
  EXPECT_EQ(other.ReadResponse().rfind("HTTP/1.1 200", 0), 0u);
  recs = log_->WaitFor(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].code, 200u);
}

TEST_F(ProxyTest, PipelinedRequestsFollowedByAFinAreDroppedWithTheConnectionLikeEnvoy) {
  // Envoy closes a connection whose client sent FIN (no HTTP half-close), so the request in
  // progress is logged DC with code 0 and the pipelined one behind it is never served or logged.
  const uint16_t port = StartProxy(Http());
  Client c(port);
  c.Send(Get("/delay/300") + Get("/second"));
  c.ShutdownWrite();
  auto recs = log_->WaitFor(1, 1500ms);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].path, "/delay/300");
  EXPECT_EQ(recs[0].code, std::nullopt);
  EXPECT_EQ(recs[0].flags, "DC");
  EXPECT_EQ(c.ReadToEof(2s), "");
  std::this_thread::sleep_for(500ms);  // the upstream's 300 ms are over: nothing else is logged
  EXPECT_EQ(log_->WaitFor(2, 100ms).size(), 1u);
}

TEST_F(ProxyTest, ClientFinWhileTheResponseBodyStreamsCutsItOffLikeEnvoy) {
  // Envoy keeps no half-closed HTTP connection: a client's FIN while the body is still coming from
  // the upstream resets the stream. Both connections close at once and the request is logged DC
  // with the status already sent. (Seen through the worker's peer-close watch; with the read-based
  // fallback the response goes on until a write fails.)
  std::atomic<bool> upstream_closed{false};
  ScriptedUpstream upstream(1, [&](int, ScriptedUpstream::Socket& s) {
    boost::system::error_code ec;
    boost::asio::write(s, boost::asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\nfirst")), ec);
    const timeval tv{5, 0};  // the rest never comes; wait for the proxy to give up the connection
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char b;
    s.read_some(boost::asio::buffer(&b, 1), ec);
    upstream_closed = ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  });
  const uint16_t port = StartProxy(Http({upstream.Address()}));
  Client c(port);
  c.Send(Get("/big"));
  EXPECT_NE(c.ReadUntil("first").find("first"), std::string::npos);
  const auto t0 = std::chrono::steady_clock::now();
  c.ShutdownWrite();
  EXPECT_EQ(c.ReadToEof(3s), "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);  // closed by the proxy, not the timeout
  upstream.Join();
  EXPECT_TRUE(upstream_closed);
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].code, 200u);
  EXPECT_EQ(recs[0].flags, "DC");
  EXPECT_EQ(recs[0].details, "downstream_remote_disconnect");
}

TEST_F(ProxyTest, UpstreamClosingBeforeResponseIs503UC) {
  // An upstream that accepts, reads the request and closes without answering.
  ScriptedUpstream upstream(1, [](int, ScriptedUpstream::Socket& s) { s.close(); });
  const uint16_t port = StartProxy(Http({upstream.Address()}));
  const std::string out = testing::HttpExchange(port, Get("/x"));
  upstream.Join();
  EXPECT_EQ(out.rfind("HTTP/1.1 503", 0), 0u) << out;
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].flags, "UC");
  EXPECT_EQ(recs[0].details, "upstream_reset_before_response_started{connection_termination}");
}

TEST_F(ProxyTest, PooledConnectionClosedByUpstreamIsRetriedOnceForBodilessRequests) {
  // An upstream that answers the first request of each connection (keep-alive) and closes the
  // connection when a second request arrives (a keep-alive timeout racing with reuse).
  ScriptedUpstream upstream(2, [](int i, ScriptedUpstream::Socket& s) {
    ScriptedUpstream::AnswerOk(s);
    if (i == 0) {
      ScriptedUpstream::ReadOnce(s);  // the reused connection's request: dropped
      s.close();
    } else {
      ScriptedUpstream::ReadOnce(s);  // wait for the proxy to close
    }
  });
  const uint16_t port = StartProxy(Http({upstream.Address()}));
  Client c(port);
  c.Send(Get("/1"));
  EXPECT_EQ(c.ReadResponse().rfind("HTTP/1.1 200", 0), 0u);
  c.Send(Get("/2"));
  const std::string second = c.ReadResponse();
  EXPECT_EQ(second.rfind("HTTP/1.1 200", 0), 0u) << second;
  c.Close();
  auto recs = log_->WaitFor(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].code, 200u);
  EXPECT_EQ(recs[1].flags, "-");
  EXPECT_EQ(recs[1].attempts, 2u);
  EXPECT_NE(recs[0].upstream_connection_id, recs[1].upstream_connection_id);
  server_.reset();  // closes the pooled upstream connection the upstream thread waits on
  upstream.Join();
  EXPECT_EQ(upstream.accepted(), 2);
}

TEST_F(ProxyTest, WebSocketUpgradeIsTunnelledAndLoggedOnceWith101) {
  const uint16_t port = StartProxy(Http());
  Client c(port);
  c.Send("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  const std::string head = c.ReadUntil("\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  EXPECT_NE(head.find("upgrade: websocket"), std::string::npos) << head;
  c.Send("ping-pong");
  EXPECT_EQ(c.ReadUntil("ping-pong"), "ping-pong");
  c.ShutdownWrite();
  EXPECT_EQ(c.ReadToEof(), "");
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].code, 101u);
  EXPECT_EQ(recs[0].bytes_received, 9u);
  EXPECT_EQ(recs[0].bytes_sent, 9u);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(log_->records().size(), 1u);
}

TEST_F(ProxyTest, TcpProxyEchoWithHalfCloseOneRecordAtClose) {
  const uint16_t port = StartProxy(Tcp());
  const std::string out = Exchange(port, "hello tcp", /*half_close=*/true);
  EXPECT_EQ(out, "hello tcp");
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  const Record& r = recs[0];
  EXPECT_EQ(r.type, format::AccessLogType::TcpConnectionEnd);
  EXPECT_FALSE(r.has_request_headers);
  EXPECT_EQ(r.code, std::nullopt);
  EXPECT_EQ(r.protocol, format::Protocol::kUnset);
  EXPECT_EQ(r.flags, "-");
  EXPECT_EQ(r.bytes_received, 9u);
  EXPECT_EQ(r.bytes_sent, 9u);
  EXPECT_EQ(r.upstream_host, TcpAddress());
  EXPECT_GT(r.upstream_connection_id, 0u);
  EXPECT_TRUE(r.duration.has_value());
  for (const auto& t : r.timings) EXPECT_FALSE(t.has_value());  // COMMON_DURATION prints "-" on TCP
}

TEST_F(ProxyTest, TcpBulkTransferIsEchoedByteExactAndCountedBothWays) {
  // 4 MiB both ways: each direction starts on its small buffer and switches to the bulk buffer
  // after the first full read; nothing may be lost, reordered or miscounted across the switch.
  const uint16_t port = StartProxy(Tcp());
  std::string data(4 * 1024 * 1024, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i % 251);
  testing::Client c(port);
  ASSERT_TRUE(c.ok());
  std::thread writer([&] {
    c.Send(data);
    c.ShutdownWrite();
  });
  const std::string out = c.ReadToEof(20s);
  writer.join();
  ASSERT_EQ(out.size(), data.size());
  EXPECT_TRUE(out == data) << "echo differs from what was sent";
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].type, format::AccessLogType::TcpConnectionEnd);
  EXPECT_EQ(recs[0].flags, "-");
  EXPECT_EQ(recs[0].bytes_received, data.size());
  EXPECT_EQ(recs[0].bytes_sent, data.size());
}

TEST_F(ProxyTest, TcpConnectFailureAndNoEndpoint) {
  ClosedPort dead;
  const uint16_t port = StartProxy(Tcp({"127.0.0.1:" + std::to_string(dead.port())}));
  EXPECT_EQ(Exchange(port, "x"), "");
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].flags, "UF,URX");
  EXPECT_EQ(recs[0].upstream_host, "127.0.0.1:" + std::to_string(dead.port()));
  ListenerConfig none = Tcp();
  none.endpoints.clear();
  ASSERT_EQ(server_->Apply({none}), "");
  EXPECT_EQ(Exchange(port, "x"), "");
  recs = log_->WaitFor(2);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].flags, "UH");
}

TEST_F(ProxyTest, TcpOptionalConnectAndPeriodicRecords) {
  ListenerConfig l = Tcp();
  l.tcp.log_on_upstream_connect = true;
  l.tcp.periodic = 100ms;
  const uint16_t port = StartProxy(l);
  Client c(port);
  c.Send("abc");
  EXPECT_EQ(c.ReadUntil("abc"), "abc");
  std::this_thread::sleep_for(350ms);
  c.ShutdownWrite();
  c.ReadToEof();
  c.Close();
  auto recs = log_->WaitFor(4);
  ASSERT_GE(recs.size(), 4u);
  EXPECT_EQ(recs.front().type, format::AccessLogType::TcpUpstreamConnected);
  EXPECT_EQ(recs.front().bytes_received, 0u);
  size_t periodic = 0;
  for (const auto& r : recs) periodic += r.type == format::AccessLogType::TcpPeriodic;
  EXPECT_GE(periodic, 2u);
  recs = log_->WaitFor(recs.size() + 1, 300ms);
  EXPECT_EQ(recs.back().type, format::AccessLogType::TcpConnectionEnd);
  EXPECT_EQ(recs.back().bytes_received, 3u);
}

TEST_F(ProxyTest, DrainFinishesInFlightRequestsAndLogsThem) {
  const uint16_t port = StartProxy(Http(), 2);
  std::string out;
  std::thread client([&] { out = Exchange(port, Get("/delay/300"), /*half_close=*/false); });
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(server_->Drain(5s));
  client.join();
  EXPECT_EQ(out.rfind("HTTP/1.1 200", 0), 0u) << out;
  EXPECT_NE(out.find("connection: close"), std::string::npos) << out;
  auto recs = log_->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].code, 200u);
  // No longer accepting.
  EXPECT_EQ(testing::HttpExchange(port, Get("/late"), 500ms).find("HTTP/1.1 200"), std::string::npos);
}

TEST_F(ProxyTest, ApplySwapsAccessLogsWithoutDroppingTheListener) {
  ListenerConfig l = Http();
  const uint16_t port = StartProxy(l);
  Client keep(port);
  keep.Send(Get("/first"));
  EXPECT_EQ(keep.ReadResponse().rfind("HTTP/1.1 200", 0), 0u);
  auto second = std::make_shared<RecordingLog>();
  l.access_logs = {second};
  ASSERT_EQ(server_->Apply({l}), "");
  EXPECT_EQ(server_->Port(l.name), port);
  keep.Send(Get("/second"));  // same connection: the new configuration applies per request
  EXPECT_EQ(keep.ReadResponse().rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(log_->WaitFor(1).size(), 1u);
  auto recs = second->WaitFor(1);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].path, "/second");
  // An invalid change is refused and the running configuration stays.
  ListenerConfig bad = l;
  bad.endpoints = {{.address = "not-an-address", .host_name = ""}};
  EXPECT_NE(server_->Apply({bad}), "");
  EXPECT_EQ(testing::HttpExchange(port, Get("/third")).rfind("HTTP/1.1 200", 0), 0u);
}

TEST_F(ProxyTest, APortInUseIsReportedNotShared) {
  const uint16_t port = StartProxy(Http(), 2);
  Server other(Server::Options{.workers = 2});
  ListenerConfig clash = Http();
  clash.bind_address = "127.0.0.1:" + std::to_string(port);
  const std::string err = other.Apply({clash});
  EXPECT_NE(err.find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos) << err;
  EXPECT_NE(err.find("in use"), std::string::npos) << err;
}

TEST_F(ProxyTest, ManyConnectionsOverSeveralWorkers) {
  const uint16_t port = StartProxy(Http(), 3);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) ok += testing::HttpExchange(port, Get("/m")).rfind("HTTP/1.1 200", 0) == 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
  EXPECT_EQ(log_->WaitFor(80).size(), 80u);
  std::map<std::string, double> stats;
  server_->VisitListenerStats([&](std::string_view, std::string_view name, StatKind, double v) {
    stats[std::string(name)] = v;
  });
  EXPECT_EQ(stats["requests"], 80);
  EXPECT_EQ(stats["responses_2xx"], 80);
  EXPECT_EQ(stats["access_log_records"], 80);
}

TEST_F(ProxyTest, RecordsReachAFileThroughFormattedAccessLog) {
  const auto path = std::filesystem::temp_directory_path() / ("meshlog_proxy_" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(path);
  sink::FileSinkRegistry registry;
  auto file = registry.Get(path.string());
  ListenerConfig l = Http();
  l.access_logs = {std::make_shared<sink::FormattedAccessLog>(std::make_shared<testing::TinyFormatter>(), file)};
  const uint16_t port = StartProxy(l);
  testing::HttpExchange(port, Get("/a"));
  testing::HttpExchange(port, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
  server_->Drain(1s);
  file->FlushAndWait();
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  // Like Envoy, a request rejected by the codec has no request headers: "- -".
  EXPECT_EQ(ss.str(), "200 - GET /a\n400 DPE - -\n");
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace meshlog::proxy
