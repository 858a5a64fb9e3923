#include "c2c/connector/run_loop.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <memory>
#include <string_view>

namespace c2c::connector {

namespace {
// The StopSource that owns the signal handlers (signal handlers cannot carry a context).
std::atomic<StopSource*> g_signal_owner{nullptr};
struct sigaction g_old_int {};
struct sigaction g_old_term {};
}  // namespace

StopSource::StopSource() {
  if (::pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    pipe_[0] = pipe_[1] = -1;  // wait_for falls back to a plain sleep loop on the flag
  }
}

StopSource::~StopSource() {
  if (owns_signals_) {
    ::sigaction(SIGINT, &g_old_int, nullptr);
    ::sigaction(SIGTERM, &g_old_term, nullptr);
    g_signal_owner.store(nullptr);
  }
  if (pipe_[0] >= 0) ::close(pipe_[0]);
  if (pipe_[1] >= 0) ::close(pipe_[1]);
}

void StopSource::on_signal(int sig) {
  StopSource* owner = g_signal_owner.load();
  if (owner == nullptr) return;
  owner->signal_.store(sig);
  owner->request_stop();
}

void StopSource::install_signal_handlers() {
  g_signal_owner.store(this);
  struct sigaction sa {};
  sa.sa_handler = &StopSource::on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking call returns EINTR and we notice sooner
  ::sigaction(SIGINT, &sa, &g_old_int);
  ::sigaction(SIGTERM, &sa, &g_old_term);
  owns_signals_ = true;
}

void StopSource::request_stop() {
  stop_.store(true);
  if (pipe_[1] >= 0) {
    const char b = 1;
    [[maybe_unused]] const auto n = ::write(pipe_[1], &b, 1);  // full pipe = already signalled
  }
}

bool StopSource::wait_for(double seconds) {
  return wait_for(seconds, -1) == Wake::kStop;
}

StopSource::Wake StopSource::wait_for(double seconds, int fd) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::microseconds(
                                           static_cast<long long>(std::max(0.0, seconds) * 1e6));
  while (!stop_.load()) {
    // Rounded up: the wait never ends before its deadline.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) return Wake::kTimeout;
    if (pipe_[0] < 0 && fd < 0) {
      ::usleep(static_cast<useconds_t>(std::min<long long>(left.count(), 100) * 1000));
      continue;
    }
    pollfd p[2] = {{pipe_[0], POLLIN, 0}, {fd, POLLIN, 0}};
    const int timeout = static_cast<int>(std::min<long long>(left.count(), 60'000));
    // poll() ignores a negative fd; EINTR or a readable pipe: the loop re-checks the flag.
    if (::poll(p, 2, timeout) > 0 && fd >= 0 && (p[1].revents & POLLIN) != 0 && !stop_.load()) {
      return Wake::kFd;
    }
  }
  return Wake::kStop;
}

OutboxWatch::OutboxWatch(const std::filesystem::path& broker_root) {
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return;
  if (::inotify_add_watch(fd_, broker_root.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_MODIFY) < 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

OutboxWatch::~OutboxWatch() {
  if (fd_ >= 0) ::close(fd_);
}

bool OutboxWatch::drain() {
  if (fd_ < 0) return false;
  bool touched = false;
  alignas(inotify_event) char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) return touched;
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      // Mail to forward, or receipts to post (a message was delivered or read here: its sender
      // should hear of it now, not at the next interval).
      if (ev->len > 0 && (std::string_view(ev->name) == "remote-outbox.jsonl" ||
                          std::string_view(ev->name) == "receipts-outbox.jsonl")) {
        touched = true;
      }
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
    }
  }
}

double next_delay(double interval, double cap, int consecutive_failures, double unit_random) {
  interval = std::max(interval, 0.01);
  if (consecutive_failures <= 0) return interval;
  if (cap <= 0) cap = std::min(8 * interval, 300.0);
  cap = std::max(cap, interval);
  const double grown = interval * std::pow(2.0, std::min(consecutive_failures, 20));
  const double jitter = 0.5 + 0.5 * std::clamp(unit_random, 0.0, 1.0);
  return std::min(cap, grown) * jitter;
}

int run_loop(Connector& connector, const LoopOptions& options, StopSource& stop,
             const RoundCallback& on_round) {
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::unique_ptr<OutboxWatch> watch;
  if (!options.watch_root.empty()) watch = std::make_unique<OutboxWatch>(options.watch_root);
  int failures = 0;
  int rounds = 0;
  while (!stop.stop_requested()) {
    auto round = connector.sync_once(stop.flag());
    ++rounds;
    const bool healthy = round.has_value() && round->healthy();
    failures = healthy ? 0 : failures + 1;
    const double delay =
        next_delay(options.interval_seconds, options.max_backoff_seconds, failures, unit(rng));
    if (on_round) on_round(round, delay);
    // Our own round rewrote the outbox: those events are not news. Mail queued while the round
    // ran is, and goes out now (a healthy, unthrottled relay only; otherwise keep the backoff).
    const bool eager = watch && healthy && !round->throttled && !round->local_error;
    if (watch) watch->drain();
    if (eager && (connector.has_untried_outbox() || connector.has_new_receipts())) continue;
    const int fd = eager ? watch->fd() : -1;
    const auto deadline = std::chrono::steady_clock::now() +
                          std::chrono::microseconds(static_cast<long long>(delay * 1e6));
    bool stopped = false;
    while (true) {
      const double left =
          std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
      const auto wake = stop.wait_for(left, fd);
      if (wake == StopSource::Wake::kStop) stopped = true;
      if (wake != StopSource::Wake::kFd) break;
      if (watch->drain()) break;  // the outbox changed: next round now
    }
    if (stopped) break;
  }
  return rounds;
}

}  // namespace c2c::connector
