#include "c2c/connector/run_loop.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>

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
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::microseconds(
                                           static_cast<long long>(std::max(0.0, seconds) * 1e6));
  while (!stop_.load()) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) return false;
    if (pipe_[0] >= 0) {
      pollfd p{pipe_[0], POLLIN, 0};
      const int timeout = static_cast<int>(std::min<long long>(left.count() + 1, 60'000));
      ::poll(&p, 1, timeout);  // EINTR or readable: loop re-checks the flag
    } else {
      ::usleep(static_cast<useconds_t>(std::min<long long>(left.count(), 100) * 1000));
    }
  }
  return true;
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
    if (stop.wait_for(delay)) break;
  }
  return rounds;
}

}  // namespace c2c::connector
