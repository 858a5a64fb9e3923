#pragma once
// HTTP/1.1 server on Boost.Beast/Asio C++20 coroutines: keep-alive, N threads, body and header
// limits, read/idle timeouts, a connection cap, optional TLS, graceful stop.
// Knows nothing of c2c's domain: it hands each request to a Handler.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "c2c/core/result.hpp"
#include "c2c/net/http_types.hpp"

namespace c2c::net {

struct ServerLimits {
  size_t max_body_bytes = 1 << 20;  // larger bodies get 413 payload_too_large
  size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds read_timeout{10'000};   // a request must arrive within this
  std::chrono::milliseconds idle_timeout{60'000};   // keep-alive connection idle limit
  std::chrono::milliseconds write_timeout{10'000};  // a response must be taken within this
  size_t max_connections = 4096;                    // accepts beyond this are closed at once
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
};

struct ServerStats {
  size_t open_connections = 0;
  uint64_t accepted_connections = 0;
  uint64_t rejected_connections = 0;
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
