#pragma once
// In-process HttpServer on port 0 plus a raw-socket client for what HttpClient cannot do
// (malformed requests, stalled uploads, idle connections). POSIX sockets only: tests never
// include Boost.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "c2c/net/http_server.hpp"

namespace c2c::net::test {

using namespace std::chrono_literals;

// Starts a server on 127.0.0.1 port 0 (unless options say otherwise) and runs it on a
// background thread; stops it and joins on destruction.
class TestServer {
 public:
  explicit TestServer(Handler handler, ServerOptions options = default_options());
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  static ServerOptions default_options();
  bool ok() const { return port_ != 0; }
  const std::string& listen_error() const { return error_; }
  uint16_t port() const { return port_; }
  std::string url() const;
  HttpServer& server() { return *server_; }
  // Requests a graceful stop and waits (bounded) for run() to return; false if it did not
  // (the server keeps running; call again).
  bool stop_and_join(std::chrono::milliseconds timeout = 5s);

 private:
  ServerOptions options_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::string error_;
  std::thread thread_;
  std::shared_ptr<std::atomic<bool>> finished_ = std::make_shared<std::atomic<bool>>(false);
};

// Polls cond every 5 ms until true or timeout.
bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 5s);

// A blocking TCP client socket (closed on destruction).
class RawSocket {
 public:
  // `source_ip` (IPv4): bind the client end to it first, e.g. 127.0.0.2 to act as a second
  // client address on loopback.
  RawSocket(const std::string& host, uint16_t port, const std::string& source_ip = "");
  ~RawSocket();
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& data);
  // Reads one HTTP response (head + Content-Length body); "" on close/timeout before that.
  std::string read_response(std::chrono::milliseconds timeout = 5s);
  // Everything received up to and including `needle` ("" on close/timeout before it).
  std::string read_until(const std::string& needle, std::chrono::milliseconds timeout = 5s);
  // True when the peer closes (EOF or reset) within timeout; buffered data is discarded.
  bool wait_closed(std::chrono::milliseconds timeout);
  void close();

 private:
  // Appends what arrives within the timeout; false on EOF/error/timeout.
  bool read_more(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string pending_;
};

// Value of a header in a raw response ("" if absent), case-insensitive name.
std::string header_of(const std::string& raw_response, const std::string& name);
std::string body_of(const std::string& raw_response);

}  // namespace c2c::net::test
