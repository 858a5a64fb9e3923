#pragma once
// A fixed pool of threads running queued tasks. With SQLite storage the router runs each request
// here, so a handler waiting in Store::commit() (fsync) never blocks an I/O thread and the
// requests waiting together share one group commit.

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace c2c::relay::server {

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool();  // runs every queued task, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void post(std::function<void()> task);
  // Stops accepting tasks, finishes the queued ones and joins the threads. Idempotent.
  void shutdown();

 private:
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace c2c::relay::server
