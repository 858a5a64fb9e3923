#include "c2c/relay/server/stream_hub.hpp"

#include <utility>

namespace c2c::relay::server {

StreamHub::StreamHub() : thread_([this] { run(); }) {}

StreamHub::~StreamHub() {
  shutdown();
}

void StreamHub::wait(const std::string& node_id, Clock::time_point deadline, Attempt attempt) {
  // Long waits end on a whole second, so the waits ending in one second share one wake-up of
  // the hub thread (10,000 idle streams re-poll about 33 times a second).
  if (deadline - Clock::now() >= kRoundedWait) {
    deadline =
        Clock::time_point(std::chrono::ceil<std::chrono::seconds>(deadline.time_since_epoch()));
  }
  bool tried = false;
  {
    std::lock_guard lock(mu_);
    // A notify during the first try (below) is remembered for it (inline_notified_): the hub
    // thread may run meanwhile and must not consume the mark before the waiter is listed.
    if (!stop_) {
      inline_trying_.insert(node_id);
      tried = true;
    }
  }
  // The first try runs on the caller's thread: a frame that is ready goes out without a hop to
  // the hub thread, and a stream that starts waiting costs the hub no wake-up. A wait that is
  // already over (wait 0) answers here too, whatever it finds.
  const bool answered = tried && attempt(deadline <= Clock::now());
  std::unique_lock lock(mu_);
  bool missed = false;
  if (tried) {
    inline_trying_.erase(inline_trying_.find(node_id));
    missed = inline_notified_.contains(node_id);
    if (!inline_trying_.contains(node_id)) inline_notified_.erase(node_id);
  }
  if (answered) return;
  if (stop_) {
    lock.unlock();
    attempt(true);
    return;
  }
  auto w = std::make_shared<Waiter>();
  w->node_id = node_id;
  w->attempt = std::move(attempt);
  by_node_[node_id].push_back(w);
  w->deadline = deadlines_.emplace(deadline, w);
  ++waiting_;
  // The hub must look now if the node was notified during the try (the write may be newer than
  // what the try read), or re-arm if this deadline comes before the one it sleeps until.
  if (missed) pending_.insert(node_id);
  if (missed || w->deadline == deadlines_.begin()) cv_.notify_one();
}

void StreamHub::notify(const std::vector<std::string>& node_ids) {
  if (node_ids.empty()) return;
  std::lock_guard lock(mu_);
  // A node counts when a waiter is listed for it, or when one of its waiters is trying right now
  // (outside the lock) with a store read that may be older than this write: it then tries again.
  // Nodes nobody streams for (every write on a relay whose connectors poll) cost no wake-up of
  // the hub thread.
  bool any = false;
  for (const auto& n : node_ids) {
    if (inline_trying_.contains(n)) inline_notified_.insert(n);
    if (by_node_.contains(n) || trying_.contains(n)) {
      pending_.insert(n);
      any = true;
    }
  }
  if (any) cv_.notify_one();
}

void StreamHub::notify_all() {
  std::lock_guard lock(mu_);
  for (const auto& [node, waiters] : by_node_) pending_.insert(node);
  for (const auto& node : inline_trying_) inline_notified_.insert(node);
  cv_.notify_one();
}

size_t StreamHub::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

void StreamHub::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void StreamHub::run() {
  std::unique_lock lock(mu_);
  while (true) {
    if (!stop_ && pending_.empty()) {
      if (deadlines_.empty()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, deadlines_.begin()->first);
      }
    }
    // Collect the work under the lock, run the attempts without it (they read the store and
    // may answer inline), then put back those that found nothing.
    std::vector<std::pair<WaiterPtr, bool>> work;  // waiter, final
    const auto now = Clock::now();
    while (!deadlines_.empty() && (stop_ || deadlines_.begin()->first <= now)) {
      WaiterPtr w = std::move(deadlines_.begin()->second);
      deadlines_.erase(deadlines_.begin());
      if (!w->done) {
        w->done = true;
        work.emplace_back(std::move(w), true);
      }
    }
    for (const auto& node : pending_) {
      auto it = by_node_.find(node);
      if (it == by_node_.end()) continue;
      for (auto& w : it->second) {
        if (!w->done) {
          trying_.insert(w->node_id);
          work.emplace_back(std::move(w), false);
        }
      }
      by_node_.erase(it);
    }
    pending_.clear();
    // Finished waiters leave their node lists lazily; drop those lists' dead entries here.
    for (const auto& [w, final] : work) {
      if (!final) continue;
      auto it = by_node_.find(w->node_id);
      if (it == by_node_.end()) continue;
      std::erase_if(it->second, [](const WaiterPtr& p) { return p->done; });
      if (it->second.empty()) by_node_.erase(it);
    }
    const bool stopping = stop_;
    lock.unlock();
    std::vector<WaiterPtr> again;
    size_t answered = 0;
    for (auto& [w, final] : work) {
      if (w->attempt(final || stopping)) {
        w->done = true;
        w->attempt = nullptr;  // releases the responder now
        ++answered;
      } else {
        again.push_back(w);
      }
    }
    lock.lock();
    waiting_ -= answered;
    for (auto& [w, final] : work) {
      if (final || !w) continue;
      trying_.erase(trying_.find(w->node_id));
      if (w->done) deadlines_.erase(w->deadline);  // answered early
    }
    for (auto& w : again) by_node_[w->node_id].push_back(std::move(w));
    if (stopping && deadlines_.empty() && again.empty()) return;
  }
}

}  // namespace c2c::relay::server
