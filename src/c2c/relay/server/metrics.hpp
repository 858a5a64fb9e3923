#pragma once
// Prometheus text exposition of the relay: requests by route and status, a latency histogram
// per route, and gauges (leases, queued messages, rooms) sampled at scrape time.
// Recording is lock-free (relaxed atomics in fixed arrays), so it costs little per request.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace c2c::relay::server {

// Connections of the HTTP server in front of the router (net::ServerStats, without net/).
struct ConnectionGauges {
  size_t open = 0;
  uint64_t accepted = 0;
  uint64_t rejected = 0;         // closed at once: over the connection cap
  size_t busy = 0;               // in the middle of a request (never evicted)
  uint64_t rejected_per_ip = 0;  // of the rejected: the client's IP was at its own cap
  uint64_t evicted_idle = 0;     // idle connections closed to make room at the global cap
  uint64_t abandoned = 0;        // clients that closed while their request waited (a long-poll)
};

struct Gauges {
  size_t leases_alive = 0;
  size_t leases_total = 0;
  size_t queued_messages = 0;
  size_t rooms = 0;
  size_t rate_limit_buckets = 0;
  std::optional<ConnectionGauges> connections;  // when the server reports them
  // From the dashboard's activity record.
  uint64_t messages_sent = 0;
  uint64_t messages_polled = 0;
  uint64_t gc_runs = 0;
  uint64_t stream_frames = 0;
  uint64_t stream_messages = 0;
  uint64_t stream_receipts = 0;
  uint64_t receipts_accepted = 0;
  uint64_t receipts_fetched = 0;
  // Receive streams waiting for something to push; absent when the relay offers no stream
  // (--no-stream).
  std::optional<size_t> streams_open;
};

class Metrics {
 public:
  // Upper bounds (seconds) of the latency histogram buckets; +Inf is implicit.
  static constexpr std::array<double, 12> kBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.025,   0.05,   0.1,   0.5,    2.5};

  // One label per route index; the router owns the numbering.
  explicit Metrics(std::vector<std::string> route_labels);

  void record(size_t route, int status, double seconds);
  std::string render(const Gauges& gauges) const;
  uint64_t requests(size_t route, int status) const;

 private:
  static constexpr int kMinStatus = 100;
  static constexpr int kStatusSlots = 500;  // 100..599

  struct RouteStats {
    std::array<std::atomic<uint64_t>, kStatusSlots> by_status{};
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> latency{};  // last = +Inf
    std::atomic<uint64_t> latency_sum_ns{0};
  };

  std::vector<std::string> labels_;
  std::unique_ptr<RouteStats[]> stats_;
};

}  // namespace c2c::relay::server
