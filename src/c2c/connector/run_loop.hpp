#pragma once
// The connector loop: a round every interval, exponential backoff with jitter while the relay is
// unreachable or refusing us, and a prompt stop on SIGINT/SIGTERM (the sleep is a poll() on a
// self-pipe the signal handler writes to; requests in flight are bounded by their timeouts).
// While the relay is healthy, a message queued to remote-outbox.jsonl, or a delivery receipt
// queued to receipts-outbox.jsonl, starts the next round at once (inotify on the broker root)
// instead of waiting for the interval.

#include <atomic>
#include <filesystem>
#include <functional>
#include <random>

#include "c2c/connector/connector.hpp"

namespace c2c::connector {

// A stop request that can come from a signal handler. At most one StopSource owns the process's
// SIGINT/SIGTERM handlers at a time.
class StopSource {
 public:
  StopSource();
  ~StopSource();
  StopSource(const StopSource&) = delete;
  StopSource& operator=(const StopSource&) = delete;

  // Routes SIGINT and SIGTERM to request_stop(); the previous handlers come back on destruction.
  void install_signal_handlers();
  // Async-signal-safe.
  void request_stop();
  bool stop_requested() const { return stop_.load(); }
  const std::atomic<bool>* flag() const { return &stop_; }
  // The signal that asked us to stop (0 when none did).
  int signal_number() const { return signal_.load(); }
  // Sleeps up to `seconds`; returns early (true) as soon as a stop is requested.
  bool wait_for(double seconds);
  enum class Wake { kTimeout, kStop, kFd };
  // Same, also returning early (kFd) when `fd` becomes readable (fd < 0: not watched).
  Wake wait_for(double seconds, int fd);

 private:
  static void on_signal(int sig);
  std::atomic<bool> stop_{false};
  std::atomic<int> signal_{0};
  int pipe_[2] = {-1, -1};
  bool owns_signals_ = false;
};

// Delay before the next round: `interval` after a healthy round; after n consecutive unhealthy
// rounds, min(cap, interval * 2^n) scaled by a jitter factor in [0.5, 1.0) (unit_random in
// [0, 1)), so many connectors do not hammer a relay that comes back at the same instant.
// cap <= 0 means min(8 * interval, 300 s), never below interval.
double next_delay(double interval, double cap, int consecutive_failures, double unit_random);

// Watches a broker root for writes to remote-outbox.jsonl and receipts-outbox.jsonl (inotify).
class OutboxWatch {
 public:
  explicit OutboxWatch(const std::filesystem::path& broker_root);
  ~OutboxWatch();
  OutboxWatch(const OutboxWatch&) = delete;
  OutboxWatch& operator=(const OutboxWatch&) = delete;
  int fd() const { return fd_; }  // -1 when watching is not possible (the loop just polls)
  // Consumes pending events; true if one of them touched the outbox file.
  bool drain();

 private:
  int fd_ = -1;
};

struct LoopOptions {
  double interval_seconds = 30;
  double max_backoff_seconds = 0;  // see next_delay
  // When set, appends to <watch_root>/remote-outbox.jsonl start a round early (healthy relay).
  std::filesystem::path watch_root;
};

// One callback per round with the round's result and the delay chosen before the next one.
using RoundCallback = std::function<void(const Result<SyncReport>& round, double next_delay)>;

// Runs rounds until stop is requested. Returns the number of rounds run.
int run_loop(Connector& connector, const LoopOptions& options, StopSource& stop,
             const RoundCallback& on_round);

}  // namespace c2c::connector
