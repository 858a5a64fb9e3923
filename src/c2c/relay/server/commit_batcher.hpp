#pragma once
// Group commit at the request level, for durable stores (SQLite).
//
// Handlers run on the I/O threads: the SQLite store serves reads from memory and only queues
// redo records on writes, so nothing there waits for the disk. What must wait is the answer:
// a write is acknowledged only once durable. No thread is parked per request: each answer is
// handed to Store::when_durable(), and the store's writer thread sends it as soon as the
// transaction holding that request's writes has committed. Concurrent requests share each
// transaction (and its fsync), and an answer never waits for writes issued after its own.

#include <atomic>
#include <cstdint>
#include <functional>

#include "c2c/relay/store/store.hpp"

namespace c2c::relay::server {

class CommitBatcher {
 public:
  // Called once the commit covering the request finished (successfully or not); it answers.
  using Send = std::function<void(const Result<void>& committed)>;

  explicit CommitBatcher(Store& store) : store_(store) {}
  ~CommitBatcher() { shutdown(); }
  CommitBatcher(const CommitBatcher&) = delete;
  CommitBatcher& operator=(const CommitBatcher&) = delete;

  // Calls `send` after the commit covering every write issued so far, with its outcome.
  void submit(Send send);
  // After shutdown, submits commit and answer on the caller's thread (the server has stopped;
  // nothing should arrive, but nothing is left unanswered either). Idempotent.
  void shutdown() { stopped_ = true; }

  struct Stats {
    uint64_t submitted = 0;  // answers handed over
    uint64_t answers = 0;    // answers sent
  };
  Stats stats() const { return {submitted_.load(), answers_.load()}; }

 private:
  Store& store_;
  std::atomic<bool> stopped_{false};
  std::atomic<uint64_t> submitted_{0};
  std::atomic<uint64_t> answers_{0};
};

}  // namespace c2c::relay::server
