#pragma once
// Group commit at the request level, for durable stores (SQLite).
//
// Handlers run on the I/O threads: the SQLite store serves reads from memory and only queues
// redo records on writes, so nothing there waits for the disk. What must wait is the answer:
// a write is acknowledged only once durable. Instead of parking a thread per request in
// Store::commit(), answers ready to go are queued here; one committer thread takes everything
// queued, calls commit() once (covering every write issued before it) and then sends all those
// answers. While one fsync runs, the next batch gathers: concurrent requests share commits and
// no I/O thread ever blocks on the disk.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "c2c/relay/store/store.hpp"

namespace c2c::relay::server {

class CommitBatcher {
 public:
  // Called once the commit covering the request finished (successfully or not); it answers.
  using Send = std::function<void(const Result<void>& committed)>;

  explicit CommitBatcher(Store& store);
  ~CommitBatcher();  // shutdown()
  CommitBatcher(const CommitBatcher&) = delete;
  CommitBatcher& operator=(const CommitBatcher&) = delete;

  // Calls `send` after the next commit, with its outcome.
  void submit(Send send);
  // Commits and answers everything queued, then stops the thread. Later submits are committed
  // and answered on the caller's thread. Idempotent.
  void shutdown();

  struct Stats {
    uint64_t commits = 0;
    uint64_t answers = 0;
  };
  Stats stats();

 private:
  void run();
  void flush(std::deque<Send>& batch);

  Store& store_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Send> queue_;
  bool stopping_ = false;
  bool stopped_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace c2c::relay::server
