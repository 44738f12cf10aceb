#include "sink/backoff.h"

#include <gtest/gtest.h>

namespace meshlog::sink {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, GrowsExponentiallyAndCapsWithoutJitter) {
  Backoff b(BackoffConfig{.initial = milliseconds(100), .max = milliseconds(1000), .multiplier = 2, .jitter = 0});
  EXPECT_EQ(b.nextDelay(), milliseconds(100));
  EXPECT_EQ(b.nextDelay(), milliseconds(200));
  EXPECT_EQ(b.nextDelay(), milliseconds(400));
  EXPECT_EQ(b.nextDelay(), milliseconds(800));
  EXPECT_EQ(b.nextDelay(), milliseconds(1000));
  EXPECT_EQ(b.nextDelay(), milliseconds(1000));
  for (int i = 0; i < 200; ++i) b.nextDelay();  // no overflow after many attempts
  EXPECT_EQ(b.nextDelay(), milliseconds(1000));
  b.reset();
  EXPECT_EQ(b.nextDelay(), milliseconds(100));
}

TEST(Backoff, JitterSpansTheConfiguredRange) {
  double r = 0;
  BackoffConfig c{.initial = milliseconds(1000), .max = milliseconds(60000), .multiplier = 2, .jitter = 0.5};
  Backoff low(c, [&] { return r; });
  r = 0.0;
  EXPECT_EQ(low.nextDelay(), milliseconds(500));
  r = 0.999999;
  EXPECT_EQ(low.nextDelay(), milliseconds(3000));  // base 2000 * 1.5
  r = 0.5;
  EXPECT_EQ(low.nextDelay(), milliseconds(4000));  // base 4000, no offset
}

TEST(Backoff, DefaultRandomStaysWithinBounds) {
  Backoff b(BackoffConfig{.initial = milliseconds(1000), .max = milliseconds(1000), .jitter = 0.2});
  bool differs = false;
  milliseconds first = b.nextDelay();
  for (int i = 0; i < 100; ++i) {
    auto d = b.nextDelay();
    EXPECT_GE(d, milliseconds(800));
    EXPECT_LE(d, milliseconds(1200));
    differs |= d != first;
  }
  EXPECT_TRUE(differs);
}

TEST(Backoff, ServerHintIsALowerBound) {
  Backoff b(BackoffConfig{.initial = milliseconds(100), .jitter = 0});
  EXPECT_EQ(b.nextDelay(milliseconds(5000)), milliseconds(5000));
  EXPECT_EQ(b.nextDelay(milliseconds(10)), milliseconds(200));
}

TEST(Backoff, ExhaustedAfterMaxElapsedFromFirstFailure) {
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  Backoff b(BackoffConfig{.initial = milliseconds(100), .max_elapsed = milliseconds(1000)}, {}, [&] { return now; });
  EXPECT_FALSE(b.exhausted());
  b.nextDelay();
  now += milliseconds(1000);
  EXPECT_FALSE(b.exhausted());
  now += milliseconds(1);
  EXPECT_TRUE(b.exhausted());
  b.reset();
  EXPECT_FALSE(b.exhausted());
}

TEST(Backoff, NeverExhaustedWhenMaxElapsedIsZero) {
  auto now = std::chrono::steady_clock::time_point{};
  Backoff b(BackoffConfig{}, {}, [&] { return now; });
  b.nextDelay();
  now += std::chrono::hours(1000);
  EXPECT_FALSE(b.exhausted());
}

}  // namespace
}  // namespace meshlog::sink
