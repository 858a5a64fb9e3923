#pragma once
// Internal to c2c_net: state shared by the HttpServer and all of its sessions.

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "c2c/net/detail/asio.hpp"
#include "c2c/net/http_server.hpp"

namespace c2c::net::detail {

class SessionBase;

struct ServerCore {
  ServerCore(ServerLimits l, Handler h) : limits(l), handler(std::move(h)) {}

  const ServerLimits limits;
  const Handler handler;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> open_connections{0};
  std::atomic<uint64_t> accepted_connections{0};
  std::atomic<uint64_t> rejected_connections{0};

  // Live sessions, so stop() can close the idle ones. Weak: a session owns itself.
  std::mutex mu;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;
};

// One connection. Runs on its own strand; the server only ever reaches it by posting there.
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  SessionBase(ServerCore& core, asio::any_io_executor executor)
      : core_(core), executor_(std::move(executor)) {}
  virtual ~SessionBase() {
    {
      std::lock_guard lock(core_.mu);
      core_.sessions.erase(this);
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
  const asio::any_io_executor& executor() const { return executor_; }

 protected:
  ServerCore& core_;
  asio::any_io_executor executor_;
};

}  // namespace c2c::net::detail
