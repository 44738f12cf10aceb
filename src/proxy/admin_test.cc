#include "proxy/admin.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "proxy/demo_app.h"
#include "proxy/lifecycle.h"
#include "proxy/test_util.h"
#include "sink/access_log_impl.h"
#include "sink/file_sink.h"

namespace meshlog::proxy {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("meshlog_admin_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    app_ = std::make_unique<DemoApp>(DemoApp::Options{.http_address = "127.0.0.1:0", .tcp_address = ""});
    ASSERT_EQ(app_->Start(), "");
    sink::FileSinkOptions o;
    o.flush_interval = 60s;
    file_ = registry_.Get((dir_ / "access.log").string(), o);
    ListenerConfig l;
    l.name = "inbound:web";
    l.bind_address = "127.0.0.1:0";
    l.protocol = ListenerProtocol::kHttp;
    l.endpoints = {{.address = "127.0.0.1:" + std::to_string(app_->http_port()), .host_name = ""}};
    l.access_logs = {std::make_shared<sink::FormattedAccessLog>(std::make_shared<testing::TinyFormatter>(), file_)};
    server_ = std::make_unique<Server>(Server::Options{.workers = 1});
    ASSERT_EQ(server_->Apply({l}), "");
    server_->Start();
    port_ = server_->Port("inbound:web");
  }
  void TearDown() override {
    server_->Stop();
    app_->Stop();
    fs::remove_all(dir_);
  }
  std::string Curl(const std::string& args) { return testing::Run("curl -s " + args); }

  fs::path dir_;
  std::unique_ptr<DemoApp> app_;
  sink::FileSinkRegistry registry_;
  std::shared_ptr<sink::FileSink> file_;
  std::unique_ptr<Server> server_;
  uint16_t port_ = 0;
};

TEST_F(AdminTest, EndpointsServeReadinessMetricsConfigAndReopen) {
  bool ready = false;
  int reopened = 0;
  AdminServer admin("127.0.0.1:0", {.ready = [&] { return ready; },
                                    .metrics = [&](std::string& out) {
                                      RenderPrometheus(out, *server_, {file_});
                                    },
                                    .config_dump = [] { return std::string(R"({"dataplane":"web"})"); },
                                    .reopen_logs = [&] {
                                      ++reopened;
                                      registry_.ReopenAll();
                                    }});
  ASSERT_EQ(admin.Start(), "");
  const std::string base = "http://127.0.0.1:" + std::to_string(admin.port());
  EXPECT_EQ(Curl("-o /dev/null -w '%{http_code}' " + base + "/ready"), "503");
  ready = true;
  EXPECT_EQ(Curl(base + "/ready"), "LIVE\n");

  EXPECT_EQ(testing::HttpExchange(port_, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n").rfind("HTTP/1.1 200", 0), 0u);
  file_->FlushAndWait();
  const std::string metrics = Curl(base + "/metrics");
  EXPECT_NE(metrics.find("# TYPE meshlog_listener_requests_total counter\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("meshlog_listener_requests_total{listener=\"inbound:web\"} 1\n"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("# TYPE meshlog_listener_active_connections gauge\n"), std::string::npos);
  const std::string labels = "{backend=\"file\",destination=\"" + (dir_ / "access.log").string() + "\"}";
  EXPECT_NE(metrics.find("meshlog_access_log_written_total" + labels + " 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("meshlog_access_log_dropped_total" + labels + " 0\n"), std::string::npos);
  EXPECT_NE(metrics.find("meshlog_access_log_queued" + labels + " 0\n"), std::string::npos);

  EXPECT_EQ(Curl(base + "/config_dump"), R"({"dataplane":"web"})");
  EXPECT_EQ(Curl("-o /dev/null -w '%{http_code}' " + base + "/reopen_logs"), "405");
  EXPECT_EQ(reopened, 0);
  EXPECT_EQ(Curl("-X POST " + base + "/reopen_logs"), "OK\n");
  EXPECT_EQ(reopened, 1);
  file_->FlushAndWait();
  EXPECT_EQ(file_->stats().reopens.value(), 1u);
  EXPECT_EQ(Curl("-o /dev/null -w '%{http_code}' " + base + "/nope"), "404");
  admin.Stop();
}

TEST_F(AdminTest, RendersReloadStatsWithoutLabelsOnlyWhenGiven) {
  std::string without;
  RenderPrometheus(without, *server_, {file_});
  EXPECT_EQ(without.find("meshlog_config_"), std::string::npos) << without;

  ConfigStats config;
  config.reloads.inc(3);
  config.reloads_rejected.inc();
  std::string with;
  RenderPrometheus(with, *server_, {file_}, &config);
  EXPECT_NE(with.find("# TYPE meshlog_config_reloads_total counter\nmeshlog_config_reloads_total 3\n"),
            std::string::npos)
      << with;
  EXPECT_NE(with.find("# TYPE meshlog_config_reloads_rejected_total counter\n"
                      "meshlog_config_reloads_rejected_total 1\n"),
            std::string::npos)
      << with;
}

TEST_F(AdminTest, RefusesNonLoopbackAddresses) {
  AdminServer admin("0.0.0.0:0", {});
  EXPECT_NE(admin.Start().find("not a loopback address"), std::string::npos);
}

TEST_F(AdminTest, SignalsReopenReloadAndDrainWithoutLosingRecords) {
  int reopened = 0;
  int reloaded = 0;
  std::thread traffic([&] {
    std::this_thread::sleep_for(300ms);
    ::kill(::getpid(), SIGUSR1);
    std::this_thread::sleep_for(100ms);
    ::kill(::getpid(), SIGHUP);
    std::this_thread::sleep_for(100ms);
    // A slow request in flight when SIGTERM arrives must finish and be logged.
    std::thread slow([&] { testing::HttpExchange(port_, "GET /delay/400 HTTP/1.1\r\nHost: a\r\n\r\n"); });
    std::this_thread::sleep_for(100ms);
    ::kill(::getpid(), SIGTERM);
    slow.join();
  });
  const int rc = RunUntilSignal(*server_, {.drain_timeout = 5s,
                                           .reopen = [&] { ++reopened; },
                                           .reload = [&] { ++reloaded; },
                                           .sinks = [&] { return std::vector<std::shared_ptr<sink::Sink>>{file_}; },
                                           .on_shutdown = {}});
  traffic.join();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(reopened, 1);
  EXPECT_EQ(reloaded, 1);
  std::ifstream in(dir_ / "access.log");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str(), "200 - GET /delay/400\n");  // flushed at shutdown
}

}  // namespace
}  // namespace meshlog::proxy
