#include "c2c/mcp/push_watcher.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "c2c/broker/files.hpp"
#include "c2c/mcp/inbox_wait.hpp"

namespace c2c::mcp {

PushWatcher::PushWatcher(std::filesystem::path dir, SessionProvider session,
                         std::function<void()> on_change)
    : dir_(std::move(dir)), session_(std::move(session)), on_change_(std::move(on_change)) {}

PushWatcher::~PushWatcher() {
  stop();
}

Result<void> PushWatcher::start() {
  // Created private, as the broker creates it (docs/security.md, issue 8.8).
  C2C_TRY(broker::files::ensure_dir(dir_, 0700));
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0)
    return fail(ErrorCode::kIo, std::string("inotify_init1: ") + strerror(errno));
  if (::inotify_add_watch(inotify_fd_, dir_.c_str(), kInboxEvents) < 0) {
    const int err = errno;
    ::close(inotify_fd_);
    inotify_fd_ = -1;
    return fail(ErrorCode::kIo, "inotify_add_watch " + dir_.string() + ": " + strerror(err));
  }
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (event_fd_ < 0) {
    ::close(inotify_fd_);
    inotify_fd_ = -1;
    return fail(ErrorCode::kIo, std::string("eventfd: ") + strerror(errno));
  }
  thread_ = std::thread([this] { run(); });
  return {};
}

void PushWatcher::signal_eventfd() {
  const uint64_t one = 1;
  // A full counter already means "wake up"; nothing else can fail here.
  (void)!::write(event_fd_, &one, sizeof one);
}

void PushWatcher::kick() {
  if (event_fd_ >= 0) signal_eventfd();
}

void PushWatcher::stop() {
  if (thread_.joinable()) {
    stopping_ = true;
    signal_eventfd();
    thread_.join();
  }
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (event_fd_ >= 0) ::close(event_fd_);
  inotify_fd_ = event_fd_ = -1;
}

void PushWatcher::run() {
  while (!stopping_) {
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {event_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    bool changed = false;
    if (fds[1].revents & POLLIN) {
      uint64_t count = 0;
      (void)!::read(event_fd_, &count, sizeof count);
      if (stopping_) return;
      changed = true;  // kick
    }
    if (fds[0].revents & POLLIN) {
      const auto sid = session_();
      if (read_inbox_events(inotify_fd_, sid ? *sid : std::string())) changed = true;
    }
    if (changed && !stopping_) on_change_();
  }
}

}  // namespace c2c::mcp
