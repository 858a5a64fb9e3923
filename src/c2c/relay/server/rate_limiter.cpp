#include "c2c/relay/server/rate_limiter.hpp"

#include <algorithm>

#include "c2c/core/text.hpp"

namespace c2c::relay::server {

namespace {
constexpr double kSweepInterval = 60;
}

std::pair<double, double> RateLimiter::policy(RateClass cls) {
  switch (cls) {
    case RateClass::kPubkey:
      return {100, 10};
    case RateClass::kRegister:
      return {10, 0.5};
    case RateClass::kSend:
      return {20, 1};
    case RateClass::kSession:
      return {30, 2};
    case RateClass::kRoomHistory:
      return {20, 1};
    case RateClass::kNone:
      break;
  }
  return {0, 0};
}

std::string_view RateLimiter::name(RateClass cls) {
  switch (cls) {
    case RateClass::kPubkey:
      return "pubkey";
    case RateClass::kRegister:
      return "register";
    case RateClass::kSend:
      return "send";
    case RateClass::kSession:
      return "session";
    case RateClass::kRoomHistory:
      return "room_history";
    case RateClass::kNone:
      break;
  }
  return "none";
}

bool RateLimiter::is_loopback(std::string_view ip) {
  return starts_with(ip, "127.") || ip == "::1" || starts_with(ip, "::ffff:127.");
}

RateDecision RateLimiter::check(std::string_view client_ip, RateClass cls, double now) {
  if (cls == RateClass::kNone || mode_ == RateLimitMode::kOff) return {};
  if (mode_ == RateLimitMode::kNonLoopback && is_loopback(client_ip)) return {};
  const auto [capacity, refill] = policy(cls);
  std::string key(client_ip);
  key.push_back('|');
  key.append(name(cls));

  std::lock_guard lock(mu_);
  if (now - last_sweep_ >= kSweepInterval) sweep(now);
  auto [it, inserted] = buckets_.try_emplace(std::move(key), Bucket{capacity, now});
  Bucket& b = it->second;
  if (!inserted) {
    b.tokens = std::min(capacity, b.tokens + std::max(0.0, now - b.updated) * refill);
    b.updated = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return {};
  }
  return {false, (1 - b.tokens) / refill};
}

void RateLimiter::sweep(double now) {
  last_sweep_ = now;
  // A bucket that has refilled completely behaves exactly like a missing one.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const auto sep = it->first.rfind('|');
    const std::string_view cls_name = std::string_view(it->first).substr(sep + 1);
    double capacity = 0, refill = 0;
    for (RateClass c : {RateClass::kPubkey, RateClass::kRegister, RateClass::kSend,
                        RateClass::kSession, RateClass::kRoomHistory}) {
      if (name(c) == cls_name) std::tie(capacity, refill) = policy(c);
    }
    const double tokens = it->second.tokens + (now - it->second.updated) * refill;
    it = tokens >= capacity ? buckets_.erase(it) : std::next(it);
  }
}

size_t RateLimiter::bucket_count() {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace c2c::relay::server
