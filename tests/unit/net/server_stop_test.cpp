// Graceful stop: in-flight requests finish (even when the handler answers late), idle
// connections close, no new connections, run() returns. Also SIGTERM with stop_on_signals.

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "c2c/net/http_client.hpp"
#include "net_test_support.hpp"

namespace c2c::net {
namespace {

using namespace test;

TEST(ServerStopTest, InFlightRequestFinishesIdleConnectionsClose) {
  std::promise<Responder> parked;
  TestServer server([&](Request req, Responder respond) {
    if (req.path == "/slow") {
      parked.set_value(std::move(respond));  // answered later, from the test thread
      return;
    }
    respond(Response{});
  });
  ASSERT_TRUE(server.ok());

  // An idle keep-alive connection (one request done) and a request whose answer is pending.
  RawSocket idle("127.0.0.1", server.port());
  ASSERT_TRUE(idle.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_FALSE(idle.read_response().empty());

  auto slow = std::async(std::launch::async, [&] {
    auto client = HttpClient::create(server.url());
    ClientRequest req;
    req.target = "/slow";
    return client->request(req);
  });
  auto responder = parked.get_future().get();

  server.server().stop();
  EXPECT_TRUE(idle.wait_closed(3s));
  // No new connections once stopping (the listening socket is closed).
  EXPECT_TRUE(eventually([&] {
    RawSocket probe("127.0.0.1", server.port());
    return !probe.connected() || probe.wait_closed(100ms);
  }));

  Response late;
  late.body = "finished after stop";
  responder(std::move(late));
  auto r = slow.get();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "finished after stop");
  bool close_header = false;
  for (const auto& h : r->headers) {
    if (h.name == "Connection" && h.value == "close") close_header = true;
  }
  EXPECT_TRUE(close_header);
  EXPECT_TRUE(server.stop_and_join(5s)) << "run() did not return after the last request";
  EXPECT_EQ(server.server().stats().open_connections, 0u);
}

TEST(ServerStopTest, RunWaitsForLateAnswerBeforeReturning) {
  std::promise<Responder> parked;
  TestServer server([&](Request, Responder respond) { parked.set_value(std::move(respond)); });
  ASSERT_TRUE(server.ok());
  RawSocket s("127.0.0.1", server.port());
  ASSERT_TRUE(s.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto responder = parked.get_future().get();
  server.server().stop();
  // While the answer is pending, run() must not return.
  EXPECT_FALSE(server.stop_and_join(200ms));
  std::thread answer([responder] { responder(Response{}); });
  std::string raw = s.read_response();
  answer.join();
  EXPECT_EQ(raw.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << raw;
  EXPECT_EQ(header_of(raw, "Connection"), "close");
}

TEST(ServerStopTest, StalledUploadDoesNotHoldUpStop) {
  ServerOptions o = TestServer::default_options();
  o.limits.read_timeout = 60s;  // only the stop grace period can end it quickly
  TestServer server([](Request, Responder respond) { respond(Response{}); }, o);
  ASSERT_TRUE(server.ok());
  RawSocket s("127.0.0.1", server.port());
  ASSERT_TRUE(s.send("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"));
  ASSERT_TRUE(eventually([&] { return server.server().stats().open_connections == 1; }));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(server.stop_and_join(5s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
  EXPECT_TRUE(s.wait_closed(1s));
}

TEST(ServerStopTest, SigtermStopsServerWhenAsked) {
  ServerOptions o = TestServer::default_options();
  o.stop_on_signals = true;
  TestServer server([](Request, Responder respond) { respond(Response{}); }, o);
  ASSERT_TRUE(server.ok());
  RawSocket s("127.0.0.1", server.port());
  ASSERT_TRUE(s.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_FALSE(s.read_response().empty());
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  EXPECT_TRUE(s.wait_closed(3s));
  EXPECT_TRUE(server.stop_and_join(5s));
}

}  // namespace
}  // namespace c2c::net

namespace c2c::net {
namespace {

using namespace test;

TEST(ServerStopTest, LateAnswerToAVanishedClientIsHarmless) {
  std::promise<Responder> parked;
  TestServer server([&](Request, Responder respond) { parked.set_value(std::move(respond)); });
  ASSERT_TRUE(server.ok());
  {
    RawSocket s("127.0.0.1", server.port());
    ASSERT_TRUE(s.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto responder = parked.get_future().get();
    s.close();  // the client gives up before the answer
    Response r;
    r.body = "nobody listens";
    responder(r);
    responder(r);  // a second answer is ignored
  }
  EXPECT_TRUE(eventually([&] { return server.server().stats().open_connections == 0; }));
  EXPECT_TRUE(server.stop_and_join(5s));
}

}  // namespace
}  // namespace c2c::net
