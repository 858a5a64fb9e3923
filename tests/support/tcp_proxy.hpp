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
#include <string_view>
#include <thread>
#include <vector>

namespace c2c::test {

class TcpProxy {
 public:
  // Forwards to 127.0.0.1:target_port; listens on listen_port (0 = pick one). A target port of 0
  // refuses connections until set_target() names one (a proxy whose URL the server must know
  // before it starts).
  explicit TcpProxy(uint16_t target_port, uint16_t listen_port = 0);
  // New connections go to 127.0.0.1:target_port (open ones stay where they are).
  void set_target(uint16_t target_port) { target_.store(target_port); }
  ~TcpProxy();  // stop()
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Closes every open connection at once (both sides see a reset/EOF).
  void cut_all();
  // The connection carrying the next server->client bytes is closed after `bytes` more of
  // them were forwarded (a frame cut in the middle). With a marker, the count starts at the
  // first server->client chunk that contains it (e.g. a receive-stream frame's "seq"), so a
  // connector's other requests through the proxy are not the ones cut.
  void cut_downstream_after(size_t bytes, std::string marker = "");
  // While held, client->server bytes are kept back (never forwarded if the connection dies).
  void hold_upstream(bool hold);
  // Holds upstream (as hold_upstream(true)) as soon as the server has answered anything: the
  // client's first request gets through, the ones after it do not.
  void hold_upstream_after_first_answer() { hold_after_answer_.store(true); }
  // The same, from the first answer that contains `marker` on.
  void hold_upstream_after_answer_containing(std::string marker);
  // Server->client bytes forwarded so far, over all connections.
  size_t downstream_bytes() const { return downstream_.load(); }
  size_t connections_accepted() const { return accepted_.load(); }
  void stop();

 private:
  struct Conn;
  void accept_loop();
  // Whether a server->client chunk is the one a cut ("cut") or hold ("hold") waits for.
  bool answer_matches(const std::string& which, std::string_view chunk);
  void pump(std::shared_ptr<Conn> c);

  std::atomic<uint16_t> target_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::atomic<bool> hold_{false};
  std::atomic<bool> hold_after_answer_{false};
  std::atomic<int64_t> cut_after_{-1};
  std::string cut_marker_;   // under mu_; "" = cut whatever comes next
  std::string hold_marker_;  // under mu_; "" = hold after any answer
  std::atomic<size_t> downstream_{0};
  std::atomic<size_t> accepted_{0};
  std::mutex mu_;
  std::vector<std::shared_ptr<Conn>> conns_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace c2c::test
