#pragma once
// What the operator dashboard shows besides the store's state (docs/relay-server.md
// "Dashboard"): recent deliveries as metadata (who, to whom, how many bytes; never contents),
// a per-second message count for the last minutes, GC runs and failed requests.
// Bounded ring buffers under one mutex; recording costs a lock and a small copy.

#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "c2c/core/clock.hpp"

namespace c2c::relay::server {

struct DeliveryEvent {
  double ts = 0;
  std::string kind;  // "send", "send_all", "send_room", "poll", "stream"
  std::string from;  // sender alias ("" for polls and streams)
  std::string to;    // recipient alias, "#room" for rooms, the polling alias, or the node id a
                     // stream frame went to
  size_t bytes = 0;  // content size (sum for polls and frames)
  size_t count = 1;  // messages: recipients of a fan-out, messages drained by a poll or in a frame
};

struct GcEvent {
  double ts = 0;
  size_t expired = 0;
  int64_t pruned = 0;
  std::string error;  // "" when the run succeeded
};

struct ErrorEvent {
  double ts = 0;
  std::string route;
  int status = 0;
  std::string error_code;
};

class Activity {
 public:
  static constexpr size_t kDeliveries = 50;
  static constexpr size_t kGcRuns = 20;
  static constexpr size_t kErrors = 50;
  static constexpr size_t kSeconds = 120;  // per-second message counts kept

  explicit Activity(const Clock& clock) : clock_(clock), started_(clock.now()) {}

  void delivery(DeliveryEvent e);  // ts filled in when 0
  void gc(GcEvent e);
  void error(ErrorEvent e);
  // A receive-stream frame answered (docs/relay-server.md, "Receive stream"): counted always,
  // listed as a "stream" delivery when it carried messages.
  void stream_frame(const std::string& node_id, size_t messages, size_t receipts, size_t bytes);
  // Delivery receipts queued by POST /receipts and handed out by POST /receipts/fetch.
  void receipts(size_t accepted, size_t fetched);

  struct Snapshot {
    double started_at = 0;
    double now = 0;
    uint64_t messages_sent = 0;      // accepted by send / send_all / send_room (per recipient)
    uint64_t messages_polled = 0;    // handed out by poll_inbox
    uint64_t stream_frames = 0;      // receive-stream frames answered (empty ones included)
    uint64_t stream_messages = 0;    // messages pushed in those frames
    uint64_t stream_receipts = 0;    // receipts pushed in those frames
    uint64_t receipts_accepted = 0;  // queued by POST /receipts
    uint64_t receipts_fetched = 0;   // handed out by POST /receipts/fetch
    uint64_t gc_runs = 0;
    uint64_t errors = 0;                    // requests answered 4xx/5xx
    std::vector<uint64_t> per_second;       // messages sent in each of the last kSeconds seconds
    std::vector<DeliveryEvent> deliveries;  // newest first
    std::vector<GcEvent> gc_runs_recent;    // newest first
    std::vector<ErrorEvent> errors_recent;  // newest first
  };
  Snapshot snapshot() const;

 private:
  void advance(int64_t second);  // caller holds mu_

  const Clock& clock_;
  const double started_;
  mutable std::mutex mu_;
  std::deque<DeliveryEvent> deliveries_;
  std::deque<GcEvent> gc_;
  std::deque<ErrorEvent> errors_;
  std::array<uint64_t, kSeconds> buckets_{};
  int64_t head_second_ = 0;  // the second buckets_[head_second_ % kSeconds] counts
  uint64_t sent_ = 0, polled_ = 0, gc_runs_ = 0, errors_total_ = 0;
  uint64_t stream_frames_ = 0, stream_messages_ = 0, stream_receipts_ = 0;
  uint64_t receipts_accepted_ = 0, receipts_fetched_ = 0;
};

}  // namespace c2c::relay::server
