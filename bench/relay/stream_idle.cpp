// stream_idle: one relay process holding many open, idle receive streams (POST /stream
// long-polls), as 10,000 connected machines whose agents are quiet would keep it. Reports the
// relay's RSS and CPU while idle (docs/performance.md, "Receive stream").
//
//   stream_idle [--bin PATH] [--streams 10000] [--wait 300] [--keepalive 25] [--measure 60]
//               [--settle 5]
//
// Starts `c2c relay serve` (SQLite, prod mode, --max-connections above --streams), registers
// one alias per node (signed, one identity), opens one connection per node and keeps a signed
// long-poll pending on each, re-polling as a connector does when an empty frame comes back.
// The relay runs with --stream-keepalive K (its default 25 s; 0 = none), so a waiting long-poll
// gets the head and a space every K seconds and its answer ends with the close: the bench then
// reconnects, as a connector does. A connector waits 300 s per long-poll against such a relay
// and 50 s against one without (--wait). The first waits are spread over [0, wait], so the
// re-polls in the measured window come at the steady rate (streams / wait per second).
// Once all are open (and --settle seconds later), it samples /proc/<relay>/stat and /status over
// --measure seconds. The fd limit is raised to the hard limit first (the relay inherits it), and
// the relay's per-IP connection cap is lifted (every stream comes from 127.0.0.1).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "c2c/crypto/identity.hpp"
#include "c2c/crypto/request_auth.hpp"
#include "c2c/relay/client/relay_client.hpp"

namespace {

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

std::string arg(int argc, char** argv, const std::string& name, const std::string& def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  return def;
}

double now_epoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Usage {
  double cpu_seconds = 0;
  long rss_kb = 0;
};

Usage usage_of(pid_t pid) {
  Usage u;
  if (std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/stat").c_str(), "r")) {
    char buf[2048];
    const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    std::fclose(f);
    // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
    const char* p = std::strrchr(buf, ')');
    unsigned long utime = 0, stime = 0;
    if (p && std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                         &stime) == 2) {
      u.cpu_seconds =
          static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  if (std::FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r")) {
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
      if (std::sscanf(line, "VmRSS: %ld kB", &u.rss_kb) == 1) break;
    }
    std::fclose(f);
  }
  return u;
}

struct Stream {
  int fd = -1;
  std::string alias, node;
  std::string in;
  size_t answers = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string bin = arg(argc, argv, "--bin", C2C_BIN_DEFAULT);
  const int streams = std::stoi(arg(argc, argv, "--streams", "10000"));
  const double wait = std::stod(arg(argc, argv, "--wait", "300"));
  const std::string keepalive = arg(argc, argv, "--keepalive", "25");
  const double measure = std::stod(arg(argc, argv, "--measure", "60"));
  const double settle = std::stod(arg(argc, argv, "--settle", "5"));

  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < static_cast<rlim_t>(streams) + 100) {
    std::fprintf(stderr, "stream_idle: fd limit %lu is below --streams\n",
                 static_cast<unsigned long>(lim.rlim_cur));
    return 1;
  }

  const fs::path dir =
      fs::temp_directory_path() / ("c2c-stream-idle-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  int out[2];
  if (::pipe(out) != 0) return 1;
  const std::string max_conn = std::to_string(streams + 1000);
  const std::string db = (dir / "relay.db").string();
  const pid_t relay = ::fork();
  if (relay == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::execl(bin.c_str(), bin.c_str(), "relay", "serve", "--listen", "127.0.0.1:0", "--token",
            "idle-token", "--storage", "sqlite", "--db-path", db.c_str(), "--rate-limit", "off",
            "--max-connections", max_conn.c_str(),
            // Every stream comes from 127.0.0.1: the default per-IP cap (256) would close the
            // rest (docs/relay-server.md).
            "--max-connections-per-ip", "0", "--stream-keepalive", keepalive.c_str(),
            static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(out[1]);
  std::string url;
  {
    std::string line;
    char c;
    while (url.empty() && ::read(out[0], &c, 1) == 1) {
      if (c != '\n') {
        line.push_back(c);
        continue;
      }
      const std::string prefix = "c2c relay serving on ";
      if (line.rfind(prefix, 0) == 0) url = line.substr(prefix.size());
      line.clear();
    }
  }
  if (url.empty()) {
    std::fprintf(stderr, "stream_idle: the relay did not start\n");
    return 1;
  }
  const int port = std::stoi(url.substr(url.rfind(':') + 1));

  const auto id = c2c::crypto::new_identity("idle", now_epoch());
  c2c::relay::RelayClientOptions o;
  o.base_url = url;
  o.identity = id;
  auto client = c2c::relay::RelayClient::create(o);
  if (!client) return 1;
  std::vector<Stream> all(static_cast<size_t>(streams));
  const auto t_reg = Steady::now();
  for (int i = 0; i < streams; ++i) {
    all[i].alias = "idle-" + std::to_string(i);
    all[i].node = "node-" + std::to_string(i);
    auto r = client->register_session(
        {all[i].node, "ses-" + std::to_string(i), all[i].alias, "bench", 3600});
    if (!r || !r->ok()) {
      std::fprintf(stderr, "register %d failed\n", i);
      return 1;
    }
  }
  std::printf("registered %d nodes in %.1f s\n", streams,
              std::chrono::duration<double>(Steady::now() - t_reg).count());
  std::fflush(stdout);

  const int ep = ::epoll_create1(0);
  auto send_poll = [&](Stream& s, double this_wait) {
    char body[128];
    std::snprintf(body, sizeof body, R"({"node_id":"%s","acks":[],"wait":%g})", s.node.c_str(),
                  this_wait);
    const std::string auth =
        c2c::crypto::sign_request(id.keys, s.alias, "POST", "/stream", "", body, now_epoch());
    const std::string req = "POST /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + auth +
                            "\r\nContent-Type: application/json\r\nContent-Length: " +
                            std::to_string(std::strlen(body)) + "\r\n\r\n" + body;
    return ::send(s.fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
  };
  // Opens stream i's connection and sends its long-poll.
  auto open_stream = [&](int i, double this_wait) {
    Stream& s = all[i];
    s.fd = ::socket(AF_INET, SOCK_STREAM, 0);
    s.in.clear();
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        !send_poll(s, this_wait)) {
      std::fprintf(stderr, "stream %d: connect/send failed: %s\n", i, std::strerror(errno));
      return false;
    }
    ::fcntl(s.fd, F_SETFL, O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    ::epoll_ctl(ep, EPOLL_CTL_ADD, s.fd, &ev);
    return true;
  };
  for (int i = 0; i < streams; ++i) {
    if (!open_stream(i, wait * (i + 1) / streams)) return 1;
  }
  std::printf("%d streams open\n", streams);
  std::fflush(stdout);

  // Answers: an empty frame when a wait ends (or at once if something was queued); re-poll.
  size_t answers = 0, repolls = 0, closed = 0;
  auto pump = [&](double seconds) {
    const auto end = Steady::now() + std::chrono::duration<double>(seconds);
    epoll_event evs[256];
    while (Steady::now() < end) {
      const int n = ::epoll_wait(ep, evs, 256, 200);
      for (int k = 0; k < n; ++k) {
        Stream& s = all[evs[k].data.u32];
        char buf[4096];
        ssize_t r;
        while ((r = ::recv(s.fd, buf, sizeof buf, 0)) > 0) s.in.append(buf, static_cast<size_t>(r));
        const auto head_end = s.in.find("\r\n\r\n");
        const auto cl = s.in.find("Content-Length: ");
        if (r == 0) {
          ::epoll_ctl(ep, EPOLL_CTL_DEL, s.fd, nullptr);
          ::close(s.fd);
          s.fd = -1;
          // A kept-alive answer (no Content-Length) ends with the close: reconnect and re-poll.
          if (head_end != std::string::npos && (cl == std::string::npos || cl > head_end) &&
              s.in.find('}', head_end) != std::string::npos) {
            ++answers;
            if (open_stream(static_cast<int>(evs[k].data.u32), wait)) ++repolls;
          } else {
            ++closed;  // the relay closed it: no longer an open stream
          }
          continue;
        }
        // One whole response: head + Content-Length bytes (a kept-alive one waits for the close).
        if (head_end == std::string::npos || cl == std::string::npos || cl > head_end) continue;
        const size_t len = std::stoul(s.in.substr(cl + 16));
        if (s.in.size() < head_end + 4 + len) continue;
        s.in.erase(0, head_end + 4 + len);
        ++answers;
        if (send_poll(s, wait)) ++repolls;
      }
    }
  };
  pump(settle);  // let the first answers (if any) settle
  const Usage u0 = usage_of(relay);
  const auto t0 = Steady::now();
  const size_t answers0 = answers;
  pump(measure);
  const Usage u1 = usage_of(relay);
  const double elapsed = std::chrono::duration<double>(Steady::now() - t0).count();
  std::printf(
      "%d idle streams (wait %g s, keep-alive %s s), measured over %.1f s: relay RSS %.1f MB, "
      "CPU %.2f%% of a core, %zu long-polls answered and re-polled (%.0f/s)\n",
      streams, wait, keepalive.c_str(), elapsed, u1.rss_kb / 1024.0,
      100.0 * (u1.cpu_seconds - u0.cpu_seconds) / elapsed, answers - answers0,
      (answers - answers0) / elapsed);
  (void)repolls;
  if (closed > 0) {
    std::fprintf(stderr, "stream_idle: the relay closed %zu of the %d streams\n", closed, streams);
  }
  ::kill(relay, SIGTERM);
  int status = 0;
  ::waitpid(relay, &status, 0);
  fs::remove_all(dir);
  return closed > 0 ? 1 : 0;
}
