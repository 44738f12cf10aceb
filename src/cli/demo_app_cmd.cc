// `meshlog demo-app`: the tiny HTTP app and TCP echo used by the demo and the integration tests
// (see proxy/demo_app.h for the routes). Runs until SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "proxy/demo_app.h"

namespace meshlog::cli {

void AddDemoAppCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("demo-app", "Run the demo HTTP app and/or TCP echo (for the demo and tests)");
  auto http = std::make_shared<std::string>();
  auto tcp = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>("demo-app");
  cmd->add_option("--http", *http, "HTTP listen address, e.g. 127.0.0.1:8080");
  cmd->add_option("--tcp", *tcp, "TCP echo listen address, e.g. 127.0.0.1:9000");
  cmd->add_option("--name", *name, "Name printed in HTTP responses and the Server header");
  cmd->callback([&exit_code, http, tcp, name] {
    if (http->empty() && tcp->empty()) {
      std::fprintf(stderr, "demo-app: give --http and/or --tcp\n");
      exit_code = 2;
      return;
    }
    // Block the stop signals before any thread starts, then wait for one.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    proxy::DemoApp demo({.http_address = *http, .tcp_address = *tcp, .name = *name});
    if (auto err = demo.Start(); !err.empty()) {
      std::fprintf(stderr, "demo-app: %s\n", err.c_str());
      exit_code = 1;
      return;
    }
    if (!http->empty()) std::printf("demo-app %s: HTTP on 127.0.0.1:%u\n", name->c_str(), demo.http_port());
    if (!tcp->empty()) std::printf("demo-app %s: TCP echo on 127.0.0.1:%u\n", name->c_str(), demo.tcp_port());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    demo.Stop();
    exit_code = 0;
  });
}

}  // namespace meshlog::cli
