#pragma once
// c2c's own HTTP request/response values. Everything above net/ (router, relay service,
// clients) sees only these; no Beast or Asio type crosses this header.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace c2c::net {

struct Header {
  std::string name;
  std::string value;
};

struct Request {
  std::string method;  // "GET", "POST", ... (upper-case)
  std::string target;  // raw request-target, e.g. "/list?include_dead=1"
  std::string path;    // target before '?'
  std::string query;   // target after '?', raw ("" when absent)
  std::vector<Header> headers;
  std::string body;
  std::string remote_ip;  // peer address (rate limiting keys on it)
  bool tls = false;

  // Case-insensitive lookup; nullptr when absent.
  const std::string* header(std::string_view name) const;
};

// A body of server-sent events (text/event-stream): after the head the server writes
// next_event() at once and then every `interval`, until it returns "", the client goes away,
// the server stops, or `max_duration` has passed (the client reconnects); then it closes the
// connection. next_event runs on the connection's I/O thread.
struct EventStream {
  std::chrono::milliseconds interval{500};
  std::chrono::milliseconds max_duration{std::chrono::minutes(10)};
  std::function<std::string()> next_event;  // one "data: ...\n\n" block; "" ends the stream
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<Header> headers;  // extra headers (e.g. Retry-After)
  std::string body;
  std::shared_ptr<EventStream> events;  // set: the body is this event stream, not `body`
};

// Called exactly once per request, from any thread; the server writes the response on the
// connection's own executor.
using Responder = std::function<void(Response)>;
// The application's entry point. It may answer inline (call the responder before returning)
// or later from another thread (e.g. after a database commit).
using Handler = std::function<void(Request, Responder)>;

}  // namespace c2c::net
