#pragma once
// StreamHub: where waiting receive streams (POST /stream long-polls) sleep until something for
// their node is durable, or their wait ends (docs/relay-server.md, "Receive stream";
// docs/decisions.md D15).
//
// The service never pushes: after a write is durable (Store::when_durable), whoever made it
// calls notify(nodes); the hub's one thread then asks each waiter of those nodes to try again
// (build its frame from the store). A waiter whose frame is still empty stays. A backend with
// several relays (PostgreSQL) calls notify() from its LISTEN/NOTIFY listener instead.
//
// Cost: a waiter is a callback and two map entries (a few hundred bytes), no thread and no
// timer of its own: 10,000 idle streams are a few MB and one sleeping thread.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace c2c::relay::server {

class StreamHub {
 public:
  using Clock = std::chrono::steady_clock;
  // Called on the hub thread (the first try on the thread calling wait()). `final` is true when
  // the wait is over (deadline or shutdown): the attempt must answer then. Returns true when it
  // answered (the waiter is done).
  using Attempt = std::function<bool(bool final)>;
  static constexpr std::chrono::seconds kRoundedWait{5};

  StreamHub();
  ~StreamHub();  // shutdown()
  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  // Tries once at once, on the calling thread (a write that became durable between the caller's
  // own look and this call is not missed), and registers a waiter for `node_id` if that found
  // nothing. Deadlines kRoundedWait or more away are rounded up to a whole second. After
  // shutdown() the attempt runs final, on the calling thread.
  void wait(const std::string& node_id, Clock::time_point deadline, Attempt attempt);
  // Something for these nodes is durable: their waiters try again.
  void notify(const std::vector<std::string>& node_ids);
  // Every waiter tries again (a cluster backend that may have missed wake-ups, e.g. after it
  // reconnected to the database).
  void notify_all();
  // Answers every waiter (final) and stops the thread; later waits answer at once.
  void shutdown();

  size_t waiting() const;

 private:
  struct Waiter;
  using WaiterPtr = std::shared_ptr<Waiter>;
  using Deadlines = std::multimap<Clock::time_point, WaiterPtr>;
  // Only the hub thread reads or writes a registered waiter (after wait() created it).
  struct Waiter {
    std::string node_id;
    Attempt attempt;
    Deadlines::iterator deadline;
    bool done = false;
  };
  void run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::unordered_map<std::string, std::vector<WaiterPtr>> by_node_;
  Deadlines deadlines_;
  std::unordered_set<std::string> pending_;  // nodes notified since the thread last looked
  // Nodes of the waiters the hub thread is trying now, outside the lock (one entry per waiter).
  std::unordered_multiset<std::string> trying_;
  // Nodes whose first try runs now on a wait() caller's thread (one entry per call), and those
  // of them notified meanwhile: the caller then lists its waiter as pending.
  std::unordered_multiset<std::string> inline_trying_;
  std::unordered_set<std::string> inline_notified_;
  size_t waiting_ = 0;
  std::thread thread_;
};

}  // namespace c2c::relay::server
