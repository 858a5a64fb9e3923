#include "c2c/mcp/inbox_wait.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <utility>

#include "c2c/broker/files.hpp"

namespace c2c::mcp {

const unsigned kInboxEvents = IN_CLOSE_WRITE | IN_MOVED_TO;

bool read_inbox_events(int inotify_fd, const std::string& session_id) {
  const std::string inbox = session_id.empty() ? std::string() : session_id + ".inbox.json";
  const std::string journal =
      session_id.empty() ? std::string() : session_id + ".inbox.journal.jsonl";
  alignas(inotify_event) char buf[16 * 1024];
  bool changed = false;
  while (true) {
    const ssize_t got = ::read(inotify_fd, buf, sizeof buf);
    if (got <= 0) break;  // EAGAIN: every queued event read
    for (ssize_t off = 0; off < got;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      if ((ev->mask & IN_Q_OVERFLOW) ||
          (!inbox.empty() && ev->len > 0 && (inbox == ev->name || journal == ev->name))) {
        changed = true;
      }
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
  return changed;
}

Cancellation::Cancellation() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

Cancellation::~Cancellation() {
  if (fd_ >= 0) ::close(fd_);
}

void Cancellation::cancel() {
  if (cancelled_.exchange(true)) return;
  const uint64_t one = 1;
  if (fd_ >= 0) (void)!::write(fd_, &one, sizeof one);
}

InboxWait::~InboxWait() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> InboxWait::start(const std::filesystem::path& dir, std::string session_id) {
  // Created private, as the broker creates it (docs/security.md).
  C2C_TRY(broker::files::ensure_dir(dir, 0700));
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return fail(ErrorCode::kIo, std::string("inotify_init1: ") + strerror(errno));
  if (::inotify_add_watch(fd_, dir.c_str(), kInboxEvents) < 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    return fail(ErrorCode::kIo, "inotify_add_watch " + dir.string() + ": " + strerror(err));
  }
  session_id_ = std::move(session_id);
  return {};
}

InboxWait::Outcome InboxWait::wait(long long timeout_ms, const Cancellation* cancel) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    if (cancel != nullptr && cancel->cancelled()) return Outcome::kCancelled;
    // Rounded up: the wait never ends before `timeout_ms` (a truncated 0.9 ms would be 0).
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return Outcome::kTimeout;
    pollfd fds[2] = {{fd_, POLLIN, 0}, {cancel != nullptr ? cancel->fd() : -1, POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 60'000)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Outcome::kTimeout;
    }
    if (fds[1].revents & POLLIN) return Outcome::kCancelled;
    if (!(fds[0].revents & POLLIN)) continue;
    if (read_inbox_events(fd_, session_id_)) return Outcome::kChanged;
  }
}

}  // namespace c2c::mcp
