// HttpServer happy paths: round trips through HttpClient and raw sockets, keep-alive,
// asynchronous handlers, HTTP/1.0, pipelining, IPv6.

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "c2c/net/http_client.hpp"
#include "net_test_support.hpp"

namespace c2c::net {
namespace {

using namespace test;

// Echoes what the server parsed, so tests can check the Request fields.
void echo(Request req, Responder respond) {
  Response res;
  res.content_type = "text/plain";
  const std::string* custom = req.header("x-custom");
  res.body = req.method + "|" + req.target + "|" + req.path + "|" + req.query + "|" +
             (custom ? *custom : "-") + "|" + req.remote_ip + "|" + (req.tls ? "tls" : "plain") +
             "|" + req.body;
  res.headers.push_back({"X-Echo", "1"});
  respond(std::move(res));
}

TEST(HttpServerTest, GetAndPostRoundTrip) {
  TestServer server(echo);
  ASSERT_TRUE(server.ok()) << server.listen_error();
  auto client = HttpClient::create(server.url());
  ASSERT_TRUE(client.has_value());

  ClientRequest get;
  get.target = "/list?include_dead=1";
  get.headers.push_back({"X-Custom", "abc"});
  auto r1 = client->request(get);
  ASSERT_TRUE(r1.has_value()) << r1.error().message;
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->content_type, "text/plain");
  EXPECT_EQ(r1->body, "GET|/list?include_dead=1|/list|include_dead=1|abc|127.0.0.1|plain|");

  ClientRequest post;
  post.method = "POST";
  post.target = "/send";
  post.body = R"({"to":"bob"})";
  auto r2 = client->request(post);
  ASSERT_TRUE(r2.has_value()) << r2.error().message;
  EXPECT_EQ(r2->body, R"(POST|/send|/send||-|127.0.0.1|plain|{"to":"bob"})");
  bool server_header = false, echo_header = false;
  for (const auto& h : r2->headers) {
    if (h.name == "Server" && h.value == "c2c") server_header = true;
    if (h.name == "X-Echo" && h.value == "1") echo_header = true;
  }
  EXPECT_TRUE(server_header);
  EXPECT_TRUE(echo_header);
}

TEST(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  TestServer server(echo);
  ASSERT_TRUE(server.ok());
  auto client = HttpClient::create(server.url());
  ASSERT_TRUE(client.has_value());
  for (int i = 0; i < 20; ++i) {
    ClientRequest req;
    req.target = "/n/" + std::to_string(i);
    auto r = client->request(req);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->body.substr(0, 8 + std::to_string(i).size()), "GET|/n/" + std::to_string(i) + "|");
  }
  EXPECT_EQ(server.server().stats().accepted_connections, 1u);
}

TEST(HttpServerTest, HandlerMayAnswerFromAnotherThread) {
  std::mutex mu;
  std::vector<std::thread> workers;
  TestServer server([&](Request req, Responder respond) {
    std::lock_guard lock(mu);
    workers.emplace_back([req = std::move(req), respond] {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // simulated commit latency
      Response res;
      res.body = "late:" + req.body;
      respond(std::move(res));
    });
  });
  ASSERT_TRUE(server.ok());
  auto client = HttpClient::create(server.url());
  ASSERT_TRUE(client.has_value());
  for (int i = 0; i < 5; ++i) {
    ClientRequest req;
    req.method = "POST";
    req.body = std::to_string(i);
    auto r = client->request(req);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->body, "late:" + std::to_string(i));
  }
  EXPECT_EQ(server.server().stats().accepted_connections, 1u);
  std::lock_guard lock(mu);
  for (auto& t : workers) t.join();
}

TEST(HttpServerTest, DroppedResponderBecomes500AndThrowingHandlerToo) {
  TestServer server([](Request req, Responder respond) {
    if (req.path == "/throw") throw std::runtime_error("boom");
    (void)respond;  // dropped without answering
  });
  ASSERT_TRUE(server.ok());
  auto client = HttpClient::create(server.url());
  ASSERT_TRUE(client.has_value());
  auto dropped = client->request(ClientRequest{});
  ASSERT_TRUE(dropped.has_value()) << dropped.error().message;
  EXPECT_EQ(dropped->status, 500);
  EXPECT_NE(dropped->body.find("internal_error"), std::string::npos);
  ClientRequest t;
  t.target = "/throw";
  auto thrown = client->request(t);
  ASSERT_TRUE(thrown.has_value()) << thrown.error().message;
  EXPECT_EQ(thrown->status, 500);
  EXPECT_NE(thrown->body.find("boom"), std::string::npos);
}

TEST(HttpServerTest, Http10ClosesUnlessKeepAliveAsked) {
  TestServer server(echo);
  ASSERT_TRUE(server.ok());
  RawSocket once("127.0.0.1", server.port());
  ASSERT_TRUE(once.send("GET /a HTTP/1.0\r\n\r\n"));
  std::string r = once.read_response();
  EXPECT_EQ(r.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << r;
  EXPECT_EQ(header_of(r, "Connection"), "close");
  EXPECT_TRUE(once.wait_closed(2s));

  RawSocket kept("127.0.0.1", server.port());
  ASSERT_TRUE(kept.send("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  std::string r2 = kept.read_response();
  EXPECT_EQ(header_of(r2, "Connection"), "keep-alive");
  ASSERT_TRUE(kept.send("GET /c HTTP/1.0\r\n\r\n"));
  EXPECT_EQ(body_of(kept.read_response()).substr(0, 7), "GET|/c|");
}

// Response::events: the head without Content-Length, then the producer's events as they come,
// and the connection closes when the producer ends the stream.
TEST(HttpServerTest, EventStreamWritesEventsUntilTheProducerEndsIt) {
  TestServer server([](const Request&, const Responder& respond) {
    Response res;
    res.content_type = "text/event-stream";
    res.events = std::make_shared<EventStream>();
    res.events->interval = std::chrono::milliseconds(20);
    auto n = std::make_shared<int>(0);
    res.events->next_event = [n] {
      return ++*n <= 3 ? "data: " + std::to_string(*n) + "\n\n" : std::string();
    };
    respond(std::move(res));
  });
  ASSERT_TRUE(server.ok());
  RawSocket s("127.0.0.1", server.port());
  ASSERT_TRUE(s.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string got = s.read_until("data: 3\n\n");
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
  EXPECT_EQ(header_of(got, "Content-Type"), "text/event-stream");
  EXPECT_EQ(header_of(got, "Content-Length"), "") << "an event stream has no length";
  EXPECT_EQ(header_of(got, "Connection"), "close");
  const std::string body = got.substr(got.find("\r\n\r\n") + 4);
  EXPECT_EQ(body, "data: 1\n\ndata: 2\n\ndata: 3\n\n");
  EXPECT_TRUE(s.wait_closed(2s)) << "the end of the stream closes the connection";
}

// A stream that would go on forever ends when the server stops (within one interval).
TEST(HttpServerTest, EventStreamEndsWhenTheServerStops) {
  auto server = std::make_unique<TestServer>([](const Request&, const Responder& respond) {
    Response res;
    res.content_type = "text/event-stream";
    res.events = std::make_shared<EventStream>();
    res.events->interval = std::chrono::milliseconds(50);
    res.events->next_event = [] { return std::string("data: tick\n\n"); };
    respond(std::move(res));
  });
  ASSERT_TRUE(server->ok());
  RawSocket s("127.0.0.1", server->port());
  ASSERT_TRUE(s.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_FALSE(s.read_until("data: tick\n\ndata: tick\n\n").empty()) << "events keep coming";
  server.reset();  // stops the server
  EXPECT_TRUE(s.wait_closed(5s));
}

// ServerLimits::padded_paths: a long-poll that waits gets the head and a space every
// pad_interval (what keeps a proxy's read timeout from cutting it), then its body, then the
// close; the same wait on another path gets an ordinary response with a length.
TEST(HttpServerTest, AWaitingAnswerOnAPaddedPathIsKeptAliveWithSpaces) {
  std::mutex mu;
  std::vector<Responder> waiting;
  auto options = TestServer::default_options();
  options.limits.pad_interval = std::chrono::milliseconds(20);
  options.limits.padded_paths = {"/stream"};
  TestServer server(
      [&](const Request&, Responder respond) {
        std::lock_guard lock(mu);
        waiting.push_back(std::move(respond));
      },
      options);
  ASSERT_TRUE(server.ok());
  auto answer = [&](const std::string& body) {
    std::lock_guard lock(mu);
    Response res;
    res.body = body;
    waiting.back()(std::move(res));
  };

  RawSocket s("127.0.0.1", server.port());
  ASSERT_TRUE(s.send("POST /stream?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"));
  const std::string early = s.read_until("\r\n\r\n   ");  // the head, then three spaces
  ASSERT_FALSE(early.empty()) << "no keep-alive bytes while the answer waits";
  EXPECT_EQ(early.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << early;
  EXPECT_EQ(header_of(early, "Content-Length"), "");
  EXPECT_EQ(header_of(early, "Connection"), "close");
  EXPECT_TRUE(eventually([&] { return server.server().stats().padding_writes >= 3u; }));
  answer(R"({"ok":true})");
  const std::string rest = s.read_until("{\"ok\":true}");
  ASSERT_FALSE(rest.empty());
  EXPECT_TRUE(s.wait_closed(2s)) << "the close ends the padded body";
  const std::string all = early + rest;
  const std::string body = all.substr(all.find("\r\n\r\n") + 4);
  EXPECT_EQ(body.find_first_not_of(' '), body.find('{')) << "only spaces before the JSON";

  // Through HttpClient (what the connector uses): leading spaces, then the JSON.
  auto client = HttpClient::create(server.url());
  ASSERT_TRUE(client.has_value());
  std::thread late([&] {
    ASSERT_TRUE(eventually([&] { return server.server().stats().padding_writes >= 6u; }));
    answer(R"({"ok":true,"n":2})");
  });
  ClientRequest req;
  req.method = "POST";
  req.target = "/stream";
  req.body = "{}";
  auto r = client->request(req);
  late.join();
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.substr(r->body.find('{')), R"({"ok":true,"n":2})");

  // Another path waits without padding and keeps its length.
  const uint64_t writes = server.server().stats().padding_writes;
  RawSocket plain("127.0.0.1", server.port());
  ASSERT_TRUE(plain.send("POST /other HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return waiting.size() == 3u;
  }));
  answer(R"({"ok":false})");
  const std::string other = plain.read_response();
  EXPECT_EQ(header_of(other, "Content-Length"), "12") << other;
  EXPECT_EQ(body_of(other), R"({"ok":false})");
  EXPECT_EQ(server.server().stats().padding_writes, writes);
}

TEST(HttpServerTest, PipelinedRequestsAnsweredInOrder) {
  TestServer server(echo);
  ASSERT_TRUE(server.ok());
  RawSocket s("127.0.0.1", server.port());
  ASSERT_TRUE(
      s.send("GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\n"
             "Content-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(body_of(s.read_response()).substr(0, 6), "GET|/1");
  std::string second = body_of(s.read_response());
  EXPECT_EQ(second.substr(0, 7), "POST|/2");
  EXPECT_EQ(second.substr(second.size() - 4), "|abc");
  EXPECT_EQ(body_of(s.read_response()).substr(0, 6), "GET|/3");
}

TEST(HttpServerTest, ChunkedRequestBodyAndHeadRequests) {
  TestServer server(echo);
  ASSERT_TRUE(server.ok());
  RawSocket s("127.0.0.1", server.port());
  ASSERT_TRUE(
      s.send("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  std::string body = body_of(s.read_response());
  EXPECT_EQ(body.substr(body.size() - 6), "|abcde");
  ASSERT_TRUE(s.send("HEAD /h HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n"));
  // A HEAD response announces the length but carries no body: the next response follows.
  std::string raw = s.read_until("GET|/after");
  auto head_end = raw.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos) << raw;
  EXPECT_NE(header_of(raw, "Content-Length"), "0");
  EXPECT_EQ(raw.substr(head_end + 4, 17), "HTTP/1.1 200 OK\r\n") << raw;
}

TEST(HttpServerTest, ServesIpv6Loopback) {
  ServerOptions o = TestServer::default_options();
  o.host = "::1";
  TestServer server(echo, o);
  if (!server.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << server.listen_error();
  auto client = HttpClient::create(server.url());
  ASSERT_TRUE(client.has_value());
  EXPECT_EQ(client->url().host, "::1");
  auto r = client->request(ClientRequest{});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->body, "GET|/|/||-|::1|plain|");
}

TEST(HttpServerTest, ListenFailsReadablyWhenPortTaken) {
  TestServer first(echo);
  ASSERT_TRUE(first.ok());
  ServerOptions o = TestServer::default_options();
  o.port = first.port();
  HttpServer second(o, echo);
  auto r = second.listen();
  // reuse_address does not allow two listeners on one port.
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("cannot listen on 127.0.0.1:" + std::to_string(first.port())),
            std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace c2c::net
