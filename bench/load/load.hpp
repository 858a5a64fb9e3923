#pragma once
// c2c_load: N keep-alive HTTP/1.1 connections hammering one URL for a bounded time and count.
// Plain http only (loopback benchmarks). See docs/performance/http.md for flags and figures.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "c2c/core/result.hpp"
#include "c2c/crypto/identity.hpp"

namespace c2c::load {

struct LoadOptions {
  std::string url;  // http://host:port/path?query
  std::string method = "GET";
  std::string body;                  // "{id}" is replaced by a fresh UUID-shaped id per request
  size_t slots = 1;                  // "{slot}" cycles through 0 .. slots-1, request by request
  std::vector<std::string> headers;  // "Name: value"
  int connections = 32;
  int threads = 1;
  std::chrono::milliseconds duration{10'000};
  uint64_t max_requests = 1'000'000;
  std::chrono::milliseconds timeout{5'000};  // per request (connect, write, read)
  int idle_connections = 0;                  // extra connections that send half a request and stall
  bool json = false;
  // Per-request Ed25519 signing (Authorization: Ed25519 ...) over the exact body.
  std::optional<crypto::Identity> sign_identity;
  std::string sign_alias;
  // Build (and sign) every request before the clock starts, so the client's signing cost
  // (~19 us per Ed25519 signature) does not compete with the server for CPU.
  bool presign = false;

  // Derived from url.
  std::string host;
  uint16_t port = 0;
  std::string target;  // path + "?" + query
  std::string path;
  std::string query;
};

// Parses argv; on --help prints usage and returns an error with an empty message.
Result<LoadOptions> parse_options(int argc, char** argv);

struct ThreadStats {
  std::vector<uint32_t> latencies_us;  // successful responses only
  std::map<int, uint64_t> status;
  std::map<std::string, uint64_t> errors;  // by reason
  uint64_t ok_false = 0;  // responses whose body says "ok":false (c2c's semantic failures)
  uint64_t connects = 0;
};

struct LoadResult {
  ThreadStats totals;
  std::chrono::duration<double> elapsed{};
  int idle_opened = 0;
  int idle_closed_by_server = 0;
};

LoadResult run_load(const LoadOptions& options);

std::string format_text(const LoadOptions& options, const LoadResult& result);
std::string format_json(const LoadOptions& options, const LoadResult& result);

}  // namespace c2c::load
