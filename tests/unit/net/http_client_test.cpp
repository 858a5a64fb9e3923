// HttpClient failure modes and connection reuse.

#include "c2c/net/http_client.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "net_test_support.hpp"

namespace c2c::net {
namespace {

using namespace test;

// A TCP socket bound to a free loopback port; listening or not.
class BoundPort {
 public:
  explicit BoundPort(bool listening) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    if (listening) ::listen(fd_, 16);
  }
  ~BoundPort() { ::close(fd_); }
  uint16_t port() const { return port_; }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST(HttpClientTest, ConnectionRefusedIsUnavailable) {
  BoundPort closed(/*listening=*/false);
  auto client = HttpClient::create("http://127.0.0.1:" + std::to_string(closed.port()));
  ASSERT_TRUE(client.has_value());
  auto r = client->request(ClientRequest{});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message, "cannot connect to http://127.0.0.1:" +
                                   std::to_string(closed.port()) + ": connection refused");
}

TEST(HttpClientTest, ServerThatNeverAnswersTimesOut) {
  // The kernel completes the handshake from the backlog; nobody ever reads or answers.
  BoundPort silent(/*listening=*/true);
  ClientOptions o;
  o.request_timeout = 300ms;
  auto client = HttpClient::create("http://127.0.0.1:" + std::to_string(silent.port()), o);
  ASSERT_TRUE(client.has_value());
  auto t0 = std::chrono::steady_clock::now();
  auto r = client->request(ClientRequest{});
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("timed out after 300 ms"), std::string::npos)
      << r.error().message;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
}

// A connector stops its receive stream with cancel() from another thread (SIGTERM). Whenever
// the cancel lands (before the request, while it connects, as it starts writing, while it
// waits for an answer), the request ends at once instead of at its deadline: a long-poll of
// 300 s once held a connector's shutdown that long.
TEST(HttpClientTest, ACancelFromAnotherThreadAlwaysEndsTheRequestAtOnce) {
  // A server that accepts every connection and never answers.
  BoundPort silent(/*listening=*/true);
  std::atomic<bool> done{false};
  std::vector<int> held;
  std::thread acceptor([&] {
    while (!done.load()) {
      pollfd p{silent.fd(), POLLIN, 0};
      if (::poll(&p, 1, 50) > 0) {
        const int fd = ::accept4(silent.fd(), nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) held.push_back(fd);
      }
    }
  });
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> delay_us(0, 400);
  constexpr int kRounds = 300;
  int slow = 0;
  for (int i = 0; i < kRounds; ++i) {
    ClientOptions o;
    o.request_timeout = 10s;
    auto client = HttpClient::create("http://127.0.0.1:" + std::to_string(silent.port()), o);
    ASSERT_TRUE(client.has_value());
    const auto wait = std::chrono::microseconds(delay_us(rng));
    std::thread canceller([&client, wait] {
      std::this_thread::sleep_for(wait);
      client->cancel();
    });
    const auto t0 = std::chrono::steady_clock::now();
    auto r = client->request(ClientRequest{});
    const auto took = std::chrono::steady_clock::now() - t0;
    canceller.join();
    ASSERT_FALSE(r.has_value()) << "round " << i;
    EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(r.error().message, "request cancelled");
    if (took > 2s) ++slow;
  }
  done = true;
  acceptor.join();
  for (const int fd : held) ::close(fd);
  EXPECT_EQ(slow, 0) << slow << " of " << kRounds << " cancelled requests ran to their deadline";
}

TEST(HttpClientTest, BadUrlIsRejectedAtCreate) {
  auto client = HttpClient::create("localhost:7331");
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().code, ErrorCode::kBadRequest);
}

TEST(HttpClientTest, SendsHostHeaderPrefixAndJsonContentType) {
  std::string host, content_type, target;
  TestServer server([&](Request req, Responder respond) {
    host = req.header("Host") ? *req.header("Host") : "";
    content_type = req.header("Content-Type") ? *req.header("Content-Type") : "";
    target = req.target;
    respond(Response{});
  });
  ASSERT_TRUE(server.ok());
  auto client = HttpClient::create(server.url() + "/relay/");
  ASSERT_TRUE(client.has_value());
  ClientRequest req;
  req.method = "POST";
  req.target = "/send?x=1";
  req.body = "{}";
  ASSERT_TRUE(client->request(req).has_value());
  EXPECT_EQ(host, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(content_type, "application/json");
  EXPECT_EQ(target, "/relay/send?x=1");
}

TEST(HttpClientTest, RetriesOnceWhenServerClosedTheKeptConnection) {
  ServerOptions o = TestServer::default_options();
  o.limits.idle_timeout = 100ms;
  TestServer server([](Request, Responder respond) { respond(Response{}); }, o);
  ASSERT_TRUE(server.ok());
  auto client = HttpClient::create(server.url());
  ASSERT_TRUE(client.has_value());
  ASSERT_TRUE(client->request(ClientRequest{}).has_value());
  // The server drops the idle connection; the client only finds out when it reuses it.
  ASSERT_TRUE(eventually([&] { return server.server().stats().open_connections == 0; }));
  auto r = client->request(ClientRequest{});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(server.server().stats().accepted_connections, 2u);
}

TEST(HttpClientTest, NonSuccessStatusIsStillAResponse) {
  TestServer server([](Request, Responder respond) {
    Response r;
    r.status = 429;
    r.headers.push_back({"Retry-After", "7"});
    r.body = R"({"ok":false})";
    respond(std::move(r));
  });
  ASSERT_TRUE(server.ok());
  auto client = HttpClient::create(server.url());
  auto r = client->request(ClientRequest{});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 429);
  bool retry_after = false;
  for (const auto& h : r->headers) retry_after |= (h.name == "Retry-After" && h.value == "7");
  EXPECT_TRUE(retry_after);
}

}  // namespace
}  // namespace c2c::net

namespace c2c::net {
namespace {

TEST(HttpClientTest, HeadResponseHasNoBodyAndConnectionStaysUsable) {
  test::TestServer server([](Request req, Responder respond) {
    Response r;
    r.body = "body of " + req.method;
    respond(std::move(r));
  });
  ASSERT_TRUE(server.ok());
  auto client = HttpClient::create(server.url());
  ASSERT_TRUE(client.has_value());
  ClientRequest head;
  head.method = "HEAD";
  auto h = client->request(head);
  ASSERT_TRUE(h.has_value()) << h.error().message;
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->body, "");
  auto g = client->request(ClientRequest{});
  ASSERT_TRUE(g.has_value()) << g.error().message;
  EXPECT_EQ(g->body, "body of GET");
  EXPECT_EQ(server.server().stats().accepted_connections, 1u);
}

}  // namespace
}  // namespace c2c::net
