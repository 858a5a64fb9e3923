#pragma once
// Internal to c2c_net: state shared by the HttpServer and all of its sessions.

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "c2c/net/detail/asio.hpp"
#include "c2c/net/http_server.hpp"

namespace c2c::net::detail {

class SessionBase;

struct ServerCore {
  ServerCore(ServerLimits l, Handler h) : limits(std::move(l)), handler(std::move(h)) {}

  const ServerLimits limits;
  const Handler handler;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> open_connections{0};
  std::atomic<uint64_t> accepted_connections{0};
  std::atomic<uint64_t> rejected_connections{0};
  std::atomic<uint64_t> rejected_per_ip{0};
  std::atomic<uint64_t> evicted_idle{0};
  std::atomic<uint64_t> abandoned_requests{0};
  std::atomic<uint64_t> padding_writes{0};

  // Live sessions, so stop() can close the idle ones and a full server can evict the one idle
  // longest. Weak: a session owns itself. Guarded by mu, as is per_ip.
  std::mutex mu;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
  std::unordered_map<std::string, size_t> per_ip;  // open connections by client IP

  // The accept decision for a connection from `ip` (on the acceptor's thread). Counts it against
  // its IP when admitted; the session gives the count back when it ends (SessionBase).
  enum class Admit { kYes, kIpFull, kFull };
  Admit admit(const std::string& ip);
};

// One connection. Runs on its own strand; the server only ever reaches it by posting there.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  // `remote_ip` was counted in core.per_ip by ServerCore::admit.
  SessionBase(ServerCore& core, asio::any_io_executor executor, std::string remote_ip)
      : core_(core), executor_(std::move(executor)), remote_ip_(std::move(remote_ip)) {}
  virtual ~SessionBase() {
    {
      std::lock_guard lock(core_.mu);
      core_.sessions.erase(this);
      if (auto it = core_.per_ip.find(remote_ip_); it != core_.per_ip.end() && --it->second == 0) {
        core_.per_ip.erase(it);
      }
    }
    core_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  }
  SessionBase(const SessionBase&) = delete;
  SessionBase& operator=(const SessionBase&) = delete;

  // Registers the session (call once, right after construction).
  void attach() {
    std::lock_guard lock(core_.mu);
    core_.sessions.emplace(this, weak_from_this());
  }
  // On the session's executor: closes the connection if it is waiting for a next request.
  virtual void close_if_idle() = 0;
  // On the session's executor: closes it if it is still waiting for a request (eviction).
  virtual void evict_if_idle() = 0;
  const asio::any_io_executor& executor() const { return executor_; }

  // Since when (steady clock, ns) the session waits for the first byte of a request; kBusy while
  // it reads, handles or writes one; kEvicting once chosen for eviction (not chosen twice);
  // kStarting until it first waits for a request (a TLS handshake included).
  // Written by the session, read by the acceptor and stats() under core.mu.
  static constexpr int64_t kBusy = -1;
  static constexpr int64_t kEvicting = -2;
  static constexpr int64_t kStarting = -3;
  std::atomic<int64_t> idle_since{kStarting};

 protected:
  static int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  ServerCore& core_;
  asio::any_io_executor executor_;
  const std::string remote_ip_;
};

}  // namespace c2c::net::detail
