#pragma once
// Managed connector process (docs/relay-client.md "Running the connector as a daemon"):
//  - one connector loop per broker root, enforced by an exclusive flock on
//    <broker-root>/relay-connector.pid (a lock, not a pid check: a stale file or a reused pid
//    cannot fool it, and the kernel drops the lock when the holder dies, however it dies);
//  - a state file next to it (relay-connector.json) that --status reads;
//  - detaching (--daemon) with a readiness pipe, so the starting command reports the daemon's
//    pid or its startup error;
//  - a size-capped log with ISO 8601 timestamps (one rotated copy, <log>.1).

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "c2c/core/result.hpp"

namespace c2c::connector {

// <broker-root>/relay-connector.pid and <broker-root>/relay-connector.json.
std::filesystem::path pidfile_path(const std::filesystem::path& broker_root);
std::filesystem::path statefile_path(const std::filesystem::path& broker_root);
// $XDG_DATA_HOME/c2c/relay-connector.log, else ~/.local/share/c2c/relay-connector.log.
std::filesystem::path default_log_path();

// What a running connector tells --status (written as JSON by its owner).
struct ConnectorState {
  pid_t pid = 0;
  std::string mode;  // "daemon" | "foreground"
  double started_at = 0;
  std::string broker_root;
  std::string relay_url;
  std::string node_id;
  std::string log_file;  // "" when logging to stdout
};

// The lock that makes a connector loop the only one for its broker root. Held for the life of
// the object (or of the process and its forks, since the lock belongs to the open file).
class PidLock {
 public:
  // kUnavailable (the message names the holder's pid) when another process holds it;
  // kNotFound when the broker root does not exist.
  static Result<PidLock> acquire(const std::filesystem::path& broker_root);
  PidLock(PidLock&& other) noexcept;
  PidLock& operator=(PidLock&&) = delete;
  ~PidLock();

  // Rewrites the pidfile with the current pid and the state file (call again after forking).
  Result<void> publish(ConnectorState state);
  // Empties the pidfile on a clean exit (the file stays: unlinking a lock file lets two
  // processes lock two different inodes).
  void clear();

 private:
  PidLock(int fd, std::filesystem::path root) : fd_(fd), root_(std::move(root)) {}
  int fd_ = -1;
  std::filesystem::path root_;
};

struct RunningStatus {
  bool running = false;
  std::optional<ConnectorState> state;  // the state file, when it could be read
  pid_t pid = 0;                        // from the pidfile when running
};
// Whether a connector holds the lock of this broker root (probes the lock, never waits).
RunningStatus probe(const std::filesystem::path& broker_root);

// SIGTERM to the running connector, then waits up to timeout_seconds for it to exit.
// kNotFound when none is running; kUnavailable when it did not stop in time.
Result<pid_t> stop_running(const std::filesystem::path& broker_root, double timeout_seconds);

// Detaches the process (fork, setsid, fork; stdin from /dev/null). Returns in the daemon
// (true) and never returns in the original process: it waits until the daemon calls
// `ready` (then prints `on_started(pid)` and exits 0) or reports a failure (exit 1 with the
// daemon's message on stderr).
struct Detached {
  std::function<void()> ready;                           // daemon: startup went fine
  std::function<void(const std::string& error)> failed;  // daemon: startup failed
};
Result<Detached> detach(const std::function<void(pid_t daemon_pid)>& on_started);

// "2026-04-21T00:05:30.123Z" (UTC, milliseconds).
std::string iso_timestamp_utc(double epoch_seconds);

// Appends timestamped lines to a file; when the file reaches max_bytes it becomes <file>.1
// (replacing an older one) and a new file starts. Each line is one write(2) on an O_APPEND fd.
// With redirect_std, stdout and stderr point at the current file too (output of other code
// still lands in the log, and follows a rotation).
class LineLog {
 public:
  static Result<LineLog> open(const std::filesystem::path& path, uint64_t max_bytes,
                              bool redirect_std);
  LineLog(LineLog&& other) noexcept;
  LineLog& operator=(LineLog&&) = delete;
  ~LineLog();
  void write(const std::string& line);
  const std::filesystem::path& path() const { return path_; }

 private:
  LineLog(int fd, std::filesystem::path path, uint64_t max_bytes, bool redirect_std)
      : fd_(fd), path_(std::move(path)), max_bytes_(max_bytes), redirect_std_(redirect_std) {}
  void rotate_if_needed();
  int fd_ = -1;
  std::filesystem::path path_;
  uint64_t max_bytes_;
  bool redirect_std_;
};

}  // namespace c2c::connector
