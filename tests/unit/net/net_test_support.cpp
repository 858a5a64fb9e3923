#include "net_test_support.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <functional>

namespace c2c::net::test {

ServerOptions TestServer::default_options() {
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.threads = 2;
  return o;
}

TestServer::TestServer(Handler handler, ServerOptions options) : options_(std::move(options)) {
  server_ = std::make_unique<HttpServer>(options_, std::move(handler));
  auto port = server_->listen();
  if (!port) {
    error_ = port.error().message;
    return;
  }
  port_ = *port;
  thread_ = std::thread([this, done = finished_] {
    server_->run();
    done->store(true);
  });
}

TestServer::~TestServer() {
  if (!stop_and_join(10s)) {
    ADD_FAILURE() << "HttpServer::run() did not return within 10 s of stop()";
    thread_.join();  // ctest's timeout ends a real hang
  }
}

std::string TestServer::url() const {
  bool v6 = options_.host.find(':') != std::string::npos;
  std::string scheme = options_.tls ? "https" : "http";
  std::string host = v6 ? "[" + options_.host + "]" : options_.host;
  return scheme + "://" + host + ":" + std::to_string(port_);
}

bool TestServer::stop_and_join(std::chrono::milliseconds timeout) {
  if (!thread_.joinable()) return true;
  server_->stop();
  if (!eventually([&] { return finished_->load(); }, timeout)) return false;
  thread_.join();
  return true;
}

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

RawSocket::RawSocket(const std::string& host, uint16_t port, const std::string& source_ip) {
  bool v6 = host.find(':') != std::string::npos;
  fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  int rc = 0;
  if (!source_ip.empty() && !v6) {
    sockaddr_in src{};
    src.sin_family = AF_INET;
    ::inet_pton(AF_INET, source_ip.c_str(), &src.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
  }
  if (v6) {
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_port = htons(port);
    ::inet_pton(AF_INET6, host.c_str(), &addr.sin6_addr);
    rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  } else {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
    rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  }
  if (rc != 0) {
    ::close(fd_);
    fd_ = -1;
    return;
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawSocket::~RawSocket() {
  close();
}

void RawSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawSocket::send(const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool RawSocket::read_more(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char buf[16384];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) return false;
  pending_.append(buf, static_cast<size_t>(n));
  return true;
}

std::string RawSocket::read_response(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto end = pending_.find("\r\n\r\n");
    if (end != std::string::npos) {
      std::string head = pending_.substr(0, end + 4);
      std::string len = header_of(head, "Content-Length");
      size_t total = end + 4 + (len.empty() ? 0 : std::stoul(len));
      if (pending_.size() >= total) {
        std::string out = pending_.substr(0, total);
        pending_.erase(0, total);
        return out;
      }
    }
    if (!read_more(deadline)) return "";
  }
}

std::string RawSocket::read_until(const std::string& needle, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto at = pending_.find(needle);
    if (at != std::string::npos) {
      std::string out = pending_.substr(0, at + needle.size());
      pending_.erase(0, at + needle.size());
      return out;
    }
    if (!read_more(deadline)) return "";
  }
}

bool RawSocket::wait_closed(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
}

std::string header_of(const std::string& raw, const std::string& name) {
  auto head_end = raw.find("\r\n\r\n");
  std::string head = raw.substr(0, head_end);
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos) {
    size_t start = pos + 2;
    size_t next = head.find("\r\n", start);
    std::string line =
        head.substr(start, next == std::string::npos ? std::string::npos : next - start);
    auto colon = line.find(':');
    if (colon != std::string::npos && colon == name.size() &&
        strncasecmp(line.c_str(), name.c_str(), name.size()) == 0) {
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      return line.substr(v);
    }
    pos = next;
  }
  return "";
}

std::string body_of(const std::string& raw) {
  auto end = raw.find("\r\n\r\n");
  return end == std::string::npos ? "" : raw.substr(end + 4);
}

}  // namespace c2c::net::test
