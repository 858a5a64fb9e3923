// Times `c2c send` (the real binary, one process per call, as an agent's shell runs it) and
// Broker::send in-process, against a broker root holding S registrations (default S = 10 and
// 10,000). The recipient row is the last one of the registry (worst case for the lookup); the
// sender is found through C2C_MCP_SESSION_ID, as for an agent. The recipient's inbox is
// drained every 20 sends so inbox size does not drift into the figures.
//
//   broker_send_bench [--runs N] [--sessions 10,10000] [--c2c PATH] [--no-fsync]
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "c2c/broker/files.hpp"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Stats {
  double median = 0, p90 = 0, mean = 0, min = 0, max = 0;
};

Stats stats_of(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  Stats s;
  s.min = ms.front();
  s.max = ms.back();
  s.median = ms[ms.size() / 2];
  s.p90 = ms[std::min(ms.size() - 1, ms.size() * 9 / 10)];
  double sum = 0;
  for (double v : ms) sum += v;
  s.mean = sum / static_cast<double>(ms.size());
  return s;
}

// A registry of `n` rows shaped like real ones (pid, start time, timestamps, client type);
// the sender is the first row, the recipient the last.
void write_registry(const fs::path& root, size_t n) {
  fs::create_directories(root);
  std::string out = "[";
  const std::string pid = std::to_string(::getpid());
  for (size_t i = 0; i < n; ++i) {
    std::string alias = i == 0       ? "bench-sender"
                        : i + 1 == n ? "bench-recipient"
                                     : "peer-" + std::to_string(i);
    std::string sid = i == 0       ? "ses-sender"
                      : i + 1 == n ? "ses-recipient"
                                   : "ses-" + std::to_string(100000 + i);
    if (i > 0) out += ",";
    // Only the two rows the bench touches carry this process's pid; liveness is only ever
    // checked for rows matching the looked-up alias.
    const bool ours = i == 0 || i + 1 == n;
    out += "{\"session_id\":\"" + sid + "\",\"alias\":\"" + alias +
           "\",\"pid\":" + (ours ? pid : std::to_string(200000 + i)) +
           ",\"registered_at\":1776730000.123456,\"client_type\":\"claude\","
           "\"confirmed_at\":1776730001.5}";
  }
  out += "]";
  std::ofstream(root / "registry.json") << out;
}

struct Sample {
  double wall_ms = 0;
  double cpu_ms = 0;  // user + system time of the process (or thread) itself
};

double cpu_ms_of(const rusage& ru) {
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

Sample run_cli_send(const std::string& bin, const fs::path& root) {
  const std::string root_env = "C2C_MCP_BROKER_ROOT=" + root.string();
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "C2C_", 4) == 0 || std::strncmp(*e, "CLAUDE_SESSION_ID=", 18) == 0 ||
        std::strncmp(*e, "CODEX_THREAD_ID=", 16) == 0) {
      continue;
    }
    envs.emplace_back(*e);
  }
  envs.push_back(root_env);
  envs.push_back("C2C_MCP_SESSION_ID=ses-sender");
  if (!c2c::broker::files::fsync_enabled()) envs.push_back("C2C_BROKER_FSYNC=0");
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = {bin, "send", "bench-recipient", "benchmark message body"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  const auto t0 = Clock::now();
  pid_t pid = -1;
  if (posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv.data(), envp.data()) != 0) {
    std::perror("posix_spawn");
    std::exit(1);
  }
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  const auto t1 = Clock::now();
  posix_spawn_file_actions_destroy(&actions);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "c2c send failed (status %d)\n", status);
    std::exit(1);
  }
  return {std::chrono::duration<double, std::milli>(t1 - t0).count(), cpu_ms_of(ru)};
}

double thread_cpu_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 200;
  std::vector<size_t> sessions = {10, 10000};
  std::string bin = std::getenv("C2C_BIN") ? std::getenv("C2C_BIN") : C2C_BIN_DEFAULT;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else if (a == "--c2c" && i + 1 < argc) {
      bin = argv[++i];
    } else if (a == "--no-fsync") {
      c2c::broker::files::set_fsync_enabled(false);
    } else if (a == "--sessions" && i + 1 < argc) {
      sessions.clear();
      std::string list = argv[++i];
      for (size_t pos = 0; pos <= list.size();) {
        const size_t comma = std::min(list.find(',', pos), list.size());
        sessions.push_back(std::stoul(list.substr(pos, comma - pos)));
        pos = comma + 1;
      }
    } else {
      std::fprintf(stderr,
                   "usage: broker_send_bench [--runs N] [--sessions 10,10000] [--c2c PATH] "
                   "[--no-fsync]\n");
      return 2;
    }
  }
  if (runs < 5) runs = 5;
  char tmpl[] = "/tmp/c2c-broker-bench-XXXXXX";
  const fs::path base = ::mkdtemp(tmpl);
  std::printf("c2c: %s\nruns per case: %d, fsync: %s\n\n", bin.c_str(), runs,
              c2c::broker::files::fsync_enabled() ? "on" : "off");
  std::printf("%-10s %-22s %9s %9s %9s %9s %9s\n", "sessions", "what", "median_ms", "p90_ms",
              "mean_ms", "min_ms", "max_ms");
  std::vector<double> cli_medians, lib_medians, cli_cpu_medians, lib_cpu_medians;
  for (size_t n : sessions) {
    const fs::path root = base / ("s" + std::to_string(n));
    write_registry(root, std::max<size_t>(n, 2));
    c2c::broker::Broker drainer(root);

    std::vector<double> cli, cli_cpu;
    for (int i = 0; i < runs; ++i) {
      const Sample smp = run_cli_send(bin, root);
      cli.push_back(smp.wall_ms);
      cli_cpu.push_back(smp.cpu_ms);
      if (i % 20 == 19) (void)drainer.poll("ses-recipient");
    }
    (void)drainer.poll("ses-recipient");

    // In-process: a fresh Broker per call, so every send reads and parses the registry as a
    // new process would (no warm cache).
    std::vector<double> lib, lib_cpu;
    for (int i = 0; i < runs; ++i) {
      c2c::broker::Broker b(root);
      const double c0 = thread_cpu_ms();
      const auto t0 = Clock::now();
      auto r = b.send("bench-sender", "bench-recipient", "benchmark message body");
      const auto t1 = Clock::now();
      lib_cpu.push_back(thread_cpu_ms() - c0);
      if (!r) {
        std::fprintf(stderr, "Broker::send failed: %s\n", r.error().message.c_str());
        return 1;
      }
      lib.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      if (i % 20 == 19) (void)drainer.poll("ses-recipient");
    }
    const auto registry_bytes = fs::file_size(root / "registry.json");
    for (const auto& [name, samples] :
         {std::pair<const char*, std::vector<double>&>{"c2c send: wall", cli},
          std::pair<const char*, std::vector<double>&>{"c2c send: cpu", cli_cpu},
          std::pair<const char*, std::vector<double>&>{"Broker::send: wall", lib},
          std::pair<const char*, std::vector<double>&>{"Broker::send: cpu", lib_cpu}}) {
      const Stats s = stats_of(samples);
      std::printf("%-10zu %-22s %9.3f %9.3f %9.3f %9.3f %9.3f\n", n, name, s.median, s.p90, s.mean,
                  s.min, s.max);
    }
    std::printf("%-10s registry.json = %zu bytes\n", "", static_cast<size_t>(registry_bytes));
    cli_medians.push_back(stats_of(cli).median);
    lib_medians.push_back(stats_of(lib).median);
    cli_cpu_medians.push_back(stats_of(cli_cpu).median);
    lib_cpu_medians.push_back(stats_of(lib_cpu).median);
  }
  if (sessions.size() >= 2) {
    std::printf(
        "\nmedian ratio %zu vs %zu sessions: c2c send wall %.2fx (cpu %.2fx), "
        "Broker::send wall %.2fx (cpu %.2fx)\n",
        sessions.back(), sessions.front(), cli_medians.back() / cli_medians.front(),
        cli_cpu_medians.back() / cli_cpu_medians.front(), lib_medians.back() / lib_medians.front(),
        lib_cpu_medians.back() / lib_cpu_medians.front());
    double load[3] = {0, 0, 0};
    if (::getloadavg(load, 3) > 0) std::printf("load average at the end: %.2f\n", load[0]);
  }
  fs::remove_all(base);
  return 0;
}
