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
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
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

// A child process; the first stdout line matching `ready_prefix` is returned by start().
class Proc {
 public:
  Proc(const std::vector<std::string>& argv, const std::vector<std::string>& env_extra,
       bool capture) {
    int out[2] = {-1, -1};
    if (capture && ::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
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
      const int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(capture ? out[1] : devnull, 1);
      ::dup2(devnull, 2);
      ::execve(cargv[0], cargv.data(), cenv.data());
      _exit(127);
    }
    if (capture) {
      ::close(out[1]);
      from_ = out[0];
    }
  }
  ~Proc() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    if (from_ >= 0) ::close(from_);
  }
  std::string read_line() {
    std::string line;
    char c;
    while (::read(from_, &c, 1) == 1) {
      if (c == '\n') return line;
      line.push_back(c);
    }
    throw std::runtime_error("child exited before printing its ready line");
  }

 private:
  pid_t pid_ = -1;
  int from_ = -1;
};

struct Relay {
  std::unique_ptr<Proc> proc;
  std::string url;
};

Relay start_relay(const std::string& bin) {
  Relay r;
  r.proc = std::make_unique<Proc>(std::vector<std::string>{bin, "relay", "serve", "--listen",
                                                           "127.0.0.1:0", "--token", "bench-token"},
                                  std::vector<std::string>{}, true);
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
    const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
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
    while (c->read_line().find("sync:") == std::string::npos) {
    }
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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: connector_bench tick|latency [options] (see the file header)\n");
    return 2;
  }
  const std::string mode = argv[1];
  const std::string bin = arg(argc, argv, "--bin", C2C_BIN_DEFAULT);
  try {
    if (mode == "tick") {
      return run_tick(bin, std::stoi(arg(argc, argv, "--sessions", "100")),
                      std::stoi(arg(argc, argv, "--messages", "1000")),
                      std::stoi(arg(argc, argv, "--runs", "5")));
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
