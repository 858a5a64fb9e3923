#pragma once
// Wakes the push path as soon as a message lands in this session's inbox: inotify on the
// broker directory for IN_CLOSE_WRITE / IN_MOVED_TO of <session>.inbox.json (the broker's
// atomic replace is a rename, i.e. IN_MOVED_TO). No polling loop: the thread sleeps in poll(2)
// on the inotify fd and an eventfd used for kick() and stop().

#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "c2c/core/result.hpp"

namespace c2c::mcp {

class PushWatcher {
 public:
  using SessionProvider = std::function<std::optional<std::string>()>;

  // `on_change` runs on the watcher thread after each batch of events that touched the inbox
  // of the session `session` returns at that moment, and after each kick().
  PushWatcher(std::filesystem::path dir, SessionProvider session, std::function<void()> on_change);
  ~PushWatcher();  // stop()
  PushWatcher(const PushWatcher&) = delete;
  PushWatcher& operator=(const PushWatcher&) = delete;

  // Creates the directory if needed, installs the watch and starts the thread.
  Result<void> start();
  // Runs on_change once soon, on the watcher thread (push just became possible).
  void kick();
  // Stops and joins the thread; idempotent.
  void stop();

 private:
  void run();
  void signal_eventfd();

  std::filesystem::path dir_;
  SessionProvider session_;
  std::function<void()> on_change_;
  int inotify_fd_ = -1;
  int event_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace c2c::mcp
