#include "proxy/admin.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <map>

#include "proxy/internal.h"

namespace meshlog::proxy {

namespace {
namespace bhttp = boost::beast::http;
using asio::redirect_error;
using asio::use_awaitable;

std::string EscapeLabel(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string FormatValue(double v) {
  char buf[64];
  if (v == static_cast<double>(static_cast<int64_t>(v))) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

}  // namespace

void RenderPrometheus(std::string& out, const Server& server, const std::vector<std::shared_ptr<sink::Sink>>& sinks,
                      const ConfigStats* config) {
  // family name -> (type, sample lines), rendered in name order with one TYPE line per family.
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> families;
  auto add = [&](const std::string& family, StatKind kind, const std::string& labels, double value) {
    auto& f = families[family];
    f.first = kind == StatKind::kCounter ? "counter" : "gauge";
    f.second.push_back(family + (labels.empty() ? "" : "{" + labels + "}") + " " + FormatValue(value));
  };
  server.VisitListenerStats([&](std::string_view listener, std::string_view stat, StatKind kind, double value) {
    std::string family = "meshlog_listener_" + std::string(stat);
    if (kind == StatKind::kCounter) family += "_total";
    add(family, kind, "listener=\"" + EscapeLabel(listener) + "\"", value);
  });
  for (const auto& sink : sinks) {
    if (!sink) continue;
    const std::string labels = "backend=\"" + EscapeLabel(sink->type()) + "\",destination=\"" +
                               EscapeLabel(sink->destination()) + "\"";
    sink->visitStats([&](std::string_view stat, StatKind kind, double value) {
      std::string family = "meshlog_access_log_" + std::string(stat);
      if (kind == StatKind::kCounter) family += "_total";
      add(family, kind, labels, value);
    });
  }
  if (config != nullptr) {
    const ConfigStats& stats = *config;
    auto visit = [&](std::string_view stat, StatKind kind, double value) {
      std::string family = "meshlog_config_" + std::string(stat);
      if (kind == StatKind::kCounter) family += "_total";
      add(family, kind, "", value);
    };
    MESHLOG_CONFIG_STATS(MESHLOG_VISIT_STAT_COUNTER, MESHLOG_VISIT_STAT_GAUGE)
  }
  for (const auto& [name, f] : families) {
    out += "# TYPE " + name + " " + f.first + "\n";
    for (const auto& line : f.second) {
      out += line;
      out += '\n';
    }
  }
}

struct AdminServer::Impl {
  std::string address;
  AdminCallbacks callbacks;
  asio::io_context io{1};
  std::shared_ptr<tcp::acceptor> acceptor;
  std::thread thread;

  asio::awaitable<void> Serve(tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      error_code ec;
      co_await bhttp::async_read(socket, buffer, req, redirect_error(use_awaitable, ec));
      if (ec) co_return;
      bhttp::response<bhttp::string_body> res;
      res.version(11);
      res.keep_alive(req.keep_alive());
      res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
      std::string target(req.target());
      if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
      const bool get = req.method() == bhttp::verb::get || req.method() == bhttp::verb::head;
      const bool post = req.method() == bhttp::verb::post;
      auto reply = [&](unsigned status, std::string body) {
        res.result(status);
        res.body() = std::move(body);
      };
      if (target == "/ready") {
        if (!get) reply(405, "method not allowed\n");
        else if (!callbacks.ready || callbacks.ready()) reply(200, "LIVE\n");
        else reply(503, "NOT READY\n");
      } else if (target == "/metrics") {
        if (!get) {
          reply(405, "method not allowed\n");
        } else {
          std::string body;
          if (callbacks.metrics) callbacks.metrics(body);
          reply(200, std::move(body));
          res.set(bhttp::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
        }
      } else if (target == "/config_dump") {
        if (!get) {
          reply(405, "method not allowed\n");
        } else {
          reply(200, callbacks.config_dump ? callbacks.config_dump() : "{}");
          res.set(bhttp::field::content_type, "application/json");
        }
      } else if (target == "/reopen_logs") {
        if (!post) {
          reply(405, "method not allowed: use POST\n");
        } else {
          if (callbacks.reopen_logs) callbacks.reopen_logs();
          reply(200, "OK\n");
        }
      } else {
        reply(404, "not found\n");
      }
      res.prepare_payload();
      co_await bhttp::async_write(socket, res, redirect_error(use_awaitable, ec));
      if (ec || !res.keep_alive()) co_return;
    }
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      error_code ec;
      tcp::socket s = co_await acceptor->async_accept(redirect_error(use_awaitable, ec));
      if (ec) {
        if (!acceptor->is_open()) co_return;
        continue;
      }
      asio::co_spawn(io, Serve(std::move(s)), asio::detached);
    }
  }
};

AdminServer::AdminServer(std::string address, AdminCallbacks callbacks) : impl_(std::make_unique<Impl>()) {
  impl_->address = std::move(address);
  impl_->callbacks = std::move(callbacks);
}

AdminServer::~AdminServer() { Stop(); }

std::string AdminServer::Start() {
  auto ep = ParseEndpoint(impl_->address);
  if (!ep) return "admin: invalid address '" + impl_->address + "'";
  if (!ep->address().is_loopback()) return "admin: " + impl_->address + " is not a loopback address";
  try {
    auto acc = std::make_shared<tcp::acceptor>(impl_->io);
    acc->open(ep->protocol());
    acc->set_option(asio::socket_base::reuse_address(true));
    acc->bind(*ep);
    acc->listen();
    impl_->acceptor = std::move(acc);
  } catch (const boost::system::system_error& e) {
    return "admin: cannot listen on " + impl_->address + ": " + e.code().message();
  }
  asio::co_spawn(impl_->io, impl_->Accept(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return "";
}

void AdminServer::Stop() {
  if (!impl_) return;
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

uint16_t AdminServer::port() const {
  return impl_->acceptor ? impl_->acceptor->local_endpoint().port() : 0;
}

}  // namespace meshlog::proxy
