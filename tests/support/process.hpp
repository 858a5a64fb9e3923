#pragma once
// Runs real processes for integration and e2e tests: the c2c binary (path from $C2C_BIN,
// set by ctest), servers started on port 0 whose readiness is a line on stdout.
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace c2c::test {

// Path of the c2c binary under test: $C2C_BIN (set by ctest), else the one this build made.
std::string c2c_bin();
// The repository root (for scripts and fixtures): $C2C_SOURCE_DIR, else this checkout.
std::string source_dir();

struct ProcessOptions {
  std::map<std::string, std::string> env;     // set (override) in the child's environment
  std::vector<std::string> unset_env;         // removed from the child's environment
  bool clean_env = false;                     // start from PATH only (plus `env`)
  std::string cwd;                            // "" = inherit
  std::string stdin_data;                     // written to stdin, then stdin is closed
  bool keep_stdin_open = false;               // for interactive children (MCP servers)
  std::chrono::milliseconds timeout{60'000};  // run(): kill after this long
};

struct RunResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;
  std::string err;
};

// Runs to completion (bounded by options.timeout; a timed-out child is killed with SIGKILL
// and reported as exit code 137).
RunResult run(const std::vector<std::string>& argv, const ProcessOptions& options = {});
// Convenience: run(c2c_bin() + args).
RunResult run_c2c(const std::vector<std::string>& args, const ProcessOptions& options = {});

// A child process running in the background with its stdout/stderr captured.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const ProcessOptions& options = {});
  ~Child();  // SIGKILL + reap if still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  // Waits until a stdout line satisfies pred; returns it, or nullopt on timeout / exit.
  std::optional<std::string> wait_for_line(const std::function<bool(const std::string&)>& pred,
                                           std::chrono::milliseconds timeout);
  // Same, on stderr.
  std::optional<std::string> wait_for_err_line(const std::function<bool(const std::string&)>& pred,
                                               std::chrono::milliseconds timeout);
  bool write_stdin(const std::string& data);
  void close_stdin();
  void signal(int sig);
  // Waits for exit (bounded); returns exit code (128+N if signalled), or -1 on timeout.
  int wait(std::chrono::milliseconds timeout = std::chrono::milliseconds(30'000));
  bool running();
  std::string out();
  std::string err();

 private:
  struct Stream {
    std::mutex mu;
    std::condition_variable cv;
    std::string data;
    bool closed = false;
  };
  std::optional<std::string> wait_line(Stream& s,
                                       const std::function<bool(const std::string&)>& pred,
                                       std::chrono::milliseconds timeout);
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int exit_code_ = -1;
  bool reaped_ = false;
  Stream out_, err_;
  std::thread out_reader_, err_reader_;
};

// Starts `c2c relay serve --listen 127.0.0.1:0 <extra>` and waits for
// "c2c relay serving on http://127.0.0.1:PORT"; the URL is read back from that line.
struct RelayProcess {
  std::unique_ptr<Child> child;
  std::string url;  // "http://127.0.0.1:PORT"
};
RelayProcess start_relay(
    const std::vector<std::string>& extra_args, const ProcessOptions& options = {},
    std::chrono::milliseconds ready_timeout = std::chrono::milliseconds(20'000));

}  // namespace c2c::test
