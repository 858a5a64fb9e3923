#pragma once
// Token buckets per (client IP, route class) (capacities in docs/relay-server.md; docs/decisions.md
// D4). Unlike the original c2c, each route class has its own bucket per IP, so a burst of /send
// does not starve /heartbeat. Denied requests do not consume tokens. Idle full buckets are swept.

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace c2c::relay::server {

enum class RateClass { kNone, kPubkey, kRegister, kSend, kSession, kRoomHistory };

enum class RateLimitMode {
  kOff,          // no limits
  kOn,           // every client is limited
  kNonLoopback,  // default: loopback clients (127.0.0.0/8, ::1) are exempt
};

struct RateDecision {
  bool allowed = true;
  double retry_after = 0;  // seconds until one token is available
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimitMode mode) : mode_(mode) {}

  RateDecision check(std::string_view client_ip, RateClass cls, double now);
  RateLimitMode mode() const { return mode_; }
  size_t bucket_count();

  // Capacity and refill per second of a class (docs/relay-server.md, Limits and errors).
  static std::pair<double, double> policy(RateClass cls);
  static std::string_view name(RateClass cls);
  static bool is_loopback(std::string_view ip);

 private:
  struct Bucket {
    double tokens = 0;
    double updated = 0;
  };
  void sweep(double now);  // caller holds mu_

  RateLimitMode mode_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  double last_sweep_ = 0;
};

}  // namespace c2c::relay::server
