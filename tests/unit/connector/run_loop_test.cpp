// Loop pacing: backoff with jitter, and a stop that interrupts the sleep promptly.
#include "c2c/connector/run_loop.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <thread>

namespace c2c::connector {
namespace {

TEST(NextDelay, HealthyRoundsUseTheInterval) {
  EXPECT_DOUBLE_EQ(next_delay(30, 0, 0, 0.99), 30);
  EXPECT_DOUBLE_EQ(next_delay(1, 0, 0, 0.0), 1);
}

TEST(NextDelay, FailuresBackOffExponentiallyWithinJitterBounds) {
  // interval 1, default cap 8: 2, 4, 8, 8 ... each scaled into [0.5, 1.0).
  const double expected[] = {2, 4, 8, 8, 8};
  for (int n = 1; n <= 5; ++n) {
    const double lo = next_delay(1, 0, n, 0.0);
    const double hi = next_delay(1, 0, n, 0.999999);
    EXPECT_NEAR(lo, expected[n - 1] * 0.5, 1e-9) << n;
    EXPECT_NEAR(hi, expected[n - 1], 1e-4) << n;
  }
  // interval 30: capped at 240 s; an explicit cap wins.
  EXPECT_NEAR(next_delay(30, 0, 10, 0.999999), 240, 1e-3);
  EXPECT_NEAR(next_delay(30, 60, 10, 0.999999), 60, 1e-3);
  // The cap never goes below the interval.
  EXPECT_NEAR(next_delay(30, 5, 3, 0.999999), 30, 1e-3);
  // Huge failure counts do not overflow.
  EXPECT_LE(next_delay(1, 0, 1'000'000, 0.5), 8);
}

TEST(StopSource, WaitReturnsFalseAfterTheFullDelay) {
  StopSource stop;
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(stop.wait_for(0.05));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(45));
}

TEST(StopSource, RequestStopWakesASleeperPromptly) {
  StopSource stop;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop.request_stop();
  });
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(stop.wait_for(30));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  t.join();
  EXPECT_TRUE(stop.stop_requested());
}

TEST(StopSource, SigtermStopsAndRecordsTheSignal) {
  StopSource stop;
  stop.install_signal_handlers();
  ASSERT_EQ(::raise(SIGTERM), 0);  // would kill the test binary without the handler
  EXPECT_TRUE(stop.stop_requested());
  EXPECT_EQ(stop.signal_number(), SIGTERM);
  EXPECT_TRUE(stop.wait_for(30));  // returns at once
}

}  // namespace
}  // namespace c2c::connector
