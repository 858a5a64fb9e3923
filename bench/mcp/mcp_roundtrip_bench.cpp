// MCP send -> poll round trip: two `c2c mcp` processes on one broker directory, driven over
// pipes like an agent's client drives them. One iteration = tools/call send on A (alice -> bob)
// + tools/call poll_inbox on B, each waiting for its response line; the poll must return the
// message just sent. Bounded by --iterations and --max-seconds.
//
//   mcp_roundtrip_bench [--bin PATH] [--iterations N] [--warmup N] [--max-seconds S] [--dir PARENT]
// The broker directory is a fresh temp dir under PARENT (default $TMPDIR or /tmp); the servers
// inherit the environment, so C2C_BROKER_FSYNC=0 measures without the broker's fsyncs.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

class McpProcess {
 public:
  McpProcess(const std::string& bin, const std::vector<std::string>& extra_env) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe");
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      // The bench decides the session; inherited agent variables must not leak in.
      if (std::strncmp(*e, "C2C_MCP_", 8) == 0 || std::strncmp(*e, "CLAUDE_SESSION_ID=", 18) == 0 ||
          std::strncmp(*e, "CODEX_THREAD_ID=", 16) == 0) {
        continue;
      }
      env.emplace_back(*e);
    }
    env.insert(env.end(), extra_env.begin(), extra_env.end());
    std::vector<char*> cenv;
    for (auto& e : env) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    std::string b = bin, mcp = "mcp";
    char* argv[] = {b.data(), mcp.data(), nullptr};
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      const int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) ::dup2(devnull, 2);
      ::execve(argv[0], argv, cenv.data());
      _exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    to_ = in[1];
    from_ = out[0];
  }
  ~McpProcess() {
    if (to_ >= 0) ::close(to_);  // EOF: the server exits by itself
    int status = 0;
    ::waitpid(pid_, &status, 0);
    ::close(from_);
  }

  void send(const json& msg) {
    const std::string line = msg.dump() + "\n";
    if (::write(to_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      throw std::runtime_error("write to c2c mcp failed");
    }
  }
  std::string read_line() {
    while (true) {
      if (const auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      char tmp[65536];
      const ssize_t n = ::read(from_, tmp, sizeof tmp);
      if (n <= 0) throw std::runtime_error("c2c mcp closed its stdout");
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }
  json request(const std::string& method, json params) {
    send({{"jsonrpc", "2.0"}, {"id", ++id_}, {"method", method}, {"params", std::move(params)}});
    json r = json::parse(read_line());
    if (r.value("id", -1) != id_ || !r.contains("result")) {
      throw std::runtime_error("unexpected answer: " + r.dump());
    }
    return r["result"];
  }
  std::string call_tool(const std::string& name, json args) {
    json r = request("tools/call", {{"name", name}, {"arguments", std::move(args)}});
    const std::string text = r["content"][0]["text"];
    if (r["isError"].get<bool>()) throw std::runtime_error(name + " failed: " + text);
    return text;
  }
  void initialize() {
    request("initialize", {{"protocolVersion", "2025-06-18"},
                           {"capabilities", json::object()},
                           {"clientInfo", {{"name", "mcp_roundtrip_bench"}, {"version", "1"}}}});
    send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
  }

 private:
  pid_t pid_ = -1;
  int to_ = -1;
  int from_ = -1;
  std::string buf_;
  int id_ = 0;
};

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i =
      std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

void report(const char* what, const std::vector<double>& us) {
  double sum = 0;
  for (double x : us) sum += x;
  std::printf("%-22s median %8.1f us  p90 %8.1f us  p99 %8.1f us  max %8.1f us  mean %8.1f us\n",
              what, percentile(us, 0.5), percentile(us, 0.9), percentile(us, 0.99),
              percentile(us, 1.0), sum / static_cast<double>(us.size()));
}

}  // namespace

int main(int argc, char** argv) {
  std::string bin = C2C_BIN_DEFAULT;
  long iterations = 2000, warmup = 100;
  double max_seconds = 60;
  std::string parent = std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--bin")
      bin = argv[i + 1];
    else if (a == "--iterations")
      iterations = std::clamp(std::atol(argv[i + 1]), 1L, 1'000'000L);
    else if (a == "--warmup")
      warmup = std::clamp(std::atol(argv[i + 1]), 0L, 100'000L);
    else if (a == "--max-seconds")
      max_seconds = std::clamp(std::atof(argv[i + 1]), 1.0, 3600.0);
    else if (a == "--dir")
      parent = argv[i + 1];
    else {
      std::fprintf(stderr,
                   "usage: %s [--bin PATH] [--iterations N] [--warmup N] [--max-seconds S] "
                   "[--dir PARENT]\n",
                   argv[0]);
      return 2;
    }
  }
  ::signal(SIGPIPE, SIG_IGN);
  std::string tmpl = parent + "/c2c-mcp-bench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  const std::string root = tmpl;
  int rc = 0;
  try {
    McpProcess a(bin, {"C2C_MCP_BROKER_ROOT=" + root, "C2C_MCP_SESSION_ID=bench-ses-a",
                       "C2C_MCP_AUTO_REGISTER_ALIAS=bench-a"});
    McpProcess b(bin, {"C2C_MCP_BROKER_ROOT=" + root, "C2C_MCP_SESSION_ID=bench-ses-b",
                       "C2C_MCP_AUTO_REGISTER_ALIAS=bench-b"});
    a.initialize();
    b.initialize();
    if (a.call_tool("whoami", json::object()) != "bench-a" ||
        b.call_tool("whoami", json::object()) != "bench-b") {
      throw std::runtime_error("auto-register failed");
    }
    std::vector<double> round, send_us, poll_us;
    const auto deadline = Clock::now() + std::chrono::duration<double>(max_seconds);
    for (long i = 0; i < warmup + iterations && Clock::now() < deadline; ++i) {
      const std::string body = "ping " + std::to_string(i);
      const auto t0 = Clock::now();
      a.call_tool("send", {{"to_alias", "bench-b"}, {"content", body}});
      const auto t1 = Clock::now();
      const json inbox = json::parse(b.call_tool("poll_inbox", json::object()));
      const auto t2 = Clock::now();
      if (inbox.size() != 1 || inbox[0]["content"] != body) {
        throw std::runtime_error("poll_inbox did not return the message: " + inbox.dump());
      }
      if (i < warmup) continue;
      using us = std::chrono::duration<double, std::micro>;
      send_us.push_back(us(t1 - t0).count());
      poll_us.push_back(us(t2 - t1).count());
      round.push_back(us(t2 - t0).count());
    }
    if (round.empty()) throw std::runtime_error("no iteration completed before --max-seconds");
    const char* fsync_env = std::getenv("C2C_BROKER_FSYNC");
    std::printf(
        "mcp_roundtrip_bench: %zu iterations (after %ld warm-up), 2 c2c mcp processes, "
        "broker in %s, fsync %s\n",
        round.size(), warmup, parent.c_str(),
        fsync_env != nullptr && std::string(fsync_env) == "0" ? "off" : "on");
    report("send (A)", send_us);
    report("poll_inbox (B)", poll_us);
    report("send -> poll round trip", round);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mcp_roundtrip_bench: %s\n", e.what());
    rc = 1;
  }
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  return rc;
}
