#include "c2c/relay/server/activity.hpp"

#include <algorithm>
#include <cmath>

namespace c2c::relay::server {

namespace {
template <typename T>
void push_bounded(std::deque<T>& q, T e, size_t cap) {
  q.push_front(std::move(e));
  while (q.size() > cap) q.pop_back();
}
}  // namespace

void Activity::advance(int64_t second) {
  if (head_second_ == 0 || second - head_second_ >= static_cast<int64_t>(kSeconds)) {
    buckets_.fill(0);
    head_second_ = second;
    return;
  }
  while (head_second_ < second) {
    ++head_second_;
    buckets_[static_cast<size_t>(head_second_ % kSeconds)] = 0;
  }
}

void Activity::delivery(DeliveryEvent e) {
  if (e.ts == 0) e.ts = clock_.now();
  std::lock_guard lock(mu_);
  const auto second = static_cast<int64_t>(std::floor(e.ts));
  if (e.kind == "poll") {
    polled_ += e.count;
  } else if (e.kind == "stream") {
    // Counted by stream_frame(); a hand-out, not a message accepted.
  } else {
    sent_ += e.count;
    advance(std::max(second, head_second_));
    if (second > head_second_ - static_cast<int64_t>(kSeconds)) {
      buckets_[static_cast<size_t>(second % static_cast<int64_t>(kSeconds))] += e.count;
    }
  }
  push_bounded(deliveries_, std::move(e), kDeliveries);
}

void Activity::stream_frame(const std::string& node_id, size_t messages, size_t receipts,
                            size_t bytes) {
  {
    std::lock_guard lock(mu_);
    ++stream_frames_;
    stream_messages_ += messages;
    stream_receipts_ += receipts;
  }
  if (messages > 0) delivery({0, "stream", "", node_id, bytes, messages});
}

void Activity::receipts(size_t accepted, size_t fetched) {
  std::lock_guard lock(mu_);
  receipts_accepted_ += accepted;
  receipts_fetched_ += fetched;
}

void Activity::gc(GcEvent e) {
  if (e.ts == 0) e.ts = clock_.now();
  std::lock_guard lock(mu_);
  ++gc_runs_;
  push_bounded(gc_, std::move(e), kGcRuns);
}

void Activity::error(ErrorEvent e) {
  if (e.ts == 0) e.ts = clock_.now();
  std::lock_guard lock(mu_);
  ++errors_total_;
  push_bounded(errors_, std::move(e), kErrors);
}

Activity::Snapshot Activity::snapshot() const {
  Snapshot s;
  s.now = clock_.now();
  s.started_at = started_;
  const auto now_second = static_cast<int64_t>(std::floor(s.now));
  std::lock_guard lock(mu_);
  s.messages_sent = sent_;
  s.messages_polled = polled_;
  s.stream_frames = stream_frames_;
  s.stream_messages = stream_messages_;
  s.stream_receipts = stream_receipts_;
  s.receipts_accepted = receipts_accepted_;
  s.receipts_fetched = receipts_fetched_;
  s.gc_runs = gc_runs_;
  s.errors = errors_total_;
  s.per_second.assign(kSeconds, 0);
  // Oldest first, ending with the current second; buckets older than the window read 0.
  for (size_t i = 0; i < kSeconds; ++i) {
    const int64_t second = now_second - static_cast<int64_t>(kSeconds - 1 - i);
    if (second <= head_second_ && second > head_second_ - static_cast<int64_t>(kSeconds)) {
      s.per_second[i] = buckets_[static_cast<size_t>(second % static_cast<int64_t>(kSeconds))];
    }
  }
  s.deliveries.assign(deliveries_.begin(), deliveries_.end());
  s.gc_runs_recent.assign(gc_.begin(), gc_.end());
  s.errors_recent.assign(errors_.begin(), errors_.end());
  return s;
}

}  // namespace c2c::relay::server
