#include "c2c/relay/server/metrics.hpp"

#include <cstdio>

namespace c2c::relay::server {

namespace {

std::string fmt_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// One metric without labels: HELP, TYPE and the value (Prometheus text format).
void scalar(std::string& out, const char* name, const char* type, const char* help,
            uint64_t value) {
  out += std::string("# HELP ") + name + " " + help + "\n";
  out += std::string("# TYPE ") + name + " " + type + "\n";
  out += std::string(name) + " " + std::to_string(value) + "\n";
}

}  // namespace

Metrics::Metrics(std::vector<std::string> route_labels)
    : labels_(std::move(route_labels)), stats_(new RouteStats[labels_.size()]) {}

void Metrics::record(size_t route, int status, double seconds) {
  if (route >= labels_.size()) return;
  RouteStats& s = stats_[route];
  if (status < kMinStatus || status >= kMinStatus + kStatusSlots) status = 500;
  s.by_status[status - kMinStatus].fetch_add(1, std::memory_order_relaxed);
  size_t b = 0;
  while (b < kBuckets.size() && seconds > kBuckets[b]) ++b;
  s.latency[b].fetch_add(1, std::memory_order_relaxed);
  s.latency_sum_ns.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

uint64_t Metrics::requests(size_t route, int status) const {
  if (route >= labels_.size() || status < kMinStatus || status >= kMinStatus + kStatusSlots) {
    return 0;
  }
  return stats_[route].by_status[status - kMinStatus].load(std::memory_order_relaxed);
}

std::string Metrics::render(const Gauges& g) const {
  std::string out;
  out.reserve(8192);
  out += "# HELP c2c_relay_requests_total HTTP requests handled, by route and status.\n";
  out += "# TYPE c2c_relay_requests_total counter\n";
  for (size_t r = 0; r < labels_.size(); ++r) {
    for (int i = 0; i < kStatusSlots; ++i) {
      const uint64_t n = stats_[r].by_status[i].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += "c2c_relay_requests_total{route=\"" + labels_[r] + "\",status=\"" +
             std::to_string(i + kMinStatus) + "\"} " + std::to_string(n) + "\n";
    }
  }
  out += "# HELP c2c_relay_request_duration_seconds Time from request to response, by route.\n";
  out += "# TYPE c2c_relay_request_duration_seconds histogram\n";
  for (size_t r = 0; r < labels_.size(); ++r) {
    const RouteStats& s = stats_[r];
    uint64_t cumulative = 0;
    std::string lines;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += s.latency[b].load(std::memory_order_relaxed);
      const std::string le = b < kBuckets.size() ? fmt_double(kBuckets[b]) : "+Inf";
      lines += "c2c_relay_request_duration_seconds_bucket{route=\"" + labels_[r] + "\",le=\"" + le +
               "\"} " + std::to_string(cumulative) + "\n";
    }
    if (cumulative == 0) continue;  // keep the scrape short: only routes that were used
    out += lines;
    out += "c2c_relay_request_duration_seconds_sum{route=\"" + labels_[r] + "\"} " +
           fmt_double(static_cast<double>(s.latency_sum_ns.load(std::memory_order_relaxed)) / 1e9) +
           "\n";
    out += "c2c_relay_request_duration_seconds_count{route=\"" + labels_[r] + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  out += "# HELP c2c_relay_leases Registered leases by state.\n";
  out += "# TYPE c2c_relay_leases gauge\n";
  out += "c2c_relay_leases{state=\"alive\"} " + std::to_string(g.leases_alive) + "\n";
  out += "c2c_relay_leases{state=\"expired\"} " + std::to_string(g.leases_total - g.leases_alive) +
         "\n";
  scalar(out, "c2c_relay_queued_messages", "gauge", "Messages waiting in inboxes.",
         g.queued_messages);
  scalar(out, "c2c_relay_rooms", "gauge", "Rooms known to the relay.", g.rooms);
  scalar(out, "c2c_relay_rate_limit_buckets", "gauge", "Token buckets currently tracked.",
         g.rate_limit_buckets);
  scalar(out, "c2c_relay_messages_sent_total", "counter",
         "Messages accepted for delivery (per recipient).", g.messages_sent);
  scalar(out, "c2c_relay_messages_polled_total", "counter", "Messages handed out by /poll_inbox.",
         g.messages_polled);
  scalar(out, "c2c_relay_gc_runs_total", "counter", "Lease GC runs (/gc and --gc-interval).",
         g.gc_runs);
  if (g.streams_open) {
    scalar(out, "c2c_relay_streams_open", "gauge",
           "Receive streams (POST /stream) waiting for something to push.", *g.streams_open);
  }
  scalar(out, "c2c_relay_stream_frames_total", "counter",
         "Receive-stream frames answered (empty ones at the end of a wait included).",
         g.stream_frames);
  scalar(out, "c2c_relay_stream_messages_total", "counter",
         "Messages pushed in receive-stream frames.", g.stream_messages);
  scalar(out, "c2c_relay_stream_receipts_total", "counter",
         "Delivery receipts pushed in receive-stream frames.", g.stream_receipts);
  scalar(out, "c2c_relay_receipts_accepted_total", "counter",
         "Delivery receipts queued by POST /receipts.", g.receipts_accepted);
  scalar(out, "c2c_relay_receipts_fetched_total", "counter",
         "Delivery receipts handed out by POST /receipts/fetch.", g.receipts_fetched);
  if (g.connections) {
    scalar(out, "c2c_relay_connections_open", "gauge", "HTTP connections open now.",
           g.connections->open);
    scalar(out, "c2c_relay_connections_accepted_total", "counter", "HTTP connections accepted.",
           g.connections->accepted);
    scalar(out, "c2c_relay_connections_rejected_total", "counter",
           "Connections closed at once (over the connection cap).", g.connections->rejected);
    scalar(out, "c2c_relay_connections_rejected_per_ip_total", "counter",
           "Of the rejected connections: the client IP was at its own cap.",
           g.connections->rejected_per_ip);
    scalar(out, "c2c_relay_connections_busy", "gauge",
           "HTTP connections in the middle of a request now (long-polls included).",
           g.connections->busy);
    scalar(out, "c2c_relay_connections_evicted_total", "counter",
           "Idle connections closed to make room at the connection cap.",
           g.connections->evicted_idle);
    scalar(out, "c2c_relay_requests_abandoned_total", "counter",
           "Requests whose client closed the connection before the answer (long-polls).",
           g.connections->abandoned);
  }
  return out;
}

}  // namespace c2c::relay::server
