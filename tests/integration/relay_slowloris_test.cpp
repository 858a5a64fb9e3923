// Slowloris: 1,000 connections that are idle (connected, nothing sent) or trickling (a request
// head one byte at a time) must not stop a normal client from being served. The test waits until
// the relay holds every connection (its /proc/<pid>/fd count), then times a normal client's
// requests; it asserts they all complete and prints the latencies (docs/reliability.md).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "relay_caller.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"

namespace c2c::itest {
namespace {

constexpr int kIdle = 500;
constexpr int kTrickle = 500;
constexpr int kSends = 100;

uint16_t port_of(const std::string& url) {
  return static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

// From 127.0.0.<source_host>: the attackers are spread over four loopback addresses, 250 each,
// under the relay's default per-IP connection cap (256), as many clients would be.
int connect_to(uint16_t port, int source_host) {
  const int fd = test::connect_loopback(port, source_host);
  if (fd >= 0) ::fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

TEST(RelaySlowloris, ThousandIdleOrTricklingConnectionsDoNotStarveANormalClient) {
  ASSERT_GE(raise_fd_limit(8192), static_cast<rlim_t>(kIdle + kTrickle + 256))
      << "cannot raise the open-file limit enough for this test";
  test::ProcessOptions env;
  env.unset_env = {"C2C_RELAY_TOKEN", "C2C_RELAY_PERSIST_DIR"};
  auto relay = test::start_relay({"--rate-limit", "off"}, env);
  const uint16_t port = port_of(relay.url);
  const long base_fds = count_fds(relay.child->pid());
  ASSERT_GT(base_fds, 0);

  std::vector<int> idle, trickle;
  for (int i = 0; i < kIdle + kTrickle; ++i) {
    const int fd = connect_to(port, 2 + i % 4);
    ASSERT_GE(fd, 0) << "connection " << i << " failed: " << std::strerror(errno);
    (i % 2 == 0 ? idle : trickle).push_back(fd);
  }
  // Readiness: the relay has accepted (holds a socket for) every connection.
  const auto accept_start = std::chrono::steady_clock::now();
  while (count_fds(relay.child->pid()) < base_fds + kIdle + kTrickle &&
         seconds_since(accept_start) < 20) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));  // no accept event to wait on
  }
  ASSERT_GE(count_fds(relay.child->pid()), base_fds + kIdle + kTrickle)
      << "the relay did not accept all connections";

  // Trickle a request head, one byte per connection per pass, while the normal client works.
  std::atomic<bool> stop{false};
  std::atomic<size_t> trickled{0};
  std::thread trickler([&] {
    const std::string head = "POST /send HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n";
    for (size_t pos = 0; !stop; pos = (pos + 1) % head.size()) {
      for (int fd : trickle) {
        if (::send(fd, &head[pos], 1, MSG_NOSIGNAL) == 1) ++trickled;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the attack's pace
    }
  });

  net::ClientOptions o;
  o.request_timeout = std::chrono::seconds(5);
  std::vector<double> ms;
  {
    Caller http(relay.url, o);
    auto timed = [&](auto&& fn) {
      const auto t = std::chrono::steady_clock::now();
      Answer a = fn();
      ms.push_back(seconds_since(t) * 1000);
      return a;
    };
    EXPECT_TRUE(timed([&] { return http.get("/health"); }).ok());
    EXPECT_TRUE(timed([&] {
                  return http.post("/register",
                                   {{"alias", "bob"}, {"node_id", "nb"}, {"session_id", "sb"}});
                }).ok());
    // ~1.5 s of requests, so the trickling goes on around every one of them.
    for (int i = 0; i < kSends; ++i) {
      EXPECT_TRUE(timed([&] {
                    return http.post("/send", {{"from_alias", "alice"},
                                               {"to_alias", "bob"},
                                               {"content", "m" + std::to_string(i)}});
                  }).ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(15));  // a normal client's pace
    }
    auto polled = timed([&] {
      return http.post("/poll_inbox", {{"node_id", "nb"}, {"session_id", "sb"}});
    });
    EXPECT_TRUE(polled.ok());
    EXPECT_EQ(polled.body["messages"].size(), static_cast<size_t>(kSends));
  }
  // A brand-new connection (not a reused keep-alive one) is also accepted and served.
  {
    Caller fresh(relay.url, o);
    const auto t = std::chrono::steady_clock::now();
    EXPECT_TRUE(fresh.get("/health").ok());
    ms.push_back(seconds_since(t) * 1000);
  }
  stop = true;
  trickler.join();
  EXPECT_GT(trickled.load(), 0u);
  for (int fd : idle) ::close(fd);
  for (int fd : trickle) ::close(fd);

  if (std::getenv("C2C_HARDENING_VERBOSE")) {
    for (double m : ms) std::printf("%.3f ", m);
    std::printf("\n");
  }
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  std::printf(
      "slowloris: %d idle + %d trickling connections held; normal client %zu requests: "
      "median %.2f ms, max %.2f ms\n",
      kIdle, kTrickle, sorted.size(), sorted[sorted.size() / 2], sorted.back());
  relay.child->signal(SIGTERM);
  EXPECT_EQ(relay.child->wait(std::chrono::seconds(20)), 0);
}

}  // namespace
}  // namespace c2c::itest
