#include "c2c/connector/daemon.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "c2c/core/env.hpp"
#include "c2c/core/fd_io.hpp"

namespace c2c::connector {

namespace fs = std::filesystem;

namespace {

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

double now_epoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Reads the pid written in a pidfile (0 when empty or unreadable).
pid_t read_pid(const fs::path& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return 0;
  return static_cast<pid_t>(pid);
}

std::optional<ConnectorState> read_state(const fs::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  ConnectorState s;
  s.pid = j.value("pid", 0);
  s.mode = j.value("mode", "");
  s.started_at = j.value("started_at", 0.0);
  s.broker_root = j.value("broker_root", "");
  s.relay_url = j.value("relay_url", "");
  s.node_id = j.value("node_id", "");
  s.log_file = j.value("log_file", "");
  return s;
}

// Opens the pidfile and tries the lock. Returns the fd (locked) or -1 with *held set when
// another process holds it.
int open_and_lock(const fs::path& pidfile, bool* held) {
  *held = false;
  const int fd = ::open(pidfile.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    *held = errno == EWOULDBLOCK;
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

fs::path pidfile_path(const fs::path& broker_root) {
  return broker_root / "relay-connector.pid";
}
fs::path statefile_path(const fs::path& broker_root) {
  return broker_root / "relay-connector.json";
}

fs::path default_log_path() {
  return xdg_base_dir(XdgBase::kData).value_or(fs::path("/tmp") / ".local" / "share") / "c2c" /
         "relay-connector.log";
}

Result<PidLock> PidLock::acquire(const fs::path& broker_root) {
  std::error_code ec;
  if (!fs::is_directory(broker_root, ec)) {
    return fail(ErrorCode::kNotFound,
                "broker root " + broker_root.string() +
                    " does not exist (create it, or pass --broker-root / set C2C_MCP_BROKER_ROOT)");
  }
  const fs::path pidfile = pidfile_path(broker_root);
  bool held = false;
  const int fd = open_and_lock(pidfile, &held);
  if (fd >= 0) return PidLock(fd, broker_root);
  if (!held) return fail(ErrorCode::kIo, errno_text("cannot open " + pidfile.string()));
  const pid_t pid = read_pid(pidfile);
  return fail(ErrorCode::kUnavailable,
              "a relay connector is already running for broker root " + broker_root.string() +
                  (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()) +
                  "; see `c2c relay connect --status`, stop it with `c2c relay connect --stop`");
}

PidLock::PidLock(PidLock&& other) noexcept : fd_(other.fd_), root_(std::move(other.root_)) {
  other.fd_ = -1;
}

PidLock::~PidLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> PidLock::publish(ConnectorState state) {
  state.pid = ::getpid();
  const std::string pid = std::to_string(state.pid) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
    return fail(ErrorCode::kIo, errno_text("cannot write " + pidfile_path(root_).string()));
  }
  nlohmann::json j = {{"pid", state.pid},
                      {"mode", state.mode},
                      {"started_at", state.started_at},
                      {"broker_root", state.broker_root},
                      {"relay_url", state.relay_url},
                      {"node_id", state.node_id},
                      {"log_file", state.log_file}};
  // Written only by the lock holder; tmp + rename so --status never reads half a file.
  const fs::path path = statefile_path(root_);
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump() << "\n";
    if (!out) return fail(ErrorCode::kIo, "cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return fail(ErrorCode::kIo, "cannot write " + path.string() + ": " + ec.message());
  return {};
}

void PidLock::clear() {
  if (fd_ < 0) return;
  [[maybe_unused]] const int r = ::ftruncate(fd_, 0);
  std::error_code ec;
  fs::remove(statefile_path(root_), ec);
}

RunningStatus probe(const fs::path& broker_root) {
  RunningStatus st;
  const fs::path pidfile = pidfile_path(broker_root);
  if (!fs::exists(pidfile)) return st;
  bool held = false;
  const int fd = open_and_lock(pidfile, &held);
  if (fd >= 0) {
    ::close(fd);  // nobody holds it: not running (closing drops our probe lock)
    return st;
  }
  st.running = held;
  if (!held) return st;
  st.pid = read_pid(pidfile);
  st.state = read_state(statefile_path(broker_root));
  return st;
}

Result<pid_t> stop_running(const fs::path& broker_root, double timeout_seconds) {
  const RunningStatus st = probe(broker_root);
  if (!st.running) {
    return fail(ErrorCode::kNotFound,
                "no relay connector is running for broker root " + broker_root.string());
  }
  if (st.pid <= 0) {
    return fail(ErrorCode::kIo, "a relay connector holds " + pidfile_path(broker_root).string() +
                                    " but its pid is not written yet; try again");
  }
  // A pidfd follows this very process even if the pid is reused after it exits.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, st.pid, 0));
  if (::kill(st.pid, SIGTERM) != 0 && errno != ESRCH) {
    if (pidfd >= 0) ::close(pidfd);
    return fail(ErrorCode::kIo, errno_text("cannot signal pid " + std::to_string(st.pid)));
  }
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<long long>(timeout_seconds * 1000));
  bool exited = false;
  while (!exited) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) break;
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      exited = ::poll(&p, 1, static_cast<int>(left)) > 0;
    } else {
      // No pidfd (old kernel): the lock is the exit signal; probe it every 20 ms.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      exited = !probe(broker_root).running;
    }
  }
  if (pidfd >= 0) ::close(pidfd);
  if (!exited) {
    return fail(ErrorCode::kUnavailable,
                "the relay connector (pid " + std::to_string(st.pid) + ") did not stop within " +
                    std::to_string(static_cast<int>(timeout_seconds)) + " s");
  }
  return st.pid;
}

Result<Detached> detach(const std::function<void(pid_t)>& on_started) {
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) return fail(ErrorCode::kIo, errno_text("pipe"));
  std::cout.flush();
  std::cerr.flush();
  const pid_t first = ::fork();
  if (first < 0) return fail(ErrorCode::kIo, errno_text("fork"));
  if (first > 0) {
    // The original process: wait for the daemon's word, then leave.
    ::close(ready[1]);
    std::string msg;
    read_to_eof(ready[0], msg);
    int status = 0;
    ::waitpid(first, &status, 0);  // the intermediate child exits at once
    if (msg.rfind("ok ", 0) == 0) {
      on_started(static_cast<pid_t>(std::atol(msg.c_str() + 3)));
      std::cout.flush();
      std::_Exit(0);
    }
    std::cerr << "error: "
              << (msg.rfind("error ", 0) == 0 ? msg.substr(6)
                                              : std::string("the daemon exited during startup"))
              << "\n";
    std::cerr.flush();
    std::_Exit(1);
  }
  // Intermediate child: a new session without a controlling terminal, then fork again so the
  // daemon is not a session leader and can never acquire a terminal.
  ::close(ready[0]);
  ::setsid();
  const pid_t second = ::fork();
  if (second < 0) {
    write_fully(ready[1], "error " + errno_text("fork"));
    std::_Exit(1);
  }
  if (second > 0) std::_Exit(0);
  const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull >= 0) {
    ::dup2(devnull, STDIN_FILENO);
    ::close(devnull);
  }
  const int fd = ready[1];
  Detached d;
  d.ready = [fd] {
    write_fully(fd, "ok " + std::to_string(::getpid()));
    ::close(fd);
  };
  d.failed = [fd](const std::string& error) {
    write_fully(fd, "error " + error);
    ::close(fd);
  };
  return d;
}

std::string iso_timestamp_utc(double epoch_seconds) {
  const auto secs = static_cast<time_t>(epoch_seconds);
  int ms = static_cast<int>((epoch_seconds - static_cast<double>(secs)) * 1000);
  if (ms < 0) ms = 0;
  if (ms > 999) ms = 999;
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[96];  // room for any int values -Wformat-truncation cannot rule out
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

Result<LineLog> LineLog::open(const fs::path& path, uint64_t max_bytes, bool redirect_std) {
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return fail(ErrorCode::kIo, errno_text("cannot open log file " + path.string()));
  if (redirect_std) {
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
  }
  return LineLog(fd, path, max_bytes, redirect_std);
}

LineLog::LineLog(LineLog&& other) noexcept
    : fd_(other.fd_),
      path_(std::move(other.path_)),
      max_bytes_(other.max_bytes_),
      redirect_std_(other.redirect_std_) {
  other.fd_ = -1;
}

LineLog::~LineLog() {
  if (fd_ >= 0) ::close(fd_);
}

void LineLog::rotate_if_needed() {
  struct stat mine {};
  if (max_bytes_ == 0 || ::fstat(fd_, &mine) != 0 ||
      static_cast<uint64_t>(mine.st_size) < max_bytes_) {
    return;
  }
  // Another writer may have rotated already: only rename the file if it is still ours.
  struct stat at_path {};
  if (::stat(path_.c_str(), &at_path) == 0 && at_path.st_ino == mine.st_ino &&
      at_path.st_dev == mine.st_dev) {
    ::rename(path_.c_str(), (path_.string() + ".1").c_str());
  }
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return;  // keep writing to the old file rather than lose lines
  ::close(fd_);
  fd_ = fd;
  if (redirect_std_) {
    ::dup2(fd_, STDOUT_FILENO);
    ::dup2(fd_, STDERR_FILENO);
  }
}

void LineLog::write(const std::string& line) {
  if (fd_ < 0) return;
  rotate_if_needed();
  std::string out = iso_timestamp_utc(now_epoch());
  out += ' ';
  out += line;
  if (out.empty() || out.back() != '\n') out += '\n';
  write_fully(fd_, out);
}

}  // namespace c2c::connector
