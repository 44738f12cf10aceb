// File: backoff.h
//
// Exponential backoff with jitter for reconnects (TCP) and retries (OTLP), with the random source
// and the clock injectable so tests are deterministic.
//
// The n-th delay (n = 0, 1, ...) is base_n = min(initial * multiplier^n, max), then jittered
// uniformly within [base_n * (1 - jitter), base_n * (1 + jitter)] (the OpenTelemetry collector's
// "randomization factor"). A server-requested delay (gRPC RetryInfo, HTTP Retry-After) is a lower
// bound: nextDelay(hint) returns max(hint, jittered backoff). exhausted() reports that the time
// since the first failure exceeds max_elapsed (0 = retry forever).
//
// Example:
//   Backoff b(BackoffConfig{.initial = 100ms, .max = 5s});
//   auto d1 = b.nextDelay();   // ~100 ms (50..150)
//   auto d2 = b.nextDelay();   // ~200 ms
//   b.reset();                 // after a success
#pragma once

#include <chrono>
#include <functional>
#include <optional>

namespace meshlog::sink {

struct BackoffConfig {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{30000};
  double multiplier = 2.0;
  double jitter = 0.5;                   // 0 = none; 0.5 = +-50%
  std::chrono::milliseconds max_elapsed{0};  // 0 = never give up
};

class Backoff {
 public:
  using Random01 = std::function<double()>;  // uniform in [0, 1)
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit Backoff(BackoffConfig config, Random01 random = {}, Clock clock = {});

  // The delay before the next attempt; advances the attempt counter.
  std::chrono::milliseconds nextDelay(std::optional<std::chrono::milliseconds> server_hint = {});
  // True once max_elapsed has passed since the first nextDelay() after construction/reset().
  bool exhausted() const;
  void reset();
  int attempts() const { return attempts_; }
  const BackoffConfig& config() const { return config_; }

 private:
  BackoffConfig config_;
  Random01 random_;
  Clock clock_;
  int attempts_ = 0;
  std::chrono::steady_clock::time_point first_failure_{};
};

}  // namespace meshlog::sink
