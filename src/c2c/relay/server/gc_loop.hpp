#pragma once
// The --gc-interval loop: runs RelayService::gc() every N seconds on its own thread until stopped.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace c2c::relay::server {

class GcLoop {
 public:
  // `tick` runs one collection (service gc + store commit) and is called every interval_seconds.
  GcLoop(double interval_seconds, std::function<void()> tick);
  ~GcLoop();  // stop()
  GcLoop(const GcLoop&) = delete;
  GcLoop& operator=(const GcLoop&) = delete;

  void stop();  // wakes the thread and joins it; idempotent

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace c2c::relay::server
