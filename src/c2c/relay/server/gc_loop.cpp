#include "c2c/relay/server/gc_loop.hpp"

#include <chrono>

namespace c2c::relay::server {

GcLoop::GcLoop(double interval_seconds, std::function<void()> tick) {
  const auto interval = std::chrono::duration<double>(interval_seconds);
  thread_ = std::thread([this, interval, tick = std::move(tick)] {
    std::unique_lock lock(mu_);
    for (;;) {
      if (cv_.wait_for(lock, interval, [this] { return stopping_; })) return;
      lock.unlock();
      tick();
      lock.lock();
    }
  });
}

GcLoop::~GcLoop() {
  stop();
}

void GcLoop::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace c2c::relay::server
