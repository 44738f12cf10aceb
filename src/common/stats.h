// File: stats.h
//
// Counters and gauges declared once as X-macro lists (after Envoy's stats macros), so every
// failure path increments a named counter and the Prometheus exposition cannot drift from the
// struct. All operations are lock-free (relaxed atomics).
//
// Example:
//   #define MY_SINK_STATS(COUNTER, GAUGE) COUNTER(written) COUNTER(dropped) GAUGE(queued)
//   struct MySinkStats { MY_SINK_STATS(MESHLOG_DECLARE_COUNTER, MESHLOG_DECLARE_GAUGE) };
//   MySinkStats s;
//   s.written.inc();
//   s.queued.set(3);
//   // Visit every stat by name (for /metrics): `stats` and `visit` must be in scope.
//   const MySinkStats& stats = s;
//   auto visit = [&](std::string_view name, meshlog::StatKind kind, double value) { ... };
//   MY_SINK_STATS(MESHLOG_VISIT_STAT_COUNTER, MESHLOG_VISIT_STAT_GAUGE)
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace meshlog {

class Counter {
 public:
  void inc(uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void set(int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(int64_t n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  void sub(int64_t n) noexcept { value_.fetch_sub(n, std::memory_order_relaxed); }
  int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

enum class StatKind { kCounter, kGauge };

}  // namespace meshlog

#define MESHLOG_DECLARE_COUNTER(name) ::meshlog::Counter name;
#define MESHLOG_DECLARE_GAUGE(name) ::meshlog::Gauge name;

// Helpers to iterate over a stats struct: the visitor is called as
// visitor(std::string_view name, ::meshlog::StatKind kind, int64_t/uint64_t value).
#define MESHLOG_VISIT_STAT_COUNTER(name) visit(#name, ::meshlog::StatKind::kCounter, static_cast<double>(stats.name.value()));
#define MESHLOG_VISIT_STAT_GAUGE(name) visit(#name, ::meshlog::StatKind::kGauge, static_cast<double>(stats.name.value()));
