// Connector benchmarks against a real `c2c relay serve` process on loopback (prod mode: every
// request signed, as in production).
//
//   connector_bench tick    [--bin PATH] [--sessions 100] [--messages 1000] [--runs 5]
//       One sync_once() of a machine with N local sessions and M queued outbox messages
//       (to 10 aliases on another node). Reports the first round (registers every session) and
//       a steady round (heartbeats), min / median / max over the runs. Target: <= 1 s.
//   connector_bench latency [--bin PATH] [--samples 40] [--interval 1] [--max-seconds 120]
//       Two real `c2c relay connect --interval N` processes (machines A and B); messages are
//       queued on A at random moments and timed until they are in B's local inbox.
//       Reports p50 / p99 / max.
//
// The receive stream (docs/performance.md, "Receive stream"); relay on SQLite in prod mode,
// connectors in their default loop mode (interval 30 s: everything fast is the stream):
//   connector_bench stream-latency [--samples 200]
//       Broker::send (what `c2c send bob@machine-b` does) returns on A -> the
//       notifications/claude/channel line on B's `c2c mcp`. Target p50 <= 5 ms, p99 <= 20 ms.
//   connector_bench stream-send [--samples 200]
//       The first half of stream-latency: Broker::send returns on A -> the message in a frame
//       of a signed long-poll the bench holds as bob (no B connector, no c2c mcp).
//   connector_bench stream-hop [--samples 200]
//       The relay's durable acceptance (the /send answer) -> the message in B's local inbox.
//       Target p50 <= 2 ms.
//   connector_bench stream-throughput [--messages 20000] [--senders 8] [--modes a,a',b]
//       (a) N messages queued on A as one outbox append (one fdatasync), through both
//       connectors, timed from the append, then until every message's signed `delivered` and
//       `read` receipts are back on A; (a') N messages each queued by Broker::send (one
//       fdatasync each), timed from the first; (b) N messages sent to the relay by `--senders`
//       parallel signed clients, received by B's connector alone. Exactly once is checked by
//       message id. Target >= 5,000 msg/s. --modes picks some of them.
//   connector_bench stream-backlog [--count 200] [--size 262144]
//       B's connector starts against a backlog of COUNT messages of SIZE bytes; reports the
//       drain time and the connector's peak RSS (VmHWM). Target <= 64 MB.
//
// Every mode takes --trace (the children's stderr and every line read from them on stderr).
// A child that stops answering ends the run with an error instead of a hang.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "c2c/broker/broker.hpp"
#include "c2c/connector/connector.hpp"
#include "c2c/crypto/identity.hpp"
#include "c2c/relay/client/relay_client.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;
using c2c::broker::Broker;

double seconds_since(Steady::time_point t0) {
  return std::chrono::duration<double>(Steady::now() - t0).count();
}

// --trace: the children's stderr stays on ours and every line the bench reads from a child is
// echoed there, so a run that stalls shows where.
bool g_trace = false;

// Progress on stderr (stdout carries only the results).
void progress(const std::string& line) {
  std::fprintf(stderr, "connector_bench: %s\n", line.c_str());
}

// A child process; the first stdout line matching `ready_prefix` is returned by start().
class Proc {
 public:
  Proc(const std::vector<std::string>& argv, const std::vector<std::string>& env_extra,
       bool capture, bool with_stdin = false) {
    int out[2] = {-1, -1};
    int in[2] = {-1, -1};
    if (capture && ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    if (with_stdin && ::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string kv(*e);
      if (kv.rfind("C2C_", 0) == 0) continue;  // the bench decides
      bool overridden = false;
      for (const auto& x : env_extra)
        overridden = overridden || kv.rfind(x.substr(0, x.find('=') + 1), 0) == 0;
      if (!overridden) env.emplace_back(kv);
    }
    env.insert(env.end(), env_extra.begin(), env_extra.end());
    std::vector<char*> cenv, cargv;
    for (auto& e : env) cenv.push_back(e.data());
    cenv.push_back(nullptr);
    std::vector<std::string> args = argv;
    for (auto& a : args) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      const int devnull = ::open("/dev/null", O_RDWR);
      ::dup2(with_stdin ? in[0] : devnull, 0);
      ::dup2(capture ? out[1] : devnull, 1);
      if (!g_trace) ::dup2(devnull, 2);
      ::execve(cargv[0], cargv.data(), cenv.data());
      _exit(127);
    }
    if (capture) {
      ::close(out[1]);
      from_ = out[0];
    }
    if (with_stdin) {
      ::close(in[0]);
      to_ = in[1];
    }
  }
  // A child that does not end within 10 s of SIGTERM is killed: a bench that failed must
  // report why, not hang in its teardown.
  ~Proc() {
    if (to_ >= 0) ::close(to_);
    ::kill(pid_, SIGTERM);
    int status = 0;
    // A pidfd becomes readable when the child exits.
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    pollfd p{pidfd, POLLIN, 0};
    if (pidfd >= 0 && ::poll(&p, 1, 10'000) == 0) {
      std::fprintf(stderr, "connector_bench: pid %d ignored SIGTERM for 10 s; killing it\n",
                   static_cast<int>(pid_));
      ::kill(pid_, SIGKILL);
    }
    if (pidfd >= 0) ::close(pidfd);
    ::waitpid(pid_, &status, 0);
    if (drainer_.joinable()) drainer_.join();  // ends at the pipe's EOF
    if (from_ >= 0) ::close(from_);
  }
  // From now on the child's stdout is read and dropped (printed with --trace) by a thread: a
  // connector prints a line per round, and one that fills an unread pipe blocks in write(2).
  void keep_draining() {
    if (from_ < 0 || drainer_.joinable()) return;
    drainer_ = std::thread([fd = from_, pid = pid_] {
      char chunk[4096];
      ssize_t n;
      while ((n = ::read(fd, chunk, sizeof chunk)) > 0) {
        if (g_trace)
          std::fprintf(stderr, "  [pid %d] %.*s", static_cast<int>(pid), static_cast<int>(n),
                       chunk);
      }
    });
  }
  pid_t pid() const { return pid_; }
  void write_line(const std::string& line) {
    const std::string data = line + "\n";
    if (::write(to_, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
      throw std::runtime_error("write to child failed");
    }
  }
  // The next stdout line; a child that prints none within `timeout_s` is an error (a bench
  // must end), and so is one that exits.
  std::string read_line(double timeout_s = 60) {
    const auto t0 = Steady::now();
    while (true) {
      if (const auto nl = buffered_.find('\n'); nl != std::string::npos) {
        std::string line = buffered_.substr(0, nl);
        buffered_.erase(0, nl + 1);
        if (g_trace) std::fprintf(stderr, "  [pid %d] %s\n", static_cast<int>(pid_), line.c_str());
        return line;
      }
      const double left = timeout_s - seconds_since(t0);
      if (left <= 0) {
        throw std::runtime_error("pid " + std::to_string(pid_) + " printed no line within " +
                                 std::to_string(static_cast<int>(timeout_s)) + " s" +
                                 (buffered_.empty() ? "" : " (partial: " + buffered_ + ")"));
      }
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left * 1000) + 1) <= 0) continue;
      char chunk[4096];
      const ssize_t n = ::read(from_, chunk, sizeof chunk);
      if (n <= 0) throw std::runtime_error("child exited before printing the line awaited");
      buffered_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  pid_t pid_ = -1;
  int from_ = -1;
  int to_ = -1;
  std::string buffered_;
  std::thread drainer_;
};

// Reads `p`'s lines until one contains `needle`; throws after `timeout_s` in all.
std::string wait_for_line(Proc& p, const std::string& needle, double timeout_s,
                          const std::string& what) {
  const auto t0 = Steady::now();
  while (true) {
    const double left = timeout_s - seconds_since(t0);
    if (left <= 0) break;
    std::string line;
    try {
      line = p.read_line(left);
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(what + ": " + e.what());
    }
    if (line.find(needle) != std::string::npos) return line;
  }
  throw std::runtime_error(what + ": no line with \"" + needle + "\" within " +
                           std::to_string(static_cast<int>(timeout_s)) + " s");
}

struct Relay {
  std::unique_ptr<Proc> proc;
  std::string url;
};

Relay start_relay(const std::string& bin, const std::vector<std::string>& extra = {}) {
  Relay r;
  std::vector<std::string> argv{bin,           "relay",   "serve",      "--listen",
                                "127.0.0.1:0", "--token", "bench-token"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  r.proc = std::make_unique<Proc>(argv, std::vector<std::string>{}, true);
  const std::string prefix = "c2c relay serving on ";
  for (int i = 0; i < 20; ++i) {
    const auto line = r.proc->read_line();
    if (line.rfind(prefix, 0) == 0) {
      r.url = line.substr(prefix.size());
      return r;
    }
  }
  throw std::runtime_error("relay did not print its URL");
}

c2c::relay::RelayClient make_client(const std::string& url, const c2c::crypto::Identity& id) {
  c2c::relay::RelayClientOptions o;
  o.base_url = url;
  o.identity = id;
  auto c = c2c::relay::RelayClient::create(o);
  if (!c) throw std::runtime_error(c.error().message);
  return std::move(c).value();
}

std::string arg(int argc, char** argv, const std::string& name, const std::string& def) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return def;
}

struct Stats {
  std::vector<double> v;
  double pct(double p) {
    std::sort(v.begin(), v.end());
    if (v.empty()) return 0;
    const size_t i = std::min(
        v.size() - 1, static_cast<size_t>(std::lround(p * static_cast<double>(v.size() - 1))));
    return v[i];
  }
};

// ---------- tick ----------

int run_tick(const std::string& bin, int sessions, int messages, int runs) {
  auto relay = start_relay(bin);
  const auto id_a = c2c::crypto::new_identity("bench-a", 0);
  const auto id_b = c2c::crypto::new_identity("bench-b", 0);

  // Ten recipients on machine B, registered once.
  auto client_b = make_client(relay.url, id_b);
  for (int i = 0; i < 10; ++i) {
    const std::string alias = "recv-" + std::to_string(i);
    auto r = client_b.register_session({"machine-b", "ses-" + alias, alias, "bench", 3600});
    if (!r || !r->ok()) throw std::runtime_error("cannot register " + alias);
  }

  Stats first, steady;
  for (int run = 0; run < runs; ++run) {
    const fs::path root =
        fs::temp_directory_path() /
        ("c2c-connector-bench-" + std::to_string(::getpid()) + "-" + std::to_string(run));
    fs::remove_all(root);
    fs::create_directories(root);
    Broker broker(root);
    for (int i = 0; i < sessions; ++i) {
      c2c::broker::RegisterRequest req;
      req.session_id = "ses-" + std::to_string(run) + "-" + std::to_string(i);
      req.alias = "a" + std::to_string(run) + "-" + std::to_string(i);
      req.client_type = "bench";
      if (!broker.register_session(req)) throw std::runtime_error("local register failed");
    }
    auto queue = [&] {
      for (int m = 0; m < messages; ++m) {
        const std::string from = "a" + std::to_string(run) + "-" + std::to_string(m % sessions);
        const std::string to = "recv-" + std::to_string(m % 10) + "@machine-b";
        if (!broker.send(from, to, "bench message " + std::to_string(m))) {
          throw std::runtime_error("queue failed");
        }
      }
    };
    auto client = make_client(relay.url, id_a);
    c2c::connector::ConnectorOptions o;
    o.node_id = "machine-a-" + std::to_string(run);
    c2c::connector::Connector conn(broker, client, o);

    queue();
    auto t0 = Steady::now();
    auto r1 = conn.sync_once();
    const double t_first = seconds_since(t0);
    if (!r1 || r1->registered != sessions || r1->forwarded != messages) {
      throw std::runtime_error("first round incomplete: " +
                               (r1 ? r1->summary_line() : r1.error().message));
    }
    queue();
    t0 = Steady::now();
    auto r2 = conn.sync_once();
    const double t_steady = seconds_since(t0);
    if (!r2 || r2->heartbeated != sessions || r2->forwarded != messages) {
      throw std::runtime_error("steady round incomplete: " +
                               (r2 ? r2->summary_line() : r2.error().message));
    }
    first.v.push_back(t_first);
    steady.v.push_back(t_steady);
    std::printf("run %d: first round %.3f s (%s)\n       steady round %.3f s (%s)\n", run, t_first,
                r1->summary_line().c_str(), t_steady, r2->summary_line().c_str());
    // Drain the recipients' relay inboxes so runs do not accumulate.
    for (int i = 0; i < 10; ++i) {
      const std::string alias = "recv-" + std::to_string(i);
      (void)client_b.poll_inbox("machine-b", "ses-" + alias, alias);
    }
    fs::remove_all(root);
  }
  std::printf("tick (%d sessions, %d outbox messages, %d runs):\n", sessions, messages, runs);
  std::printf("  first round  (register):  min %.3f  median %.3f  max %.3f s\n", first.pct(0),
              first.pct(0.5), first.pct(1));
  std::printf("  steady round (heartbeat): min %.3f  median %.3f  max %.3f s\n", steady.pct(0),
              steady.pct(0.5), steady.pct(1));
  return 0;
}

// ---------- latency ----------

int run_latency(const std::string& bin, int samples, const std::string& interval,
                double max_seconds) {
  auto relay = start_relay(bin);
  const fs::path base = fs::temp_directory_path() / ("c2c-latency-" + std::to_string(::getpid()));
  fs::remove_all(base);
  struct M {
    std::string node;
    fs::path home, root;
  } a{"machine-a", base / "a" / "home", base / "a" / "broker"},
      b{"machine-b", base / "b" / "home", base / "b" / "broker"};
  for (auto* m : {&a, &b}) {
    fs::create_directories(m->home);
    fs::create_directories(m->root);
  }
  Broker ba(a.root), bb(b.root);
  c2c::broker::RegisterRequest ra{"ses-a", "alice"}, rb{"ses-b", "bob"};
  if (!ba.register_session(ra) || !bb.register_session(rb)) throw std::runtime_error("register");

  auto connector = [&](const M& m) {
    return std::make_unique<Proc>(
        std::vector<std::string>{bin, "relay", "connect", "--relay-url", relay.url, "--node-id",
                                 m.node, "--broker-root", m.root.string(), "--interval", interval},
        std::vector<std::string>{"HOME=" + m.home.string()}, true);
  };
  auto ca = connector(a);
  auto cb = connector(b);
  // Both registered once their first round line is out.
  for (auto* c : {ca.get(), cb.get()}) {
    (void)wait_for_line(*c, "sync:", 60, "connector's first round");
  }

  std::mt19937 rng(7);
  std::uniform_real_distribution<double> gap(0.0, std::stod(interval));
  Stats lat;
  const auto start = Steady::now();
  for (int i = 0; i < samples && seconds_since(start) < max_seconds; ++i) {
    std::this_thread::sleep_for(std::chrono::duration<double>(gap(rng)));  // random phase
    const std::string content = "latency probe " + std::to_string(i);
    const auto t0 = Steady::now();
    if (!ba.send("alice", "bob@machine-b", content)) throw std::runtime_error("send");
    bool seen = false;
    while (!seen && seconds_since(t0) < 30) {
      auto inbox = bb.peek("ses-b");
      if (inbox) {
        for (const auto& m : *inbox) seen = seen || m.content == content;
      }
      if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!seen) throw std::runtime_error("message not delivered within 30 s");
    lat.v.push_back(seconds_since(t0));
    (void)bb.poll("ses-b");
  }
  std::printf(
      "latency A -> B with --interval %s (%zu samples): p50 %.3f s  p99 %.3f s  max %.3f s\n",
      interval.c_str(), lat.v.size(), lat.pct(0.5), lat.pct(0.99), lat.pct(1));
  ca.reset();
  cb.reset();
  fs::remove_all(base);
  return 0;
}

// ---------- receive stream ----------

struct StreamRig {
  fs::path base;
  Relay relay;
  struct M {
    std::string node;
    fs::path home, root;
  } a, b;
  std::unique_ptr<Broker> ba, bb;
  std::unique_ptr<Proc> ca, cb;

  explicit StreamRig(const std::string& bin)
      : base(fs::temp_directory_path() / ("c2c-stream-bench-" + std::to_string(::getpid()))) {
    fs::remove_all(base);
    fs::create_directories(base);
    relay = start_relay(bin, {"--storage", "sqlite", "--db-path", (base / "relay.db").string(),
                              "--rate-limit", "off"});
    a = {"machine-a", base / "a" / "home", base / "a" / "broker"};
    b = {"machine-b", base / "b" / "home", base / "b" / "broker"};
    for (auto* m : {&a, &b}) {
      fs::create_directories(m->home);
      fs::create_directories(m->root);
    }
    ba = std::make_unique<Broker>(a.root);
    bb = std::make_unique<Broker>(b.root);
    c2c::broker::RegisterRequest ra{"ses-a", "alice"}, rb{"ses-b", "bob"};
    if (!ba->register_session(ra) || !bb->register_session(rb)) {
      throw std::runtime_error("register");
    }
  }
  ~StreamRig() {
    ca.reset();
    cb.reset();
    relay.proc.reset();
    fs::remove_all(base);
  }
  std::unique_ptr<Proc> connector(const std::string& bin, const M& m) const {
    return std::make_unique<Proc>(
        std::vector<std::string>{bin, "relay", "connect", "--relay-url", relay.url, "--node-id",
                                 m.node, "--broker-root", m.root.string()},
        std::vector<std::string>{"HOME=" + m.home.string()}, true);
  }
  static void wait_open(Proc& c) {
    (void)wait_for_line(c, "stream: open", 60, "connector's receive stream");
    c.keep_draining();
  }
  void start_connectors(const std::string& bin, bool with_a = true) {
    if (with_a) ca = connector(bin, a);
    cb = connector(bin, b);
    progress("relay at " + relay.url + "; waiting for the connectors' receive streams");
    if (ca) wait_open(*ca);
    wait_open(*cb);
    progress("streams open");
  }
};

// A signed client registered as `alias` on machine-a (so sends to bob are accepted).
c2c::relay::RelayClient sender_client(const std::string& url, const std::string& alias) {
  const auto id = c2c::crypto::new_identity(alias, 0);
  auto c = make_client(url, id);
  auto r = c.register_session({"machine-a", "ses-" + alias, alias, "bench", 3600});
  if (!r || !r->ok()) throw std::runtime_error("cannot register " + alias);
  return c;
}

bool inbox_has(Broker& b, const std::string& content) {
  auto inbox = b.peek("ses-b");
  if (!inbox) return false;
  for (const auto& m : *inbox) {
    if (m.content == content) return true;
  }
  return false;
}

long peak_rss_kb(pid_t pid) {
  std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  while (std::fgets(line, sizeof line, f)) {
    if (std::sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
  }
  std::fclose(f);
  return kb;
}

int run_stream_latency(const std::string& bin, int samples) {
  StreamRig rig(bin);
  rig.start_connectors(bin);
  Proc mcp({bin, "mcp"},
           {"HOME=" + rig.b.home.string(), "C2C_MCP_BROKER_ROOT=" + rig.b.root.string(),
            "C2C_MCP_SESSION_ID=ses-b", "C2C_MCP_AUTO_REGISTER_ALIAS=bob"},
           true, true);
  // Push needs the client to declare the channel capability (docs/mcp.md), as Claude Code does;
  // without it `c2c mcp` never sends notifications/claude/channel.
  mcp.write_line(R"({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":)"
                 R"("2024-11-05","capabilities":{"experimental":{"claude/channel":{}}},)"
                 R"("clientInfo":{"name":"bench","version":"1"}}})");
  (void)wait_for_line(mcp, "\"id\":1", 30, "c2c mcp's initialize answer");
  mcp.write_line(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> gap_ms(0, 20);
  Stats lat;
  for (int i = 0; i < samples; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms(rng)));
    const std::string content = "stream probe " + std::to_string(i);
    if (!rig.ba->send("alice", "bob@machine-b", content)) throw std::runtime_error("send");
    const auto t0 = Steady::now();
    while (true) {
      const auto line = wait_for_line(mcp, "notifications/claude/channel", 30,
                                      "push of sample " + std::to_string(i));
      if (line.find(content + "\"") != std::string::npos) break;
    }
    lat.v.push_back(seconds_since(t0) * 1e3);
    if ((i + 1) % 50 == 0) progress(std::to_string(i + 1) + " samples");
  }
  std::printf(
      "stream latency, send returned on A -> channel notification on B's c2c mcp "
      "(%zu samples): p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
      lat.v.size(), lat.pct(0.5), lat.pct(0.99), lat.pct(1));
  return 0;
}

int run_stream_hop(const std::string& bin, int samples) {
  StreamRig rig(bin);
  rig.start_connectors(bin, /*with_a=*/false);
  auto alice = sender_client(rig.relay.url, "alice");
  Stats lat, send_rtt;
  for (int i = 0; i < samples; ++i) {
    const std::string content = "hop probe " + std::to_string(i);
    const auto t_send = Steady::now();
    auto r = alice.send({"", "alice", "bob@machine-b", content});
    if (!r || !r->ok()) throw std::runtime_error("relay send failed");
    const auto t0 = Steady::now();  // the answer came after the message was durable
    send_rtt.v.push_back(std::chrono::duration<double>(t0 - t_send).count() * 1e3);
    while (!inbox_has(*rig.bb, content))
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    lat.v.push_back(seconds_since(t0) * 1e3);
    (void)rig.bb->poll("ses-b");
  }
  std::printf(
      "relay durable acceptance -> B's local inbox (%zu samples): p50 %.2f ms  p99 %.2f "
      "ms  max %.2f ms\n",
      lat.v.size(), lat.pct(0.5), lat.pct(0.99), lat.pct(1));
  // What one forwarded message costs A's connector at least: the signed /send round trip.
  std::printf("signed POST /send round trip (durable on the relay): p50 %.2f ms  p99 %.2f ms\n",
              send_rtt.pct(0.5), send_rtt.pct(0.99));
  return 0;
}

// The sending half of stream-latency alone: Broker::send returns on A -> the message is in a
// stream frame at a signed long-poll the bench holds as bob on machine-b (no B connector, no
// c2c mcp). stream-latency minus this is B's side: the local write and the MCP push.
int run_stream_send(const std::string& bin, int samples) {
  StreamRig rig(bin);
  auto bob = make_client(rig.relay.url, c2c::crypto::new_identity("bob", 0));
  auto reg = bob.register_session({"machine-b", "ses-b", "bob", "bench", 3600});
  if (!reg || !reg->ok()) throw std::runtime_error("cannot register bob on the relay");
  rig.ca = rig.connector(bin, rig.a);
  progress("relay at " + rig.relay.url + "; waiting for A's receive stream");
  StreamRig::wait_open(*rig.ca);
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Steady::time_point> arrived;  // content -> when its frame came
  std::string failure;
  std::atomic<bool> stop{false};
  // Re-polls at once after every frame, as B's connector does, so a long-poll is waiting
  // whenever A's message reaches the relay.
  std::thread receiver([&] {
    std::vector<c2c::relay::protocol::StreamAck> acks;
    while (!stop.load()) {
      c2c::relay::protocol::StreamRequest req;
      req.node_id = "machine-b";
      req.acks = acks;
      req.wait = 10;
      auto r = bob.stream(req, "bob");
      const auto now = Steady::now();
      if (stop.load()) return;
      std::lock_guard lock(mu);
      if (!r || !r->ok()) {
        failure = r ? r->describe() : r.error().message;
        cv.notify_all();
        return;
      }
      auto frame = c2c::relay::protocol::StreamFrame::from_json(r->body);
      if (!frame) {
        failure = "malformed frame: " + frame.error().message;
        cv.notify_all();
        return;
      }
      acks.clear();
      for (const auto& m : frame->messages) {
        arrived.emplace(m.content, now);
        acks.push_back({m.session_id, m.seq});
      }
      cv.notify_all();
    }
  });
  std::mt19937 rng(13);
  std::uniform_int_distribution<int> gap_ms(0, 20);
  Stats lat;
  try {
    for (int i = 0; i < samples; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms(rng)));
      const std::string content = "send probe " + std::to_string(i);
      if (!rig.ba->send("alice", "bob@machine-b", content)) throw std::runtime_error("send");
      const auto t0 = Steady::now();
      std::unique_lock lock(mu);
      if (!cv.wait_for(lock, std::chrono::seconds(30),
                       [&] { return arrived.count(content) != 0 || !failure.empty(); })) {
        throw std::runtime_error("sample " + std::to_string(i) + " not streamed within 30 s");
      }
      if (!failure.empty()) throw std::runtime_error("stream as bob: " + failure);
      lat.v.push_back(std::chrono::duration<double>(arrived[content] - t0).count() * 1e3);
    }
  } catch (...) {
    stop = true;
    bob.cancel();
    receiver.join();
    throw;
  }
  stop = true;
  bob.cancel();
  receiver.join();
  std::printf(
      "send returned on A -> frame of a long-poll held as bob on the relay (%zu samples): p50 "
      "%.2f ms  p99 %.2f ms  max %.2f ms\n",
      lat.v.size(), lat.pct(0.5), lat.pct(0.99), lat.pct(1));
  return 0;
}

// Drains B's inbox (so it stays small, as when an agent reads it) and counts what arrived by
// message id, per content prefix.
struct Arrivals {
  std::map<std::string, int> by_id;
  std::map<std::string, size_t> by_prefix;
  std::map<std::string, std::set<std::string>> ids_by_prefix;
  bool duplicate = false;
  void drain(Broker& b, const std::vector<std::string>& prefixes) {
    auto got = b.poll("ses-b");
    if (!got) return;
    for (const auto& m : *got) {
      if (m.message_id && ++by_id[*m.message_id] > 1) duplicate = true;
      for (const auto& p : prefixes) {
        if (m.content.rfind(p, 0) != 0) continue;
        ++by_prefix[p];
        if (m.message_id) ids_by_prefix[p].insert(*m.message_id);
      }
    }
  }
};

// How many of `ids` have a verified remote `delivered` and `read` receipt recorded in A's
// receipt log (docs/cli.md "Delivery receipts"): read straight from the log's segments.
std::pair<size_t, size_t> remote_receipts(const fs::path& root, const std::set<std::string>& ids) {
  std::set<std::string> delivered, read;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root / "receipts", ec)) {
    if (entry.path().filename().string().rfind("log-", 0) != 0) continue;
    std::FILE* f = std::fopen(entry.path().c_str(), "r");
    if (f == nullptr) continue;
    std::string line;
    char chunk[4096];
    while (std::fgets(chunk, sizeof chunk, f) != nullptr) {
      line += chunk;
      if (line.empty() || line.back() != '\n') continue;
      if (line.find("\"via\":\"remote\"") != std::string::npos) {
        const auto at = line.find("\"message_id\":\"");
        const auto end = at == std::string::npos ? at : line.find('"', at + 14);
        if (end != std::string::npos) {
          const std::string id = line.substr(at + 14, end - at - 14);
          if (ids.count(id) != 0) {
            if (line.find("\"state\":\"delivered\"") != std::string::npos) delivered.insert(id);
            if (line.find("\"state\":\"read\"") != std::string::npos) read.insert(id);
          }
        }
      }
      line.clear();
    }
    std::fclose(f);
  }
  return {delivered.size(), read.size()};
}

int run_stream_throughput(const std::string& bin, int messages, int senders,
                          const std::string& modes) {
  const auto wanted = [&modes](const std::string& m) {
    return ("," + modes + ",").find("," + m + ",") != std::string::npos;
  };
  StreamRig rig(bin);
  rig.start_connectors(bin);
  Arrivals got;
  const std::vector<std::string> prefixes{"pair ", "each ", "fed "};
  auto wait_for = [&](const std::string& prefix, Steady::time_point since) {
    while (got.by_prefix[prefix] < static_cast<size_t>(messages)) {
      if (seconds_since(since) > 600) {
        throw std::runtime_error(prefix + "messages: not all delivered in 600 s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      got.drain(*rig.bb, prefixes);
    }
    return seconds_since(since);
  };
  // (a) the pipeline: N messages queued on A with one outbox append (Broker::append_outbox of a
  // group: one fdatasync), forwarded by A's connector and received by B's, timed from the
  // append to the last one in B's inbox.
  auto t0 = Steady::now();
  double queued = 0;
  bool receipts_lost = false;
  if (wanted("a")) {
    std::vector<c2c::broker::OutboxEntry> group;
    group.reserve(static_cast<size_t>(messages));
    for (int i = 0; i < messages; ++i) {
      group.push_back({"alice", "bob@machine-b", "pair " + std::to_string(i), "", 1, 0, {}});
    }
    t0 = Steady::now();
    if (!rig.ba->append_outbox(group)) throw std::runtime_error("queue failed");
    queued = seconds_since(t0);
    const double pair = wait_for("pair ", t0);
    std::printf(
        "(a) %d messages A -> B through both connectors, queued as one outbox append: %.2f s "
        "(the append %.3f s): %.0f msg/s, duplicates: %s\n",
        messages, pair, queued, messages / pair, got.duplicate ? "YES" : "none");
    // The receipts keep up: every message's signed `delivered` and `read` back on A (B's
    // drains above are the reads), timed from the same append.
    std::pair<size_t, size_t> back{0, 0};
    const auto& ids = got.ids_by_prefix["pair "];
    while (back.first < ids.size() || back.second < ids.size()) {
      if (seconds_since(t0) > 300) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      back = remote_receipts(rig.a.root, ids);
    }
    std::printf(
        "    receipts back on A after %.2f s: delivered %zu of %zu, read %zu of %zu "
        "(verified against B's pinned key)\n",
        seconds_since(t0), back.first, ids.size(), back.second, ids.size());
    if (back.first < ids.size() || back.second < ids.size()) receipts_lost = true;
  }
  // (a') the same, each message queued by its own Broker::send (what `c2c send` does: one
  // fdatasync each), timed from the first send.
  if (wanted("a'")) {
    t0 = Steady::now();
    for (int i = 0; i < messages; ++i) {
      if (!rig.ba->send("alice", "bob@machine-b", "each " + std::to_string(i))) {
        throw std::runtime_error("queue failed");
      }
    }
    queued = seconds_since(t0);
    const double each = wait_for("each ", t0);
    std::printf(
        "(a') %d messages A -> B, each queued by Broker::send: %.2f s (queueing %.2f s): %.0f "
        "msg/s, duplicates: %s\n",
        messages, each, queued, messages / each, got.duplicate ? "YES" : "none");
  }
  if (!wanted("b")) return got.duplicate || receipts_lost ? 1 : 0;
  // (b) the relay fed by parallel clients, B's connector alone receiving.
  rig.ca.reset();
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(senders));
  t0 = Steady::now();
  for (int s = 0; s < senders; ++s) {
    threads.emplace_back([&, s] {
      auto c = sender_client(rig.relay.url, "sender" + std::to_string(s));
      for (int i = s; i < messages; i += senders) {
        auto r =
            c.send({"", "sender" + std::to_string(s), "bob@machine-b", "fed " + std::to_string(i)});
        if (!r || !r->ok()) std::fprintf(stderr, "send failed\n");
      }
    });
  }
  for (auto& t : threads) t.join();
  const double fed = seconds_since(t0);
  const double recv = wait_for("fed ", t0);
  std::printf(
      "(b) %d messages from %d parallel senders, received by B's connector: %.2f s "
      "(relay accepted them in %.2f s): %.0f msg/s, duplicates: %s\n",
      messages, senders, recv, fed, messages / recv, got.duplicate ? "YES" : "none");
  return got.duplicate || receipts_lost ? 1 : 0;
}

int run_stream_backlog(const std::string& bin, int count, size_t size) {
  StreamRig rig(bin);
  auto alice = sender_client(rig.relay.url, "alice");
  // B registers once (a round) so the relay knows bob, then the backlog builds while B is off.
  {
    auto once = std::make_unique<Proc>(
        std::vector<std::string>{bin, "relay", "connect", "--relay-url", rig.relay.url, "--node-id",
                                 rig.b.node, "--broker-root", rig.b.root.string(), "--once"},
        std::vector<std::string>{"HOME=" + rig.b.home.string()}, true);
    // Its round summary comes after the registration (the first line, "starting", comes
    // before it: stopping the round there left bob unknown to the relay).
    (void)wait_for_line(*once, "sync:", 60, "B's registration round");
  }
  for (int i = 0; i < count; ++i) {
    std::string content = "backlog " + std::to_string(i) + " ";
    content.resize(size, 'x');
    auto r = alice.send({"", "alice", "bob", content});
    if (!r || !r->ok()) {
      throw std::runtime_error("backlog send " + std::to_string(i) +
                               " failed: " + (r ? r->describe() : r.error().message));
    }
  }
  const auto t0 = Steady::now();
  rig.cb = rig.connector(bin, rig.b);
  Arrivals got;
  long peak = 0;
  while (got.by_prefix["backlog "] < static_cast<size_t>(count)) {
    peak = std::max(peak, peak_rss_kb(rig.cb->pid()));
    if (seconds_since(t0) > 300) throw std::runtime_error("backlog not drained in 300 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    got.drain(*rig.bb, {"backlog "});
  }
  const double drained = seconds_since(t0);
  peak = std::max(peak, peak_rss_kb(rig.cb->pid()));
  std::printf(
      "backlog of %d x %zu bytes drained through the stream in %.2f s; connector peak "
      "RSS %.1f MB; duplicates: %s\n",
      count, size, drained, peak / 1024.0, got.duplicate ? "YES" : "none");
  return got.duplicate ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: connector_bench tick|latency [options] (see the file header)\n");
    return 2;
  }
  // Line-buffered: a run ended by a timeout still shows the results it printed.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  const std::string mode = argv[1];
  const std::string bin = arg(argc, argv, "--bin", C2C_BIN_DEFAULT);
  for (int i = 2; i < argc; ++i) g_trace = g_trace || std::string(argv[i]) == "--trace";
  try {
    if (mode == "tick") {
      return run_tick(bin, std::stoi(arg(argc, argv, "--sessions", "100")),
                      std::stoi(arg(argc, argv, "--messages", "1000")),
                      std::stoi(arg(argc, argv, "--runs", "5")));
    }
    if (mode == "stream-latency") {
      return run_stream_latency(bin, std::stoi(arg(argc, argv, "--samples", "200")));
    }
    if (mode == "stream-send") {
      return run_stream_send(bin, std::stoi(arg(argc, argv, "--samples", "200")));
    }
    if (mode == "stream-hop") {
      return run_stream_hop(bin, std::stoi(arg(argc, argv, "--samples", "200")));
    }
    if (mode == "stream-throughput") {
      return run_stream_throughput(bin, std::stoi(arg(argc, argv, "--messages", "20000")),
                                   std::stoi(arg(argc, argv, "--senders", "8")),
                                   arg(argc, argv, "--modes", "a,a',b"));
    }
    if (mode == "stream-backlog") {
      return run_stream_backlog(bin, std::stoi(arg(argc, argv, "--count", "200")),
                                std::stoul(arg(argc, argv, "--size", "262144")));
    }
    if (mode == "latency") {
      return run_latency(bin, std::stoi(arg(argc, argv, "--samples", "40")),
                         arg(argc, argv, "--interval", "1"),
                         std::stod(arg(argc, argv, "--max-seconds", "120")));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "connector_bench: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
