// floor_proxy: a measuring tool, not part of meshlog. It does the least work an HTTP/1.1 keep-alive
// reverse proxy can do per request, to show what the kernel alone costs per request on a machine,
// i.e. the floor under any proxy's CPU per request (bench/floor.sh compares it with NGINX and meshlog).
//
// It does no HTTP at all: one upstream connection per client connection, opened at accept; every
// chunk read from one side is written to the other. With wrk's small GETs and an origin's small
// answers one read is one request or one response, so per request it makes exactly the system calls
// every proxy needs: read the request, write it upstream, read the response, write it back.
//
//   floor_proxy epoll LISTEN_PORT UPSTREAM_PORT   # readiness: level-triggered epoll, descriptors
//                                                 # registered once; 4 calls + epoll_wait per request
//   floor_proxy uring LISTEN_PORT UPSTREAM_PORT   # completion: io_uring, every follow-up operation of
//                                                 # a batch of completions submitted in one call
//                                                 # (DEFER_TASKRUN + SINGLE_ISSUER when the kernel
//                                                 # has them, Linux >= 6.1)
//   floor_proxy asio LISTEN_PORT UPSTREAM_PORT    # Boost.Asio (Debian's, as meshlog uses it): one
//                                                 # coroutine per connection, read/write awaited,
//                                                 # io_context with meshlog's concurrency hint and
//                                                 # executor type; the event library's own cost
//
// Loopback only. A short write aborts the program: the measurement would be wrong, not slower.
#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio.hpp>

namespace {

constexpr size_t kBuf = 16384;

[[noreturn]] void Die(const char* what) {
  std::perror(what);
  std::exit(1);
}

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

void NoDelay(int fd) {
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int Listen(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const sockaddr_in a = Loopback(port);
  if (bind(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 || listen(fd, 1024) != 0) Die("listen");
  return fd;
}

int ConnectUpstream(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in a = Loopback(port);
  if (connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0) Die("connect upstream");
  NoDelay(fd);
  return fd;
}

struct Pair {
  int client;
  int up;
  char cbuf[kBuf];
  char ubuf[kBuf];
};

void ClosePair(Pair* p) {
  close(p->client);
  close(p->up);
  delete p;
}

// --- readiness ---------------------------------------------------------------------------------
void RunEpoll(int lfd, int upstream_port) {
  const int ep = epoll_create1(0);
  auto add = [ep](int fd, uint64_t data) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = data;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) Die("epoll_ctl");
  };
  add(lfd, 0);
  // data: Pair* | 1 for the upstream side (Pair is aligned, so bit 0 is free); 0 is the listener.
  epoll_event events[256];
  std::vector<Pair*> closed;  // freed after the batch: a later event of the same batch may name them
  for (;;) {
    const int n = epoll_wait(ep, events, 256, -1);
    if (n < 0 && errno != EINTR) Die("epoll_wait");
    for (Pair* p : closed) delete p;
    closed.clear();
    for (int i = 0; i < n; ++i) {
      const uint64_t d = events[i].data.u64;
      if (d == 0) {
        const int c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
        if (c < 0) continue;
        NoDelay(c);
        auto* p = new Pair{c, ConnectUpstream(upstream_port), {}, {}};
        fcntl(p->up, F_SETFL, O_NONBLOCK);
        add(c, reinterpret_cast<uint64_t>(p));
        add(p->up, reinterpret_cast<uint64_t>(p) | 1);
        continue;
      }
      auto* p = reinterpret_cast<Pair*>(d & ~uint64_t{1});
      if (p->client < 0) continue;
      const bool from_up = d & 1;
      char* buf = from_up ? p->ubuf : p->cbuf;
      const ssize_t r = recv(from_up ? p->up : p->client, buf, kBuf, 0);
      if (r < 0 && errno == EAGAIN) continue;
      if (r <= 0) {  // closing both descriptors also removes them from the epoll set
        close(p->client);
        close(p->up);
        p->client = p->up = -1;
        closed.push_back(p);
        continue;
      }
      if (send(from_up ? p->client : p->up, buf, static_cast<size_t>(r), MSG_NOSIGNAL) != r) Die("short send");
    }
  }
}

// --- completion --------------------------------------------------------------------------------
enum Tag : uint64_t { kAccept = 0, kClientRecv = 1, kUpRecv = 2, kSend = 3 };

void RunUring(int lfd, int upstream_port) {
  io_uring ring;
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  if (io_uring_queue_init_params(4096, &ring, &params) != 0) {
    std::fprintf(stderr, "floor_proxy: io_uring without DEFER_TASKRUN (kernel < 6.1)\n");
    params = {};
    if (const int rc = io_uring_queue_init_params(4096, &ring, &params); rc != 0) {
      errno = -rc;
      Die("io_uring_queue_init");
    }
  }
  auto sqe = [&ring] {
    io_uring_sqe* s = io_uring_get_sqe(&ring);
    if (s == nullptr) {
      io_uring_submit(&ring);
      s = io_uring_get_sqe(&ring);
    }
    return s;
  };
  auto accept = [&] {
    io_uring_sqe* s = sqe();
    io_uring_prep_accept(s, lfd, nullptr, nullptr, 0);
    io_uring_sqe_set_data64(s, kAccept);
  };
  auto recv_on = [&](Pair* p, Tag side) {
    io_uring_sqe* s = sqe();
    if (side == kClientRecv) {
      io_uring_prep_recv(s, p->client, p->cbuf, kBuf, 0);
    } else {
      io_uring_prep_recv(s, p->up, p->ubuf, kBuf, 0);
    }
    io_uring_sqe_set_data64(s, reinterpret_cast<uint64_t>(p) | side);
  };
  auto send_to = [&](int fd, const char* data, int len) {
    io_uring_sqe* s = sqe();
    io_uring_prep_send(s, fd, data, static_cast<size_t>(len), MSG_WAITALL | MSG_NOSIGNAL);
    s->flags |= IOSQE_CQE_SKIP_SUCCESS;  // only failures complete
    io_uring_sqe_set_data64(s, kSend);
  };
  accept();
  for (;;) {
    const int rc = io_uring_submit_and_wait(&ring, 1);
    if (rc < 0 && rc != -EINTR) {
      errno = -rc;
      Die("io_uring_submit_and_wait");
    }
    io_uring_cqe* cqe;
    unsigned head;
    unsigned seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      const uint64_t d = io_uring_cqe_get_data64(cqe);
      const int res = cqe->res;
      if (d == kAccept) {
        if (res >= 0) {
          NoDelay(res);
          recv_on(new Pair{res, ConnectUpstream(upstream_port), {}, {}}, kClientRecv);
        }
        accept();
        continue;
      }
      if (d == kSend) continue;  // a failed send: the pending read on that side sees the close
      auto* p = reinterpret_cast<Pair*>(d & ~uint64_t{3});
      const auto side = static_cast<Tag>(d & 3);
      if (res <= 0) {  // a pair has one read in flight at a time, so nothing else refers to it
        ClosePair(p);
        continue;
      }
      if (side == kClientRecv) {
        send_to(p->up, p->cbuf, res);
        recv_on(p, kUpRecv);
      } else {
        send_to(p->client, p->ubuf, res);
        recv_on(p, kClientRecv);
      }
    }
    io_uring_cq_advance(&ring, seen);
  }
}


// --- Boost.Asio coroutines ----------------------------------------------------------------------
namespace asio = boost::asio;
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<asio::ip::tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<asio::ip::tcp, Executor>;
constexpr asio::use_awaitable_t<Executor> kAwait;

asio::awaitable<void, Executor> Relay(Socket client, int upstream_port) {
  Socket up(client.get_executor());
  boost::system::error_code ec;
  up.connect({asio::ip::address_v4::loopback(), static_cast<uint16_t>(upstream_port)}, ec);
  if (ec) Die("connect upstream");
  up.set_option(asio::ip::tcp::no_delay(true));
  client.set_option(asio::ip::tcp::no_delay(true));
  std::vector<char> cbuf(kBuf), ubuf(kBuf);
  for (;;) {
    size_t n = co_await client.async_read_some(asio::buffer(cbuf), asio::redirect_error(kAwait, ec));
    if (ec) break;
    co_await asio::async_write(up, asio::buffer(cbuf.data(), n), asio::redirect_error(kAwait, ec));
    if (ec) break;
    n = co_await up.async_read_some(asio::buffer(ubuf), asio::redirect_error(kAwait, ec));
    if (ec) break;
    co_await asio::async_write(client, asio::buffer(ubuf.data(), n), asio::redirect_error(kAwait, ec));
    if (ec) break;
  }
}

asio::awaitable<void, Executor> AcceptAll(Acceptor& acceptor, int upstream_port) {
  for (;;) {
    Socket client = co_await acceptor.async_accept(kAwait);
    asio::co_spawn(acceptor.get_executor(), Relay(std::move(client), upstream_port), asio::detached);
  }
}

void RunAsio(int lfd, int upstream_port) {
  asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  Acceptor acceptor(io, asio::ip::tcp::v4(), lfd);
  asio::co_spawn(io, AcceptAll(acceptor, upstream_port), asio::detached);
  io.run();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string_view mode = argc == 4 ? argv[1] : "";
  if (mode != "epoll" && mode != "uring" && mode != "asio") {
    std::fprintf(stderr, "usage: floor_proxy epoll|uring|asio LISTEN_PORT UPSTREAM_PORT\n");
    return 2;
  }
  const int lfd = Listen(std::atoi(argv[2]));
  if (mode == "epoll") {
    RunEpoll(lfd, std::atoi(argv[3]));
  } else if (mode == "uring") {
    RunUring(lfd, std::atoi(argv[3]));
  } else {
    RunAsio(lfd, std::atoi(argv[3]));
  }
}
