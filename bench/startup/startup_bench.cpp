// Start-up cost of the c2c binary as agents feel it (docs/performance.md "Start-up"): wall time
// of `c2c --version` and `c2c send` per call against `/bin/true`, every process spawned the same
// way (posix_spawn + waitpid), interleaved round by round so machine noise hits all three alike.
// Reports medians, p90 and the ratios to /bin/true of the same run.
//
//   startup_bench [--runs N] [--c2c PATH] [--max-ratio R]
// --max-ratio: exit 1 when `c2c send` median > R x the /bin/true median.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double spawn_ms(const std::vector<std::string>& argv, char** envp) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  const auto start = Clock::now();
  pid_t pid = 0;
  if (posix_spawn(&pid, args[0], &fa, nullptr, args.data(), envp) != 0) {
    std::fprintf(stderr, "cannot spawn %s\n", args[0]);
    std::exit(2);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  posix_spawn_file_actions_destroy(&fa);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "%s exited with status %d\n", args[0], status);
    std::exit(2);
  }
  return ms;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 300;
  std::string c2c = C2C_BIN_DEFAULT;
  double max_ratio = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      runs = std::max(5, std::atoi(argv[++i]));
    } else if (a == "--c2c" && i + 1 < argc) {
      c2c = argv[++i];
    } else if (a == "--max-ratio" && i + 1 < argc) {
      max_ratio = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: startup_bench [--runs N] [--c2c PATH] [--max-ratio R]\n");
      return 2;
    }
  }
  // A broker root with 10 sessions; the sender is found through C2C_MCP_SESSION_ID, as for an
  // agent. The recipient's inbox is emptied every 50 rounds so its size does not drift.
  char tmpl[] = "/tmp/c2c-startup-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 2;
  const fs::path root = fs::path(tmpl) / "broker";
  fs::create_directories(root);
  {
    std::string reg = "[";
    const std::string pid = std::to_string(::getpid());
    for (int i = 0; i < 10; ++i) {
      if (i > 0) reg += ",";
      const std::string alias = i == 0   ? "sender"
                                : i == 9 ? "recipient"
                                         : "peer-" + std::to_string(i);
      reg += "{\"session_id\":\"ses-" + alias + "\",\"alias\":\"" + alias +
             "\",\"pid\":" + (i == 0 || i == 9 ? pid : std::to_string(300000 + i)) +
             ",\"registered_at\":1776730000.5,\"client_type\":\"claude\"}";
    }
    std::ofstream(root / "registry.json") << reg << "]";
  }
  std::vector<std::string> env_strings = {"PATH=/usr/bin:/bin", "HOME=" + std::string(tmpl),
                                          "C2C_MCP_BROKER_ROOT=" + root.string(),
                                          "C2C_MCP_SESSION_ID=ses-sender"};
  std::vector<char*> envp;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  std::vector<double> t_true, t_version, t_send;
  for (int i = 0; i < runs; ++i) {
    t_true.push_back(spawn_ms({"/bin/true"}, envp.data()));
    t_version.push_back(spawn_ms({c2c, "--version"}, envp.data()));
    t_send.push_back(spawn_ms({c2c, "send", "recipient", "startup bench message"}, envp.data()));
    if (i % 50 == 49) fs::remove(root / "ses-recipient.inbox.json");
  }
  fs::remove_all(tmpl);
  const double base = percentile(t_true, 0.5);
  std::printf("runs=%d c2c=%s\n", runs, c2c.c_str());
  std::printf("%-14s %10s %10s %8s\n", "command", "median_ms", "p90_ms", "x_true");
  auto row = [&](const char* name, const std::vector<double>& v) {
    std::printf("%-14s %10.3f %10.3f %8.2f\n", name, percentile(v, 0.5), percentile(v, 0.9),
                percentile(v, 0.5) / base);
  };
  row("/bin/true", t_true);
  row("c2c --version", t_version);
  row("c2c send", t_send);
  if (max_ratio > 0 && percentile(t_send, 0.5) > max_ratio * base) {
    std::fprintf(stderr, "c2c send median is above %.1fx /bin/true\n", max_ratio);
    return 1;
  }
  return 0;
}
