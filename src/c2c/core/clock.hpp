#pragma once
// Injectable wall clock: every module takes a Clock& so tests move time instead of sleeping.

#include <atomic>
#include <chrono>

namespace c2c {

class Clock {
 public:
  virtual ~Clock() = default;
  // Unix epoch seconds with sub-second precision.
  virtual double now() const = 0;
};

class SystemClock final : public Clock {
 public:
  double now() const override {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
  }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

// A clock that only moves when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(double start = 1'776'730'000.0) : now_(start) {}
  double now() const override { return now_.load(); }
  void set(double t) { now_.store(t); }
  void advance(double seconds) {
    double cur = now_.load();
    while (!now_.compare_exchange_weak(cur, cur + seconds)) {
    }
  }

 private:
  std::atomic<double> now_;
};

}  // namespace c2c
