// File: demo_app.h
//
// DemoApp: the tiny upstream application behind `meshlog demo-app`, used by the demo and by the
// integration tests so they need nothing else. An HTTP/1.1 server (keep-alive) and a TCP echo.
//
// HTTP routes (any method):
//   /status/NNN      -> status NNN, body "NNN\n"
//   /delay/MS        -> waits MS milliseconds, then 200
//   /bytes/N         -> 200 with N bytes of 'x' (Content-Length)
//   /chunked         -> 200, chunked body "hello\n" "world\n" with trailer "x-checksum: 42"
//   /eof             -> 200 without Content-Length, body "until-close\n", then the connection closes
//   /hang            -> reads the request and never answers
//   Upgrade: websocket on any path -> 101, then echoes raw bytes (a tunnel test, no WS framing)
//   anything else    -> 200, body "<name> <METHOD> <target> body=<n> request-id=<x-request-id>\n"
//                       (POST bodies are counted, not echoed)
// TCP: echoes every byte; half-close is echoed as half-close.
//
// Example:
//   DemoApp app({.http_address = "127.0.0.1:0", .tcp_address = "127.0.0.1:0"});
//   std::string err = app.Start();   // "" on success
//   uint16_t port = app.http_port();
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace meshlog::proxy {

class DemoApp {
 public:
  struct Options {
    std::string http_address;  // "" = no HTTP server
    std::string tcp_address;   // "" = no TCP echo
    std::string name = "demo-app";
  };
  explicit DemoApp(Options options);
  ~DemoApp();
  std::string Start();
  void Stop();
  uint16_t http_port() const;
  uint16_t tcp_port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshlog::proxy
