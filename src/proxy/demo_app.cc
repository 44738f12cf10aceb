#include "proxy/demo_app.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <thread>

#include "proxy/internal.h"

namespace meshlog::proxy {

namespace {
namespace bhttp = boost::beast::http;
using asio::redirect_error;
using asio::use_awaitable;

asio::awaitable<void> WriteRaw(tcp::socket& s, std::string_view data) {
  error_code ec;
  co_await asio::async_write(s, asio::buffer(data.data(), data.size()), redirect_error(use_awaitable, ec));
}

asio::awaitable<void> Echo(tcp::socket s) {
  std::array<char, 16384> buf;
  for (;;) {
    error_code ec;
    const size_t n = co_await s.async_read_some(asio::buffer(buf), redirect_error(use_awaitable, ec));
    if (ec) {
      if (ec == asio::error::eof) s.shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
    co_await asio::async_write(s, asio::buffer(buf.data(), n), redirect_error(use_awaitable, ec));
    if (ec) co_return;
  }
}

uint64_t ParseNumber(std::string_view s) {
  uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

asio::awaitable<void> ServeHttp(tcp::socket s, std::string name) {
  boost::beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    error_code ec;
    co_await bhttp::async_read(s, buffer, parser, redirect_error(use_awaitable, ec));
    if (ec) co_return;
    auto& req = parser.get();
    const std::string target(req.target());
    if (req.find(bhttp::field::upgrade) != req.end()) {
      co_await WriteRaw(s, "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n");
      if (buffer.size() > 0) {
        std::string pending(static_cast<const char*>(buffer.data().data()), buffer.size());
        co_await WriteRaw(s, pending);
      }
      co_await Echo(std::move(s));
      co_return;
    }
    if (target == "/hang") {
      asio::steady_timer t(s.get_executor());
      t.expires_after(std::chrono::hours(1));
      co_await t.async_wait(redirect_error(use_awaitable, ec));
      co_return;
    }
    if (target == "/eof") {
      co_await WriteRaw(s, "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nuntil-close\n");
      s.shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
    if (target == "/chunked") {
      co_await WriteRaw(s,
                        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n"
                        "trailer: x-checksum\r\n\r\n6\r\nhello\n\r\n6\r\nworld\n\r\n0\r\nx-checksum: 42\r\n\r\n");
      if (!req.keep_alive()) co_return;
      continue;
    }
    bhttp::response<bhttp::string_body> res;
    res.version(11);
    res.set(bhttp::field::content_type, "text/plain");
    res.set(bhttp::field::server, name);
    unsigned status = 200;
    if (target.rfind("/status/", 0) == 0) {
      status = static_cast<unsigned>(ParseNumber(std::string_view(target).substr(8)));
      res.body() = std::to_string(status) + "\n";
    } else if (target.rfind("/delay/", 0) == 0) {
      asio::steady_timer t(s.get_executor());
      t.expires_after(std::chrono::milliseconds(ParseNumber(std::string_view(target).substr(7))));
      co_await t.async_wait(redirect_error(use_awaitable, ec));
      res.body() = "delayed\n";
    } else if (target.rfind("/bytes/", 0) == 0) {
      res.body().assign(ParseNumber(std::string_view(target).substr(7)), 'x');
    } else {
      std::string rid = "-";
      if (auto it = req.find("x-request-id"); it != req.end()) rid = std::string(it->value());
      res.body() = name + " " + std::string(req.method_string()) + " " + target +
                   " body=" + std::to_string(req.body().size()) + " request-id=" + rid + "\n";
    }
    res.result(status);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    co_await bhttp::async_write(s, res, redirect_error(use_awaitable, ec));
    if (ec || !req.keep_alive()) {
      s.shutdown(tcp::socket::shutdown_send, ec);
      co_return;
    }
  }
}

asio::awaitable<void> AcceptHttp(std::shared_ptr<tcp::acceptor> acc, std::string name, bool http) {
  for (;;) {
    error_code ec;
    tcp::socket s = co_await acc->async_accept(redirect_error(use_awaitable, ec));
    if (ec) {
      if (!acc->is_open()) co_return;
      continue;
    }
    s.set_option(tcp::no_delay(true), ec);
    if (http) {
      asio::co_spawn(acc->get_executor(), ServeHttp(std::move(s), name), asio::detached);
    } else {
      asio::co_spawn(acc->get_executor(), Echo(std::move(s)), asio::detached);
    }
  }
}

}  // namespace

struct DemoApp::Impl {
  Options options;
  asio::io_context io{1};
  std::shared_ptr<tcp::acceptor> http;
  std::shared_ptr<tcp::acceptor> tcp_echo;
  std::thread thread;
};

DemoApp::DemoApp(Options options) : impl_(std::make_unique<Impl>()) { impl_->options = std::move(options); }
DemoApp::~DemoApp() { Stop(); }

std::string DemoApp::Start() {
  auto bind = [&](const std::string& address, std::shared_ptr<tcp::acceptor>& out) -> std::string {
    if (address.empty()) return "";
    auto ep = ParseEndpoint(address);
    if (!ep) return "invalid address '" + address + "'";
    try {
      auto acc = std::make_shared<tcp::acceptor>(impl_->io);
      acc->open(ep->protocol());
      acc->set_option(asio::socket_base::reuse_address(true));
      acc->bind(*ep);
      acc->listen();
      out = acc;
    } catch (const boost::system::system_error& e) {
      return "cannot listen on " + address + ": " + e.code().message();
    }
    return "";
  };
  if (auto err = bind(impl_->options.http_address, impl_->http); !err.empty()) return err;
  if (auto err = bind(impl_->options.tcp_address, impl_->tcp_echo); !err.empty()) return err;
  if (impl_->http) asio::co_spawn(impl_->io, AcceptHttp(impl_->http, impl_->options.name, true), asio::detached);
  if (impl_->tcp_echo) {
    asio::co_spawn(impl_->io, AcceptHttp(impl_->tcp_echo, impl_->options.name, false), asio::detached);
  }
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return "";
}

void DemoApp::Stop() {
  if (!impl_) return;
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t DemoApp::http_port() const { return impl_->http ? impl_->http->local_endpoint().port() : 0; }
uint16_t DemoApp::tcp_port() const { return impl_->tcp_echo ? impl_->tcp_echo->local_endpoint().port() : 0; }

}  // namespace meshlog::proxy
