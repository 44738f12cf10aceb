#include "sink/backoff.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace meshlog::sink {

namespace {
double DefaultRandom01() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}
}  // namespace

Backoff::Backoff(BackoffConfig config, Random01 random, Clock clock)
    : config_(config),
      random_(random ? std::move(random) : Random01(DefaultRandom01)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {}

std::chrono::milliseconds Backoff::nextDelay(std::optional<std::chrono::milliseconds> server_hint) {
  if (attempts_ == 0) first_failure_ = clock_();
  const double initial = static_cast<double>(config_.initial.count());
  const double cap = static_cast<double>(config_.max.count());
  // Exponent capped so the power cannot overflow; min() caps the base at `max`.
  const double base = std::min(cap, initial * std::pow(config_.multiplier, std::min(attempts_, 64)));
  const double jitter = std::clamp(config_.jitter, 0.0, 1.0);
  const double r = std::clamp(random_(), 0.0, 1.0);
  const double delay = base * (1.0 - jitter + 2.0 * jitter * r);
  ++attempts_;
  auto d = std::chrono::milliseconds(static_cast<int64_t>(std::llround(delay)));
  if (server_hint && *server_hint > d) d = *server_hint;
  return d;
}

bool Backoff::exhausted() const {
  if (config_.max_elapsed.count() <= 0 || attempts_ == 0) return false;
  return clock_() - first_failure_ > config_.max_elapsed;
}

void Backoff::reset() { attempts_ = 0; }

}  // namespace meshlog::sink
