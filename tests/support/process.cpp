#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace c2c::test {

std::string c2c_bin() {
  const char* bin = std::getenv("C2C_BIN");
  if (bin != nullptr && *bin != '\0') return bin;
  return C2C_BIN_DEFAULT;
}

std::string source_dir() {
  const char* dir = std::getenv("C2C_SOURCE_DIR");
  if (dir != nullptr && *dir != '\0') return dir;
  return C2C_SOURCE_DIR_DEFAULT;
}

namespace {

std::vector<std::string> build_env(const ProcessOptions& o) {
  std::map<std::string, std::string> env;
  if (o.clean_env) {
    if (const char* path = std::getenv("PATH")) env["PATH"] = path;
  } else {
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv(*e);
      const auto eq = kv.find('=');
      if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  for (const auto& k : o.unset_env) env.erase(k);
  for (const auto& [k, v] : o.env) env[k] = v;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// fork + exec with the three pipes. Returns pid; fills fds.
pid_t spawn(const std::vector<std::string>& argv, const ProcessOptions& o, int& in_w, int& out_r,
            int& err_r) {
  int in_p[2], out_p[2], err_p[2];
  if (::pipe2(in_p, O_CLOEXEC) != 0 || ::pipe2(out_p, O_CLOEXEC) != 0 ||
      ::pipe2(err_p, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  auto env = build_env(o);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<char*> cenv;
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(in_p[0], 0);
    ::dup2(out_p[1], 1);
    ::dup2(err_p[1], 2);
    if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) _exit(126);
    // Nothing else of the test process goes along: its sockets (Asio opens them without
    // close-on-exec) would otherwise live on in the child, so a relay started by a test held the
    // test's connections to the relay before it, which the soak counts as leaked.
    ::close_range(3, ~0U, 0);
    ::execve(cargv[0], cargv.data(), cenv.data());
    const char* msg = "exec failed\n";
    (void)!::write(2, msg, std::strlen(msg));
    _exit(127);
  }
  ::close(in_p[0]);
  ::close(out_p[1]);
  ::close(err_p[1]);
  in_w = in_p[1];
  out_r = out_p[0];
  err_r = err_p[0];
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

void write_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    off += static_cast<size_t>(n);
  }
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, const ProcessOptions& options) {
  ProcessOptions o = options;
  Child child(argv, o);
  RunResult r;
  r.exit_code = child.wait(o.timeout);
  if (r.exit_code == -1) {
    child.signal(SIGKILL);
    r.exit_code = child.wait(std::chrono::milliseconds(5'000));
  }
  r.out = child.out();
  r.err = child.err();
  return r;
}

RunResult run_c2c(const std::vector<std::string>& args, const ProcessOptions& options) {
  std::vector<std::string> argv{c2c_bin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, options);
}

Child::Child(const std::vector<std::string>& argv, const ProcessOptions& options) {
  // A child killed mid-write must not kill the test with SIGPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  int out_r = -1, err_r = -1;
  pid_ = spawn(argv, options, stdin_fd_, out_r, err_r);
  auto reader = [](int fd, Stream* s) {
    char buf[65536];
    while (true) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      std::lock_guard<std::mutex> lk(s->mu);
      s->data.append(buf, static_cast<size_t>(n));
      s->cv.notify_all();
    }
    ::close(fd);
    std::lock_guard<std::mutex> lk(s->mu);
    s->closed = true;
    s->cv.notify_all();
  };
  out_reader_ = std::thread(reader, out_r, &out_);
  err_reader_ = std::thread(reader, err_r, &err_);
  if (!options.stdin_data.empty()) write_all(stdin_fd_, options.stdin_data);
  if (!options.keep_stdin_open) close_stdin();
}

Child::~Child() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait(std::chrono::milliseconds(10'000));
  }
  close_stdin();
  if (out_reader_.joinable()) out_reader_.join();
  if (err_reader_.joinable()) err_reader_.join();
}

std::optional<std::string> Child::wait_line(Stream& s,
                                            const std::function<bool(const std::string&)>& pred,
                                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lk(s.mu);
  size_t scanned = 0;
  while (true) {
    // Check every complete line not yet examined.
    size_t nl;
    while ((nl = s.data.find('\n', scanned)) != std::string::npos) {
      std::string line = s.data.substr(scanned, nl - scanned);
      scanned = nl + 1;
      if (pred(line)) return line;
    }
    if (s.closed) {
      if (scanned < s.data.size()) {
        std::string line = s.data.substr(scanned);
        scanned = s.data.size();
        if (pred(line)) return line;
      }
      return std::nullopt;
    }
    if (s.cv.wait_until(lk, deadline) == std::cv_status::timeout) return std::nullopt;
  }
}

std::optional<std::string> Child::wait_for_line(const std::function<bool(const std::string&)>& pred,
                                                std::chrono::milliseconds timeout) {
  return wait_line(out_, pred, timeout);
}

std::optional<std::string> Child::wait_for_err_line(
    const std::function<bool(const std::string&)>& pred, std::chrono::milliseconds timeout) {
  return wait_line(err_, pred, timeout);
}

bool Child::write_stdin(const std::string& data) {
  if (stdin_fd_ < 0) return false;
  write_all(stdin_fd_, data);
  return true;
}

void Child::close_stdin() {
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
    stdin_fd_ = -1;
  }
}

void Child::signal(int sig) {
  if (!reaped_ && pid_ > 0) ::kill(pid_, sig);
}

int Child::wait(std::chrono::milliseconds timeout) {
  if (reaped_) return exit_code_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      exit_code_ = decode_status(status);
      // Let the readers drain what the child wrote before exiting.
      if (out_reader_.joinable()) out_reader_.join();
      if (err_reader_.joinable()) err_reader_.join();
      return exit_code_;
    }
    if (r < 0 && errno != EINTR) return -1;
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    // Poll for exit at 5 ms granularity (bounded by the deadline above).
    ::poll(nullptr, 0, 5);
  }
}

bool Child::running() {
  if (reaped_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    exit_code_ = decode_status(status);
    return false;
  }
  return true;
}

std::string Child::out() {
  std::lock_guard<std::mutex> lk(out_.mu);
  return out_.data;
}

std::string Child::err() {
  std::lock_guard<std::mutex> lk(err_.mu);
  return err_.data;
}

RelayProcess start_relay(const std::vector<std::string>& extra_args, const ProcessOptions& options,
                         std::chrono::milliseconds ready_timeout) {
  std::vector<std::string> argv{c2c_bin(), "relay", "serve", "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  RelayProcess rp;
  rp.child = std::make_unique<Child>(argv, options);
  const std::string marker = "c2c relay serving on ";
  auto line = rp.child->wait_for_line([&](const std::string& l) { return l.rfind(marker, 0) == 0; },
                                      ready_timeout);
  if (!line) {
    throw std::runtime_error("relay did not become ready; stderr: " + rp.child->err());
  }
  std::string url = line->substr(marker.size());
  const auto sp = url.find(' ');
  if (sp != std::string::npos) url.resize(sp);
  rp.url = url;
  return rp;
}

}  // namespace c2c::test
