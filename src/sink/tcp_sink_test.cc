#include "sink/tcp_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace meshlog::sink {
namespace {

using namespace std::chrono_literals;

// A blocking loopback receiver: accepts connections one after another and records the bytes of
// each connection separately. `cut_after` > 0: the first connection is reset (SO_LINGER 0) after
// that many bytes were read and the receiver then stopped reading for 300 ms (its kernel keeps
// ACKing into the socket buffer), simulating a receiver that hangs and then dies mid-stream.
class Receiver {
 public:
  // `stall_first`: the first connection is not read for that long (a hung receiver).
  explicit Receiver(size_t cut_after = 0, bool ipv6 = false, std::chrono::milliseconds stall_first = {})
      : cut_after_(cut_after), stall_first_(stall_first) {
    fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (stall_first_.count() > 0) {
      int small = 4096;  // inherited by accepted sockets: the sender's writes block sooner
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    if (ipv6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_addr = in6addr_loopback;
      ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      socklen_t len = sizeof a;
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
      port_ = ntohs(a.sin6_port);
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
      socklen_t len = sizeof a;
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
      port_ = ntohs(a.sin_port);
    }
    ok_ = ok_ && ::listen(fd_, 16) == 0;
    thread_ = std::thread([this] { run(); });
  }
  bool ok() const { return ok_; }
  ~Receiver() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::vector<std::string> connections() {
    std::lock_guard<std::mutex> lock(mu_);
    return conns_;
  }
  size_t totalBytes() {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (auto& c : conns_) n += c.size();
    return n;
  }

 private:
  void run() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      {
        std::lock_guard<std::mutex> lock(mu_);
        conns_.emplace_back();
      }
      char buf[4096];
      size_t got = 0;
      const bool first = ++accepted_ == 1;
      const bool cut = cut_after_ > 0 && first;
      if (first && stall_first_.count() > 0) std::this_thread::sleep_for(stall_first_);
      while (true) {
        size_t want = sizeof buf;
        if (cut) want = std::min(want, cut_after_ - got);
        ssize_t n = ::read(c, buf, want);
        if (n <= 0) break;
        got += static_cast<size_t>(n);
        {
          std::lock_guard<std::mutex> lock(mu_);
          conns_.back().append(buf, static_cast<size_t>(n));
        }
        if (cut && got >= cut_after_) {
          std::this_thread::sleep_for(std::chrono::milliseconds(300));
          linger l{1, 0};
          ::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);  // close() sends RST
          break;
        }
      }
      ::close(c);
    }
  }
  size_t cut_after_;
  std::chrono::milliseconds stall_first_;
  bool ok_ = false;
  int accepted_ = 0;
  int fd_;
  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> conns_;
  std::thread thread_;
};

std::vector<std::string> Lines(const std::string& s, std::string* trailing = nullptr) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string line;
  size_t consumed = 0;
  while (std::getline(in, line)) {
    consumed += line.size() + 1;
    if (consumed > s.size()) {  // last fragment had no '\n'
      if (trailing) *trailing = line;
      break;
    }
    out.push_back(line);
  }
  return out;
}

std::string Record(int i) { return "record-" + std::to_string(i) + " " + std::string(100, 'x'); }

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = 10s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(FrameRecord, EnforcesExactlyOneTrailingNewline) {
  bool repaired = false;
  EXPECT_EQ(FrameRecord("a b\n", repaired), "a b\n");
  EXPECT_FALSE(repaired);
  EXPECT_EQ(FrameRecord("a b", repaired), "a b\n");
  EXPECT_TRUE(repaired);
  EXPECT_EQ(FrameRecord("a\n\n\n", repaired), "a\n");
  EXPECT_TRUE(repaired);
  EXPECT_EQ(FrameRecord("a\nb\n", repaired), "a b\n");
  EXPECT_TRUE(repaired);
  EXPECT_EQ(FrameRecord("", repaired), "\n");
  EXPECT_TRUE(repaired);
}

TEST(HostPort, ParsesTcpAddresses) {
  auto a = ParseHostPort("127.0.0.1:5000");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 5000);
  auto b = ParseHostPort("[::1]:25000");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->toString(), "[::1]:25000");
  auto c = ParseHostPort("logstash.svc:5000");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->host, "logstash.svc");
  EXPECT_FALSE(ParseHostPort("nohost"));
  EXPECT_FALSE(ParseHostPort("host:0"));
  EXPECT_FALSE(ParseHostPort("host:65536"));
  EXPECT_FALSE(ParseHostPort("host:12x"));
  EXPECT_FALSE(ParseHostPort(":80"));
  EXPECT_FALSE(ParseHostPort("[::1]x:80"));
  EXPECT_FALSE(ParseHostPort("[]:80"));
  // OTLP endpoints: default port; a bare IPv6 address is a host.
  EXPECT_EQ(ParseHostPort("otel", 4317)->toString(), "otel:4317");
  EXPECT_EQ(ParseHostPort("::1", 4317)->toString(), "[::1]:4317");
  EXPECT_EQ(ParseHostPort("[::1]", 4317)->toString(), "[::1]:4317");
  EXPECT_THROW(TcpSink::Create(std::make_shared<IoThread>(), TcpSinkConfig{.address = "x"}), std::invalid_argument);
}

TEST(TcpSink, DeliversRecordsInOrderAndResolvesHostnames) {
  Receiver rx;
  auto io = std::make_shared<IoThread>();
  auto sink = TcpSink::Create(io, TcpSinkConfig{.address = "localhost:" + std::to_string(rx.port())});
  EXPECT_EQ(sink->type(), "tcp");
  EXPECT_EQ(sink->destination(), "localhost:" + std::to_string(rx.port()));
  constexpr int kN = 5000;
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(sink->push(Record(i) + "\n"));
  sink->push("unterminated");
  sink->shutdown(10s);
  auto conns = rx.connections();
  ASSERT_EQ(conns.size(), 1u);
  auto lines = Lines(conns[0]);
  ASSERT_EQ(lines.size(), static_cast<size_t>(kN + 1));
  for (int i = 0; i < kN; ++i) EXPECT_EQ(lines[i], Record(i));
  EXPECT_EQ(lines[kN], "unterminated");
  EXPECT_EQ(sink->stats().records_sent.value(), static_cast<uint64_t>(kN + 1));
  EXPECT_EQ(sink->stats().records_reframed.value(), 1u);
  EXPECT_EQ(sink->stats().dropped_shutdown.value(), 0u);
  EXPECT_EQ(sink->stats().unconfirmed_at_shutdown.value(), 0u);
}

TEST(TcpSink, ResendsAfterPeerResetWithoutPartialLinesOnNewConnection) {
  Receiver rx(/*cut_after=*/50000);
  auto io = std::make_shared<IoThread>();
  TcpSinkConfig cfg{.address = "127.0.0.1:" + std::to_string(rx.port())};
  cfg.reconnect = BackoffConfig{.initial = 10ms, .max = 50ms};
  cfg.max_write_bytes = 4096;
  auto sink = TcpSink::Create(io, cfg);
  constexpr int kN = 3000;
  for (int i = 0; i < kN; ++i) {
    ASSERT_TRUE(sink->push(Record(i) + "\n"));
    if (i % 100 == 0) std::this_thread::sleep_for(1ms);
  }
  sink->shutdown(20s);
  auto conns = rx.connections();
  ASSERT_GE(conns.size(), 2u);
  std::map<std::string, int> count;
  for (size_t c = 0; c < conns.size(); ++c) {
    std::string trailing;
    auto lines = Lines(conns[c], &trailing);
    if (c > 0) {
      EXPECT_TRUE(trailing.empty()) << "partial line on a later connection";
    }
    for (auto& l : lines) ++count[l];
  }
  int dups = 0;
  for (int i = 0; i < kN; ++i) {
    auto it = count.find(Record(i));
    ASSERT_NE(it, count.end()) << "record " << i << " lost";
    dups += it->second - 1;
  }
  EXPECT_GE(sink->stats().connection_errors.value(), 1u);
  EXPECT_GE(sink->stats().records_retried.value(), 1u);
  EXPECT_EQ(sink->stats().records_sent.value(), static_cast<uint64_t>(kN));
  EXPECT_EQ(sink->stats().dropped_shutdown.value(), 0u);
  std::cout << "duplicates: " << dups << "\n";
}

// Records of [0, n) that appear on no connection (yet).
int Missing(Receiver& rx, int n) {
  std::set<std::string> got;
  for (auto& c : rx.connections()) {
    for (auto& l : Lines(c)) got.insert(l);
  }
  int missing = 0;
  for (int i = 0; i < n; ++i) missing += got.count(Record(i)) == 0 ? 1 : 0;
  return missing;
}

// Every record of [0, n) appears at least once over all connections; returns duplicates.
// shutdown() returns once the receiver's kernel ACKed everything; the receiver thread may still
// be reading (it serves connections one after another), so wait for it first.
int CheckAllPresent(Receiver& rx, int n) {
  WaitFor([&] { return Missing(rx, n) == 0; }, 15s);
  std::map<std::string, int> count;
  auto conns = rx.connections();
  for (size_t c = 0; c < conns.size(); ++c) {
    std::string trailing;
    for (auto& l : Lines(conns[c], &trailing)) ++count[l];
  }
  int dups = 0;
  for (int i = 0; i < n; ++i) {
    auto it = count.find(Record(i));
    EXPECT_NE(it, count.end()) << "record " << i << " lost";
    if (it != count.end()) dups += it->second - 1;
  }
  return dups;
}

TEST(TcpSink, WithoutTheReplayWindowAReceiverDyingWithUnreadDataLosesRecords) {
  // The boundary of the guarantee, shown: the same scenario as above with replay_window = 0 only
  // re-sends bytes the peer's TCP had not ACKed, and what sat unread in the dead receiver's
  // socket buffer is gone. (This is why replay_window exists.)
  Receiver rx(/*cut_after=*/50000);
  auto io = std::make_shared<IoThread>();
  TcpSinkConfig cfg{.address = "127.0.0.1:" + std::to_string(rx.port())};
  cfg.reconnect = BackoffConfig{.initial = 10ms, .max = 50ms};
  cfg.max_write_bytes = 4096;
  cfg.replay_window = 0ms;
  auto sink = TcpSink::Create(io, cfg);
  constexpr int kN = 3000;
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(sink->push(Record(i) + "\n"));
  sink->shutdown(20s);
  std::set<std::string> got;
  for (auto& c : rx.connections()) {
    for (auto& l : Lines(c)) got.insert(l);
  }
  int lost = 0;
  for (int i = 0; i < kN; ++i) lost += got.count(Record(i)) == 0 ? 1 : 0;
  EXPECT_GT(lost, 0);
  EXPECT_EQ(sink->stats().dropped_shutdown.value(), 0u);  // the sink cannot know: not counted
}

TEST(TcpSink, ConnectsOverIpv6Loopback) {
  Receiver rx(0, /*ipv6=*/true);
  if (!rx.ok()) GTEST_SKIP() << "no IPv6 loopback here";
  auto io = std::make_shared<IoThread>();
  auto sink = TcpSink::Create(io, TcpSinkConfig{.address = "[::1]:" + std::to_string(rx.port())});
  EXPECT_EQ(sink->destination(), "[::1]:" + std::to_string(rx.port()));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(sink->push(Record(i) + "\n"));
  sink->shutdown(10s);
  EXPECT_EQ(CheckAllPresent(rx, 100), 0);
  EXPECT_EQ(sink->stats().records_sent.value(), 100u);
}

TEST(TcpSink, WriteTimeoutOnAHungReceiverReconnectsAndDelivers) {
  Receiver rx(0, false, /*stall_first=*/1500ms);
  auto io = std::make_shared<IoThread>();
  TcpSinkConfig cfg{.address = "127.0.0.1:" + std::to_string(rx.port())};
  cfg.write_timeout = 200ms;
  cfg.reconnect = BackoffConfig{.initial = 10ms, .max = 50ms};
  cfg.queue_max_records = 1000000;
  auto sink = TcpSink::Create(io, cfg);
  constexpr int kN = 150000;  // ~17 MB: more than the socket buffers hold (wmem max 4 MiB)
  for (int i = 0; i < kN; ++i) ASSERT_TRUE(sink->push(Record(i) + "\n"));
  sink->shutdown(30s);
  EXPECT_GE(sink->stats().write_timeouts.value(), 1u);
  EXPECT_GE(sink->stats().connects.value(), 2u);
  CheckAllPresent(rx, kN);
  EXPECT_EQ(sink->stats().dropped_shutdown.value(), 0u);
}

TEST(TcpSink, FullQueueDropsAndCountsAndShutdownCountsTheRest) {
  // Nothing listens on this port (bind, then close, to get a free port).
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  auto io = std::make_shared<IoThread>();
  TcpSinkConfig cfg{.address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port))};
  cfg.queue_max_records = 10;
  auto sink = TcpSink::Create(io, cfg);
  int accepted = 0;
  for (int i = 0; i < 25; ++i) accepted += sink->push(Record(i) + "\n") ? 1 : 0;
  EXPECT_EQ(accepted, 10);
  EXPECT_EQ(sink->stats().dropped_queue_full.value(), 15u);
  ASSERT_TRUE(WaitFor([&] { return sink->stats().connect_failures.value() >= 1; }));
  EXPECT_NE(sink->stats().last_error.value(), 0);
  EXPECT_NE(sink->lastError().find("connect"), std::string::npos) << sink->lastError();
  auto start = std::chrono::steady_clock::now();
  sink->shutdown(300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(sink->stats().dropped_shutdown.value(), 10u);
  EXPECT_FALSE(sink->push("late\n"));
  EXPECT_EQ(sink->stats().dropped_shutdown.value(), 11u);
  std::map<std::string, double> seen;
  sink->visitStats([&](std::string_view n, StatKind, double v) { seen[std::string(n)] = v; });
  EXPECT_EQ(seen["dropped_queue_full"], 15);
  EXPECT_EQ(seen["connection_state"], 0);
  EXPECT_TRUE(seen.count("records_retried"));
}

}  // namespace
}  // namespace meshlog::sink
