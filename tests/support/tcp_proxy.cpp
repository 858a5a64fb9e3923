#include "support/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "support/ports.hpp"

namespace c2c::test {

struct TcpProxy::Conn {
  int client = -1;
  int server = -1;
  std::atomic<bool> closed{false};
  void close_both() {
    if (closed.exchange(true)) return;
    ::shutdown(client, SHUT_RDWR);
    ::shutdown(server, SHUT_RDWR);
  }
};

namespace {

int connect_to(uint16_t port) {
  const int fd = connect_loopback(port);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(uint16_t target_port, uint16_t listen_port) : target_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(listen_port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_fd_, 128) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("tcp proxy: cannot listen");
  }
  socklen_t len = sizeof a;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  if (::pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error("tcp proxy: pipe");
  acceptor_ = std::thread([this] { accept_loop(); });
}

TcpProxy::~TcpProxy() {
  stop();
}

void TcpProxy::stop() {
  if (stop_.exchange(true)) return;
  (void)::write(wake_[1], "x", 1);
  if (acceptor_.joinable()) acceptor_.join();
  cut_all();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) t.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void TcpProxy::cut_all() {
  std::lock_guard lock(mu_);
  for (auto& c : conns_) c->close_both();
}

void TcpProxy::cut_downstream_after(size_t bytes, std::string marker) {
  {
    std::lock_guard lock(mu_);
    cut_marker_ = std::move(marker);
  }
  cut_after_.store(static_cast<int64_t>(bytes));
}

void TcpProxy::hold_upstream_after_answer_containing(std::string marker) {
  {
    std::lock_guard lock(mu_);
    hold_marker_ = std::move(marker);
  }
  hold_after_answer_.store(true);
}

bool TcpProxy::answer_matches(const std::string& which, std::string_view chunk) {
  std::string marker;
  {
    std::lock_guard lock(mu_);
    marker = which == "cut" ? cut_marker_ : hold_marker_;
  }
  return marker.empty() || chunk.find(marker) != std::string_view::npos;
}

void TcpProxy::hold_upstream(bool hold) {
  hold_.store(hold);
  if (!hold) hold_after_answer_.store(false);
}

void TcpProxy::accept_loop() {
  while (!stop_.load()) {
    pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(p, 2, -1) <= 0 || (p[1].revents & POLLIN) != 0) continue;
    const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const uint16_t target = target_.load();
    const int server = target == 0 ? -1 : connect_to(target);
    if (server < 0) {
      ::close(client);
      continue;
    }
    int one = 1;
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_shared<Conn>();
    c->client = client;
    c->server = server;
    ++accepted_;
    std::lock_guard lock(mu_);
    conns_.push_back(c);
    threads_.emplace_back([this, c] { pump(c); });
  }
}

void TcpProxy::pump(std::shared_ptr<Conn> c) {
  std::string held;
  char buf[16384];
  while (!c->closed.load() && !stop_.load()) {
    if (!hold_.load() && !held.empty()) {
      if (!write_all(c->server, held.data(), held.size())) break;
      held.clear();
    }
    pollfd p[2] = {{c->client, POLLIN, 0}, {c->server, POLLIN, 0}};
    if (::poll(p, 2, 50) < 0) break;
    if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t n = ::recv(c->client, buf, sizeof buf, 0);
      if (n <= 0) break;
      if (hold_.load() || !held.empty()) {
        held.append(buf, static_cast<size_t>(n));
      } else if (!write_all(c->server, buf, static_cast<size_t>(n))) {
        break;
      }
    }
    if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      ssize_t n = ::recv(c->server, buf, sizeof buf, 0);
      if (n <= 0) break;
      const std::string_view chunk(buf, static_cast<size_t>(n));
      int64_t cut = cut_after_.load();
      bool cut_now = false;
      if (cut >= 0 && !answer_matches("cut", chunk)) cut = -1;  // not the answer to cut yet
      if (cut >= 0) {
        if (n >= cut) {
          n = static_cast<ssize_t>(cut);
          cut_now = true;
          cut_after_.store(-1);
        } else {
          cut_after_.store(cut - n);
        }
      }
      if (n > 0 && hold_after_answer_.load() && answer_matches("hold", chunk) &&
          hold_after_answer_.exchange(false)) {
        hold_.store(true);
      }
      if (n > 0 && !write_all(c->client, buf, static_cast<size_t>(n))) break;
      downstream_ += static_cast<size_t>(n);
      if (cut_now) break;
    }
  }
  {
    std::lock_guard lock(mu_);  // out of conns_ before the fds close (cut_all uses them)
    std::erase(conns_, c);
  }
  c->close_both();
  ::close(c->client);
  ::close(c->server);
}

}  // namespace c2c::test
