#pragma once
// HTTP/1.1 server on Boost.Beast/Asio C++20 coroutines: keep-alive, N threads, body and header
// limits, read/idle timeouts, connection caps (global and per client IP), optional TLS, graceful
// stop.
// Knows nothing of c2c's domain: it hands each request to a Handler.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "c2c/core/result.hpp"
#include "c2c/net/http_types.hpp"

namespace c2c::net {

struct ServerLimits {
  size_t max_body_bytes = 1 << 20;  // larger bodies get 413 payload_too_large
  size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds read_timeout{10'000};   // a request must arrive within this
  std::chrono::milliseconds idle_timeout{60'000};   // keep-alive connection idle limit
  std::chrono::milliseconds write_timeout{10'000};  // a response must be taken within this
  // At the global cap a new connection takes the place of the connection that has waited longest
  // for a request (a kept-alive or a silent new one); with none idle it is closed at once.
  size_t max_connections = 4096;
  // Connections one client IP may hold; more are closed at once, so a single client cannot fill
  // the global cap. 0 = no per-IP cap. Behind a reverse proxy every client has the proxy's IP.
  size_t max_connections_per_ip = 256;
  // Long-polls behind proxies: a request on one of `padded_paths` whose handler has not answered
  // after `pad_interval` gets the head of a 200 response (no Content-Length, Connection: close)
  // and then one space every `pad_interval` until the answer, whose body follows and ends with
  // the close. Leading spaces are valid JSON whitespace; the bytes keep a proxy's read timeout
  // (nginx: proxy_read_timeout) from cutting a long wait. An answer that is not 200 after the
  // head went out keeps its body ({"ok":false,...}) but not its status. 0 = never.
  std::chrono::milliseconds pad_interval{0};
  std::vector<std::string> padded_paths;
};

struct TlsFiles {
  std::string cert_path;  // PEM certificate chain
  std::string key_path;   // PEM private key
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7331;  // 0 = pick a free port (read it back from listen())
  int threads = 0;       // 0 = std::thread::hardware_concurrency()
  ServerLimits limits;
  std::optional<TlsFiles> tls;
  bool stop_on_signals = false;  // SIGINT/SIGTERM trigger a graceful stop
  // Called once when a stop begins, before waiting for in-flight requests: a handler holding
  // requests open (long-polls) answers them here, so the stop does not wait for them.
  std::function<void()> on_stop;
};

struct ServerStats {
  size_t open_connections = 0;
  uint64_t accepted_connections = 0;
  uint64_t rejected_connections = 0;  // closed at accept (either cap)
  uint64_t rejected_per_ip = 0;       // of which: the client IP was at its cap
  uint64_t evicted_idle = 0;          // idle connections closed to make room at the global cap
  // Connections in the middle of a request (from its first byte until the answer is written):
  // the ones a full server cannot evict.
  size_t busy_connections = 0;
  // Requests whose client closed the connection while the handler had not answered yet (a
  // long-poll whose client went away): the connection was closed at once, the answer dropped.
  uint64_t abandoned_requests = 0;
  // Keep-alive writes to waiting requests on padded paths (ServerLimits::pad_interval): the
  // head with the first space, then one per space.
  uint64_t padding_writes = 0;
};

class HttpServer {
 public:
  HttpServer(ServerOptions options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens. Returns the bound port (useful with port 0). kUnavailable on failure
  // (address in use, bad host, unreadable TLS files) with a readable message.
  Result<uint16_t> listen();
  // Serves until stop(); blocks the caller (which becomes one of the worker threads).
  // Returns after in-flight requests finished and all connections closed.
  void run();
  // Graceful stop: no new connections, in-flight requests finish, idle connections close.
  // Thread-safe; may be called from any thread (not from a signal handler: use
  // stop_on_signals for that).
  void stop();
  ServerStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace c2c::net
