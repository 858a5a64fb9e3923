#include "c2c/relay/server/commit_batcher.hpp"

namespace c2c::relay::server {

CommitBatcher::CommitBatcher(Store& store) : store_(store), thread_([this] { run(); }) {}

CommitBatcher::~CommitBatcher() {
  shutdown();
}

void CommitBatcher::submit(Send send) {
  {
    std::lock_guard lock(mu_);
    if (!stopped_) {
      queue_.push_back(std::move(send));
      cv_.notify_one();
      return;
    }
  }
  std::deque<Send> one;
  one.push_back(std::move(send));
  flush(one);
}

void CommitBatcher::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping and drained
    std::deque<Send> batch;
    batch.swap(queue_);
    lock.unlock();
    flush(batch);
    lock.lock();
  }
  stopped_ = true;
}

void CommitBatcher::flush(std::deque<Send>& batch) {
  // Every write of every queued answer was issued before it was queued, hence before this call.
  const auto committed = store_.commit();
  {
    std::lock_guard lock(mu_);
    ++stats_.commits;
    stats_.answers += batch.size();
  }
  for (auto& send : batch) send(committed);
}

void CommitBatcher::shutdown() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

CommitBatcher::Stats CommitBatcher::stats() {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace c2c::relay::server
