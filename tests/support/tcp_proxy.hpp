#pragma once
// A TCP proxy for fault tests: listens on 127.0.0.1 (port 0), forwards every connection to a
// target port, and lets the test cut the network where it wants: close every connection now,
// cut the next relay answer after N bytes (mid-frame), or hold what the client sends (so a
// request, e.g. an acknowledgement, never reaches the server).

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace c2c::test {

class TcpProxy {
 public:
  // Forwards to 127.0.0.1:target_port; listens on listen_port (0 = pick one).
  explicit TcpProxy(uint16_t target_port, uint16_t listen_port = 0);
  ~TcpProxy();  // stop()
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Closes every open connection at once (both sides see a reset/EOF).
  void cut_all();
  // The connection carrying the next server->client bytes is closed after `bytes` more of
  // them were forwarded (a frame cut in the middle).
  void cut_downstream_after(size_t bytes);
  // While held, client->server bytes are kept back (never forwarded if the connection dies).
  void hold_upstream(bool hold);
  // Holds upstream (as hold_upstream(true)) as soon as the server has answered anything: the
  // client's first request gets through, the ones after it do not.
  void hold_upstream_after_first_answer() { hold_after_answer_.store(true); }
  // Server->client bytes forwarded so far, over all connections.
  size_t downstream_bytes() const { return downstream_.load(); }
  size_t connections_accepted() const { return accepted_.load(); }
  void stop();

 private:
  struct Conn;
  void accept_loop();
  void pump(std::shared_ptr<Conn> c);

  uint16_t target_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::atomic<bool> hold_{false};
  std::atomic<bool> hold_after_answer_{false};
  std::atomic<int64_t> cut_after_{-1};
  std::atomic<size_t> downstream_{0};
  std::atomic<size_t> accepted_{0};
  std::mutex mu_;
  std::vector<std::shared_ptr<Conn>> conns_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace c2c::test
