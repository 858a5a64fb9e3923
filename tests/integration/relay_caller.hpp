#pragma once
// Helpers shared by the integration tests that kill, flood or soak relays: an HTTP caller that
// tolerates a dead server (the tests kill relays on purpose), /proc sampling and fd limits.

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "c2c/net/http_client.hpp"

namespace c2c::itest {

using Json = nlohmann::json;

struct Answer {
  bool transport_ok = false;  // false: no response at all (refused, reset, timeout)
  int status = 0;
  Json body;
  std::string raw;
  std::vector<net::Header> headers;
  bool ok() const {
    return transport_ok && status == 200 && body.is_object() && body.value("ok", false);
  }
};

// One connection to a relay; reconnects on the next call after a transport error.
class Caller {
 public:
  explicit Caller(std::string url, net::ClientOptions options = {})
      : url_(std::move(url)), options_(options) {}

  Answer call(const std::string& method, const std::string& target, const std::string& body = "",
              std::vector<net::Header> headers = {}) {
    Answer a;
    if (!client_) {
      auto c = net::HttpClient::create(url_, options_);
      if (!c) return a;
      client_ = std::make_unique<net::HttpClient>(std::move(c).value());
    }
    net::ClientRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    req.headers = std::move(headers);
    auto r = client_->request(req);
    if (!r) {
      client_.reset();
      return a;
    }
    a.transport_ok = true;
    a.status = r->status;
    a.raw = r->body;
    a.headers = r->headers;
    a.body = Json::parse(r->body, nullptr, false);
    return a;
  }
  Answer post(const std::string& path, const Json& body, std::vector<net::Header> headers = {}) {
    return call("POST", path, body.dump(), std::move(headers));
  }
  Answer get(const std::string& target, std::vector<net::Header> headers = {}) {
    return call("GET", target, "", std::move(headers));
  }

 private:
  std::string url_;
  net::ClientOptions options_;
  std::unique_ptr<net::HttpClient> client_;
};

// Open file descriptors of a process (entries of /proc/<pid>/fd), -1 if unreadable.
inline long count_fds(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return -1;
  long n = 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(d);
  return n;
}

// The inodes of a process's open sockets (fds whose link is socket:[<inode>]); nullopt if its fds
// cannot be read.
inline std::optional<std::set<std::string>> socket_inodes(pid_t pid) {
  std::set<std::string> inodes;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (!d) return std::nullopt;
  char target[256];
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const ssize_t len = ::readlink((dir + "/" + e->d_name).c_str(), target, sizeof target - 1);
    const std::string link(target, len > 0 ? static_cast<size_t>(len) : 0);
    if (link.rfind("socket:[", 0) == 0) inodes.insert(link.substr(8, link.size() - 9));
  }
  ::closedir(d);
  return inodes;
}

// Open sockets of a process, -1 if unreadable. Unlike the fd count this ignores files a process
// opens lazily (a SQLite WAL), so it shows connection leaks.
inline long count_sockets(pid_t pid) {
  const auto inodes = socket_inodes(pid);
  return inodes ? static_cast<long>(inodes->size()) : -1;
}

// The TCP sockets of a process, one line each ("<local> -> <remote> state <hex>", from
// /proc/net/tcp and tcp6): what a failed socket-count check prints.
inline std::string describe_sockets(pid_t pid) {
  std::set<std::string> inodes = socket_inodes(pid).value_or(std::set<std::string>{});
  std::string out;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      f >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (inodes.erase(inode) == 0) continue;
      out += local + " -> " + remote + " state " + state + "\n";
    }
  }
  for (const char* table :
       {"/proc/net/unix", "/proc/net/udp", "/proc/net/udp6", "/proc/net/netlink"}) {
    std::ifstream in(table);
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string word;
      while (f >> word) {
        if (inodes.erase(word) != 0) out += std::string(table) + ": " + line + "\n";
      }
    }
  }
  for (const auto& inode : inodes) out += "socket " + inode + " (not found in /proc/net)\n";
  return out;
}

// Resident set size in KiB (VmRSS of /proc/<pid>/status), -1 if unreadable.
inline long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// Raises the soft open-file limit to at least `want` (bounded by the hard limit); children
// inherit it. Returns the resulting soft limit.
inline rlim_t raise_fd_limit(rlim_t want) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur < want) {
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : std::min(want, rl.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur;
}

inline double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace c2c::itest
