#pragma once
// Blocking until a session's inbox changes, for the wait_for_message tool (docs/mcp.md): the
// same inotify events the push watcher wakes on (kInboxEvents), plus an eventfd that cancels
// the wait (notifications/cancelled, server shutdown). No polling loop: poll(2) on both fds.

#include <atomic>
#include <filesystem>
#include <string>

#include "c2c/core/result.hpp"

namespace c2c::mcp {

// inotify events that mean "an inbox file was (re)written": the broker replaces files by
// rename (IN_MOVED_TO); IN_CLOSE_WRITE covers writers that write in place.
extern const unsigned kInboxEvents;

// Reads every queued event of a non-blocking inotify fd; true if one touched the inbox of
// `session_id`: `<sid>.inbox.json` (replaced by rename) or its journal
// `<sid>.inbox.journal.jsonl` (appended to once the inbox is large, docs/cli.md "Inbox
// journal"). A queue overflow counts too: it may have hidden ours.
bool read_inbox_events(int inotify_fd, const std::string& session_id);

// A one-shot cancellation flag with an fd that poll(2) sees readable once cancelled.
class Cancellation {
 public:
  Cancellation();
  ~Cancellation();
  Cancellation(const Cancellation&) = delete;
  Cancellation& operator=(const Cancellation&) = delete;
  void cancel();
  bool cancelled() const { return cancelled_; }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  std::atomic<bool> cancelled_{false};
};

class InboxWait {
 public:
  enum class Outcome { kChanged, kTimeout, kCancelled };

  InboxWait() = default;
  ~InboxWait();
  InboxWait(const InboxWait&) = delete;
  InboxWait& operator=(const InboxWait&) = delete;

  // Installs the watch on `dir` for the session's inbox and its journal. Call it before looking at
  // the inbox, so a message landing in between still wakes the next wait().
  Result<void> start(const std::filesystem::path& dir, std::string session_id);
  // Blocks until the inbox changes, `cancel` fires (may be null) or timeout_ms passes.
  Outcome wait(long long timeout_ms, const Cancellation* cancel);

 private:
  int fd_ = -1;
  std::string session_id_;
};

}  // namespace c2c::mcp
